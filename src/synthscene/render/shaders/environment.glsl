// synthscene's environment light (image-based lighting), pasted into mesh.frag and
// environment.frag by `#include` (render/gl.py's shader_source). What the maps hold and why
// (9 spherical-harmonic coefficients for the diffuse light, Ramamoorthi and Hanrahan 2001;
// a prefiltered mip chain and a BRDF table for the specular light, Karis 2013's split sum):
// render/environment.py. The equirectangular layout (z up; u = azimuth from +x towards +y,
// centre column +x; v = polar angle from +z, top row up) is the one of
// assets/environment_files.py. The spherical harmonics and the map's turn are in
// environment_sh.glsl, included first.
#ifdef USE_ENVIRONMENT
#ifdef ENV_VERTEX_IRRADIANCE
in vec3 env_vertex_irradiance;  // mesh.vert
#endif
uniform float env_intensity;    // multiplies the map's radiance
uniform sampler2D env_specular; // prefiltered chain, octahedral: mip level k is roughness k / env_max_lod
uniform sampler2D env_brdf_lut; // (n.v, roughness) -> (A, B, C), render/environment.py
uniform float env_max_lod;

// The equirectangular map's texture coordinates of direction d (the background).
vec2 env_uv(vec3 d)
{
    return vec2(atan(d.y, d.x) / (2.0 * PI) + 0.5, acos(clamp(d.z, -1.0, 1.0)) / PI);
}

// The octahedral chain's texture coordinates of direction d (render/octahedral.py: Cigolle et
// al. 2014, listing 1; no arc tangent or arc cosine per pixel).
vec2 env_octahedral_uv(vec3 d)
{
    vec2 p = d.xy / (abs(d.x) + abs(d.y) + abs(d.z));
    if (d.z < 0.0) {
        p = (1.0 - abs(p.yx)) * vec2(d.x >= 0.0 ? 1.0 : -1.0, d.y >= 0.0 ? 1.0 : -1.0);
    }
    return p * 0.5 + 0.5;
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
#ifdef ENV_VERTEX_IRRADIANCE
    vec3 irradiance = env_vertex_irradiance;  // mesh.vert: per vertex, interpolated
#else
    vec3 irradiance = max(env_irradiance(n), vec3(0.0));
#endif
    diffuse = env_intensity * c_diff * (1.0 - f0) * (1.0 - abc.z) * irradiance / PI;
    vec3 r = env_direction(reflect(-v, n));
    vec3 radiance = textureLod(env_specular, env_octahedral_uv(r), roughness * env_max_lod).rgb;
    specular = env_intensity * radiance * (f0 * abc.x + abc.y);
}
#endif
