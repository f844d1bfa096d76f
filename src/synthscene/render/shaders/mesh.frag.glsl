// Adapted from pyrender 0.1.45, shaders/mesh.frag (https://github.com/mmatl/pyrender).
// pyrender's MIT licence: PYRENDER_LICENSE in this folder.
//
// synthscene's edits: Schlick's Fresnel term multiplied out instead of a pow; point and spot
// lights in one loop (a point light is a spot light without a cone: see PositionalLight);
// light loops bounded by compile-time counts when the program is built for them; with the
// label-outputs define, the instance id and the camera-z depth written to colour attachments 1
// and 2; with USE_ENVIRONMENT, the environment light of environment.glsl (two named terms);
// with the shadow-map define, each light's term multiplied by its shadow lookup (shadows.glsl),
// in place of pyrender's own shadow-map code (its per-light samplers, shadow_calc and PCF),
// which is left out; the output encoded as exact sRGB (srgb.glsl) instead of x^(1/2.2).
// The ambient and environment terms are multiplied by ambient_visibility() (occlusion.glsl:
// screen-space ambient occlusion; 1 without the AMBIENT_OCCLUSION define).
#version 330 core
///////////////////////////////////////////////////////////////////////////////
// Structs
///////////////////////////////////////////////////////////////////////////////

// synthscene: pyrender's point and spot lights in one array and one loop (its spot light's
// terms): a point light is a spot light whose cone factor is 1 (light_angle_scale 0,
// light_angle_offset 1, direction 0), so its term is pyrender's point term, intensity over the
// squared distance. Programs then vary with the counts of directional and positional lights,
// not of three kinds.
struct PositionalLight {
    vec3 color;
    float intensity;
    float range;
    vec3 position;
    vec3 direction;
    float light_angle_scale;
    float light_angle_offset;
};

struct DirectionalLight {
    vec3 color;
    float intensity;
    vec3 direction;
};

#include "material.glsl"
struct PBRInfo {
    float nl;
    float nv;
    float nh;
    float lh;
    float vh;
    float roughness;
    float metallic;
    vec3 f0;
    vec3 c_diff;
};

///////////////////////////////////////////////////////////////////////////////
// Uniforms
///////////////////////////////////////////////////////////////////////////////
uniform Material material;
uniform DirectionalLight directional_lights[MAX_DIRECTIONAL_LIGHTS];
uniform int n_directional_lights;
uniform PositionalLight positional_lights[MAX_POSITIONAL_LIGHTS];
uniform int n_positional_lights;
#ifndef N_DIRECTIONAL_LIGHTS
#define N_DIRECTIONAL_LIGHTS n_directional_lights
#endif
#ifndef N_POSITIONAL_LIGHTS
#define N_POSITIONAL_LIGHTS n_positional_lights
#endif
uniform vec3 cam_pos;
uniform vec3 ambient_light;
#include "fragment_io.glsl"
#include "occlusion.glsl"
#include "srgb.glsl"
// Normal computation
vec3 get_normal()
{
#ifdef HAS_NORMAL_TEX

#ifndef HAS_TANGENTS
    vec3 pos_dx = dFdx(frag_position);
    vec3 pos_dy = dFdy(frag_position);
    vec3 tex_dx = dFdx(vec3(uv_0, 0.0));
    vec3 tex_dy = dFdy(vec3(uv_0, 0.0));
    vec3 t = (tex_dy.t * pos_dx - tex_dx.t * pos_dy) / (tex_dx.s * tex_dy.t - tex_dy.s * tex_dx.t);

#ifdef NORMAL_LOC
    vec3 ng = normalize(frag_normal);
#else
    vec3 = cross(pos_dx, pos_dy);
#endif

    t = normalize(t - ng * dot(ng, t));
    vec3 b = normalize(cross(ng, t));
    mat3 tbn_n = mat3(t, b, ng);

#else

    mat3 tbn_n = tbn;

#endif

    vec3 n = texture(material.normal_texture, uv_0).rgb;
    n = normalize(tbn_n * ((2.0 * n - 1.0) * vec3(1.0, 1.0, 1.0)));
    return n; // TODO NORMAL MAPPING

#else

#ifdef NORMAL_LOC
    return frag_normal;
#else
    return normalize(cam_pos - frag_position);
#endif

#endif
}

// Fresnel
vec3 specular_reflection(PBRInfo info)
{
     float x = clamp(1.0 - info.vh, 0.0, 1.0);
     float x2 = x * x;
     vec3 res = info.f0 + (1.0 - info.f0) * (x2 * x2 * x);
     return res;
}

// Smith
float geometric_occlusion(PBRInfo info)
{
    float r = info.roughness + 1.0;
    float k = r * r  / 8.0;
    float g1 = info.nv / (info.nv * (1.0 - k) + k);
    float g2 = info.nl / (info.nl * (1.0 - k) + k);
    //float k = info.roughness * sqrt(2.0 / PI);
    //float g1 = info.lh / (info.lh * (1.0 - k) + k);
    //float g2 = info.nh / (info.nh * (1.0 - k) + k);
    return g1 * g2;
}

float microfacet_distribution(PBRInfo info)
{
    float a = info.roughness * info.roughness;
    float a2 = a * a;
    float nh2 = info.nh * info.nh;

    float denom = (nh2 * (a2 - 1.0) + 1.0);
    return a2 / (PI * denom * denom);
}

vec3 compute_brdf(vec3 n, vec3 v, vec3 l,
                  float roughness, float metalness,
                  vec3 f0, vec3 c_diff, vec3 albedo,
                  vec3 radiance)
{
        vec3 h = normalize(l+v);
        float nl = clamp(dot(n, l), 0.001, 1.0);
        float nv = clamp(abs(dot(n, v)), 0.001, 1.0);
        float nh = clamp(dot(n, h), 0.0, 1.0);
        float lh = clamp(dot(l, h), 0.0, 1.0);
        float vh = clamp(dot(v, h), 0.0, 1.0);

        PBRInfo info = PBRInfo(nl, nv, nh, lh, vh, roughness, metalness, f0, c_diff);

        // Compute PBR terms
        vec3 F = specular_reflection(info);
        float G = geometric_occlusion(info);
        float D = microfacet_distribution(info);

        // Compute BRDF
        vec3 diffuse_contrib = (1.0 - F) * c_diff / PI;
        vec3 spec_contrib = F * G * D / (4.0 * nl * nv + 0.001);

        vec3 color = nl * radiance * (diffuse_contrib + spec_contrib);
        return color;
}

#include "environment_sh.glsl"
#include "environment.glsl"
#include "shadows.glsl"
#include "main.glsl"
    vec4 color = vec4(vec3(0.0), 1.0);
///////////////////////////////////////////////////////////////////////////////
// Handle Metallic Materials
///////////////////////////////////////////////////////////////////////////////
#ifdef USE_METALLIC_MATERIAL

    // Compute metallic/roughness factors
    float roughness = material.roughness_factor;
    float metallic = material.metallic_factor;
#ifdef HAS_METALLIC_ROUGHNESS_TEX
    vec2 mr = texture(material.metallic_roughness_texture, uv_0).rg;
    roughness = roughness * mr.r;
    metallic = metallic * mr.g;
#endif
    roughness = clamp(roughness, min_roughness, 1.0);
    metallic = clamp(metallic, 0.0, 1.0);
    // In convention, material roughness is perceputal roughness ^ 2
    float alpha_roughness = roughness * roughness;

    // Compute albedo
    vec4 base_color = material.base_color_factor;
#ifdef HAS_BASE_COLOR_TEX
    base_color = base_color * srgb_to_linear(texture(material.base_color_texture, uv_0));
#endif

    // Compute specular and diffuse colors
    vec3 dialectric_spec = vec3(min_roughness);
    vec3 c_diff = mix(vec3(0.0), base_color.rgb * (1 - min_roughness), 1.0 - metallic);
    vec3 f0 = mix(dialectric_spec, base_color.rgb, metallic);

    // Compute normal
    vec3 n = normalize(get_normal());
#ifdef SHADOW_VERTEX_CLIP
    float normal_scale = inversesqrt(dot(frag_normal, frag_normal));  // shadows.glsl
#endif

    // Loop over lights
    for (int i = 0; i < N_DIRECTIONAL_LIGHTS; i++) {
        vec3 direction = directional_lights[i].direction;
        vec3 v = normalize(cam_pos - frag_position); // Vector towards camera
        vec3 l = normalize(-1.0 * direction);   // Vector towards light

        // Compute attenuation and radiance
        float attenuation = directional_lights[i].intensity;
        vec3 radiance = attenuation * directional_lights[i].color;

        // Compute outbound color
        vec3 res = compute_brdf(n, v, l, roughness, metallic,
                                f0, c_diff, base_color.rgb, radiance);

// synthscene's shadow maps (shadows.glsl):
#ifdef SHADOW_MAPS
        if (i < SHADOWED_DIRECTIONAL) {
#ifdef SHADOW_VERTEX_CLIP
            res *= shadow_lookup_clip(shadow_maps, i, shadow_clip[i],
                                      shadow_clip_normal[i] * normal_scale,
                                      shadow_uv_per_m[i], n, l);
#else
            res *= shadow_lookup(shadow_maps, i, shadow_matrices[i], shadow_uv_per_m[i],
                                 frag_position, n, l);
#endif
        }
#endif
        color.xyz += res;
    }

    for (int i = 0; i < N_POSITIONAL_LIGHTS; i++) {
        vec3 position = positional_lights[i].position;
        vec3 v = normalize(cam_pos - frag_position); // Vector towards camera
        vec3 l = normalize(position - frag_position); // Vector towards light

        // Compute attenuation and radiance
        vec3 direction = positional_lights[i].direction;
        float las = positional_lights[i].light_angle_scale;
        float lao = positional_lights[i].light_angle_offset;
        float dist = length(position - frag_position);
        float cd = clamp(dot(direction, -l), 0.0, 1.0);
        float attenuation = clamp(cd * las + lao, 0.0, 1.0);
        attenuation = attenuation * attenuation * positional_lights[i].intensity;
        attenuation = attenuation / (dist * dist);
        vec3 radiance = attenuation * positional_lights[i].color;

        // Compute outbound color
        vec3 res = compute_brdf(n, v, l, roughness, metallic,
                                f0, c_diff, base_color.rgb, radiance);
// synthscene's shadow maps (shadows.glsl): the first SHADOWED_SPOT positional lights are spot
// lights with a layer each of shadow_maps (after the directional ones), the next
// SHADOWED_POINT point lights with six layers each of shadow_faces.
#ifdef SHADOW_MAPS
        if (i < SHADOWED_SPOT) {
            int layer = SHADOWED_DIRECTIONAL + i;
#ifdef SHADOW_VERTEX_CLIP
            res *= shadow_lookup_clip(shadow_maps, layer, shadow_clip[layer],
                                      shadow_clip_normal[layer] * normal_scale,
                                      shadow_uv_per_m[layer], n, l);
#else
            res *= shadow_lookup(shadow_maps, layer, shadow_matrices[layer],
                                 shadow_uv_per_m[layer], frag_position, n, l);
#endif
        }
#ifdef POINT_SHADOWS
        else if (i < SHADOWED_SPOT + SHADOWED_POINT) {
            res *= point_shadow(i - SHADOWED_SPOT, position, frag_position, n, l);
        }
#endif
#endif
        color.xyz += res;
    }
    float visibility = ambient_visibility();  // occlusion.glsl: one lookup for both terms
    color.xyz += base_color.xyz * ambient_light * visibility;

    // synthscene: environment light (image-based), as two named terms (environment.glsl).
#ifdef USE_ENVIRONMENT
    vec3 env_v = normalize(cam_pos - frag_position);
    vec3 env_diffuse, env_specular;
    environment_terms(n, env_v, roughness, c_diff, f0, env_diffuse, env_specular);
    color.xyz += (env_diffuse + env_specular) * visibility;
#endif

    // Calculate lighting from environment
#ifdef USE_IBL
    // TODO
#endif

    // Apply occlusion
#ifdef HAS_OCCLUSION_TEX
    float ao = texture(material.occlusion_texture, uv_0).r;
    color.xyz *= ao;
#endif

    // Apply emissive map
    vec3 emissive = material.emissive_factor;
#ifdef HAS_EMISSIVE_TEX
    emissive *= srgb_to_linear(texture(material.emissive_texture, uv_0)).rgb;
#endif
    color.xyz += emissive * material.emissive_factor;

#ifdef COLOR_0_LOC
    color *= color_multiplier;
#endif

    frag_color = clamp(vec4(linear_to_srgb(color.xyz), color.a * base_color.a), 0.0, 1.0);

#else
    // TODO GLOSSY MATERIAL BRDF
#endif

///////////////////////////////////////////////////////////////////////////////
// Handle Glossy Materials
///////////////////////////////////////////////////////////////////////////////

}
