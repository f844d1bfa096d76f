// synthscene's environment light (image-based lighting), pasted into mesh.frag and
// environment.frag by `#include` (render/gl.py's shader_source). What the maps hold and why
// (9 spherical-harmonic coefficients for the diffuse light, Ramamoorthi and Hanrahan 2001;
// a prefiltered mip chain and a BRDF table for the specular light, Karis 2013's split sum):
// render/environment.py. The equirectangular layout (z up; u = azimuth from +x towards +y,
// centre column +x; v = polar angle from +z, top row up) is the one of
// assets/environment_files.py.
#ifdef USE_ENVIRONMENT
uniform vec3 env_sh[9];         // radiance coefficients L00, L1-1, L10, L11, L2-2, L2-1, L20, L21, L22
uniform float env_intensity;    // multiplies the map's radiance
uniform vec2 env_rotation;      // (cos, sin) of the map's turn about +z
uniform sampler2D env_specular; // prefiltered chain: mip level k is roughness k / env_max_lod
uniform sampler2D env_brdf_lut; // (n.v, roughness) -> (A, B, C), render/environment.py
uniform float env_max_lod;

// A world direction in the map's frame (the map turned by the rotation about +z).
vec3 env_direction(vec3 d)
{
    return vec3(env_rotation.x * d.x + env_rotation.y * d.y,
                -env_rotation.y * d.x + env_rotation.x * d.y, d.z);
}

vec2 env_uv(vec3 d)
{
    return vec2(atan(d.y, d.x) / (2.0 * PI) + 0.5, acos(clamp(d.z, -1.0, 1.0)) / PI);
}

// Irradiance at normal n (world), Ramamoorthi and Hanrahan 2001, eq. 13.
vec3 env_irradiance(vec3 n_world)
{
    vec3 n = env_direction(n_world);
    const float c1 = 0.429043, c2 = 0.511664, c3 = 0.743125, c4 = 0.886227, c5 = 0.247708;
    return c1 * env_sh[8] * (n.x * n.x - n.y * n.y) + c3 * env_sh[6] * n.z * n.z
        + c4 * env_sh[0] - c5 * env_sh[6]
        + 2.0 * c1 * (env_sh[4] * n.x * n.y + env_sh[7] * n.x * n.z + env_sh[5] * n.y * n.z)
        + 2.0 * c2 * (env_sh[3] * n.x + env_sh[1] * n.y + env_sh[2] * n.z);
}

// The environment's two terms at a surface point, one table lookup for both.
// Diffuse: c_diff / pi times the irradiance, weighted by the hemispherical mean of the
// (1 - F) of the punctual lights' BRDF, (1 - f0) (1 - C(n.v)).
// Specular: the prefiltered radiance about the mirror direction times f0 A + B.
void environment_terms(vec3 n, vec3 v, float roughness, vec3 c_diff, vec3 f0,
                       out vec3 diffuse, out vec3 specular)
{
    float nv = clamp(abs(dot(n, v)), 0.001, 1.0);
    vec3 abc = texture(env_brdf_lut, vec2(nv, roughness)).rgb
        * vec3(1.0, 1.0 / 4.0, 1.0 / 32.0);  // environment_gl.py's LUT_SCALE
    vec3 irradiance = max(env_irradiance(n), vec3(0.0));
    diffuse = env_intensity * c_diff * (1.0 - f0) * (1.0 - abc.z) * irradiance / PI;
    vec3 r = env_direction(reflect(-v, n));
    vec3 radiance = textureLod(env_specular, env_uv(r), roughness * env_max_lod).rgb;
    specular = env_intensity * radiance * (f0 * abc.x + abc.y);
}
#endif
