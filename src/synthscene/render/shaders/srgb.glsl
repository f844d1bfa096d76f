// synthscene: the output encoding of the lit and environment shaders, pasted in by
// `#include` (render/gl.py's shader_source). Linear RGB in [0, 1] to sRGB (IEC 61966-2-1: a
// linear segment below 0.0031308, else 1.055 x^(1/2.4) - 0.055), the inverse of
// fragment_io.glsl's srgb_to_linear; pyrender's shaders use x^(1/2.2) instead.
vec3 linear_to_srgb(vec3 x)
{
    x = clamp(x, 0.0, 1.0);
    vec3 high = step(vec3(0.0031308), x);
    return mix(x * 12.92, 1.055 * pow(x, vec3(1.0 / 2.4)) - 0.055, high);
}
