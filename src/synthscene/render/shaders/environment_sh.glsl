// synthscene's environment light: the diffuse part's spherical harmonics and the map's turn,
// pasted by `#include` into mesh.frag and environment.frag (before environment.glsl) and into
// mesh.vert, which evaluates the irradiance per vertex when the program is built with
// ENV_VERTEX_IRRADIANCE (render/color_pass.py: a mesh with vertex normals and no normal
// texture; the irradiance is a quadratic in the normal, so across a triangle of a faceted or
// finely tessellated mesh the interpolated value is the per-pixel one, and a fragment of a
// small triangle no longer pays for it).
#ifdef USE_ENVIRONMENT
uniform vec3 env_sh[9];         // radiance coefficients L00, L1-1, L10, L11, L2-2, L2-1, L20, L21, L22
uniform vec2 env_rotation;      // (cos, sin) of the map's turn about +z

// A world direction in the map's frame (the map turned by the rotation about +z).
vec3 env_direction(vec3 d)
{
    return vec3(env_rotation.x * d.x + env_rotation.y * d.y,
                -env_rotation.y * d.x + env_rotation.x * d.y, d.z);
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
#endif
