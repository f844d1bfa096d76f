// synthscene's ambient occlusion in the lit shader (render/occlusion.py), pasted into mesh.frag
// by `#include`: ambient_visibility() is the fraction of the ambient (and environment) light
// that reaches the fragment, 1 without the AMBIENT_OCCLUSION define. With it, the half-
// resolution visibility image of the occlusion pass (depth-aware blurred) is read with
// bilinear filtering at the fragment (shifted by the half texel ao_blur.frag moves it).
#ifdef AMBIENT_OCCLUSION
uniform sampler2D ao_map;       // visibility in r, half resolution, bilinear
uniform vec4 ao_scale;          // 1 / the viewport's size in pixels, -0.5 / ao_map's size
float ambient_visibility()
{
    return texture(ao_map, gl_FragCoord.xy * ao_scale.xy + ao_scale.zw).r;
}
#else
float ambient_visibility()
{
    return 1.0;
}
#endif
