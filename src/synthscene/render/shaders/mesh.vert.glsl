// Adapted from pyrender 0.1.45, shaders/mesh.vert and flat.vert (https://github.com/mmatl/pyrender).
// pyrender's MIT licence: PYRENDER_LICENSE in this folder.
//
// Also the vertex shader of flat.frag (pyrender's flat.vert is this file but for the normal
// matrix, which INVERSE_NORMAL_MATRIX restores).
// synthscene's edits: the normal matrix is the model matrix itself (synthscene draws
// rotation-times-uniform-scale models), not transpose(inverse(M)) per vertex; with
// ENV_VERTEX_IRRADIANCE, the environment's irradiance per vertex (environment_sh.glsl); with
// SHADOW_VERTEX_CLIP, the position and normal in each shadow map's clip space (shadows.glsl).
#version 330 core

// Vertex Attributes
layout(location = 0) in vec3 position;
#ifdef NORMAL_LOC
layout(location = NORMAL_LOC) in vec3 normal;
#endif
#ifdef TANGENT_LOC
layout(location = TANGENT_LOC) in vec4 tangent;
#endif
#ifdef TEXCOORD_0_LOC
layout(location = TEXCOORD_0_LOC) in vec2 texcoord_0;
#endif
#ifdef TEXCOORD_1_LOC
layout(location = TEXCOORD_1_LOC) in vec2 texcoord_1;
#endif
#ifdef COLOR_0_LOC
layout(location = COLOR_0_LOC) in vec4 color_0;
#endif
#ifdef JOINTS_0_LOC
layout(location = JOINTS_0_LOC) in vec4 joints_0;
#endif
#ifdef WEIGHTS_0_LOC
layout(location = WEIGHTS_0_LOC) in vec4 weights_0;
#endif
layout(location = INST_M_LOC) in mat4 inst_m;

// Uniforms
uniform mat4 M;
uniform mat4 V;
uniform mat4 P;

// Outputs
out vec3 frag_position;
#ifdef NORMAL_LOC
out vec3 frag_normal;
#endif
#ifdef HAS_NORMAL_TEX
#ifdef TANGENT_LOC
#ifdef NORMAL_LOC
out mat3 tbn;
#endif
#endif
#endif
#ifdef TEXCOORD_0_LOC
out vec2 uv_0;
#endif
#ifdef TEXCOORD_1_LOC
out vec2 uv_1;
#endif
#ifdef COLOR_0_LOC
out vec4 color_multiplier;
#endif
#ifdef SHADOW_VERTEX_CLIP
uniform mat4 shadow_matrices[SHADOW_LAYER_COUNT];     // shadows.glsl
out vec4 shadow_clip[SHADOW_LAYER_COUNT];
out vec4 shadow_clip_normal[SHADOW_LAYER_COUNT];
#endif
#ifdef ENV_VERTEX_IRRADIANCE
#include "environment_sh.glsl"
out vec3 env_vertex_irradiance;  // environment.glsl
#endif


void main()
{
    gl_Position = P * V * M * inst_m * vec4(position, 1);
    frag_position = vec3(M * inst_m * vec4(position, 1.0));

#ifdef INVERSE_NORMAL_MATRIX
    mat4 N = transpose(inverse(M * inst_m));
#else
    mat4 N = M * inst_m;
#endif

#ifdef NORMAL_LOC
    frag_normal = normalize(vec3(N * vec4(normal, 0.0)));
#endif

#ifdef HAS_NORMAL_TEX
#ifdef TANGENT_LOC
#ifdef NORMAL_LOC
    vec3 normal_w = normalize(vec3(N * vec4(normal, 0.0)));
    vec3 tangent_w = normalize(vec3(N * vec4(tangent.xyz, 0.0)));
    vec3 bitangent_w = cross(normal_w, tangent_w) * tangent.w;
    tbn = mat3(tangent_w, bitangent_w, normal_w);
#endif
#endif
#endif
#ifdef TEXCOORD_0_LOC
    uv_0 = texcoord_0;
#endif
#ifdef TEXCOORD_1_LOC
    uv_1 = texcoord_1;
#endif
#ifdef COLOR_0_LOC
    color_multiplier = color_0;
#endif
#ifdef ENV_VERTEX_IRRADIANCE
    env_vertex_irradiance = max(env_irradiance(frag_normal), vec3(0.0));
#endif
#ifdef SHADOW_VERTEX_CLIP
    for (int k = 0; k < SHADOW_LAYER_COUNT; k++) {
        shadow_clip[k] = shadow_matrices[k] * vec4(frag_position, 1.0);
        shadow_clip_normal[k] = shadow_matrices[k] * vec4(frag_normal, 0.0);
    }
#endif
}
