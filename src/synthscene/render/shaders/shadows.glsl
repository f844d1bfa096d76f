// synthscene's shadow-map lookups, included by mesh.frag (render/gl.py's shader_source pastes
// it in place of the include line, before the defines are applied). The maps are drawn by
// render/shadow_maps.py: directional lights (orthographic) then spot lights (perspective) in
// the layers of `shadow_maps`; each point light's six faces (perspective, a little over 90
// degrees) in six layers of `shadow_faces`. Both are depth textures compared in hardware
// (nearest texel; a lookup's taps are its percentage-closer filter).
#ifdef SHADOW_MAPS
uniform sampler2DArrayShadow shadow_maps;
uniform mat4 shadow_matrices[SHADOW_LAYER_COUNT];   // light clip space from world
uniform float shadow_uv_per_m[SHADOW_LAYER_COUNT];  // map coordinates per metre at clip w = 1
uniform float shadow_softness_m;                    // filter radius on the receiver, metres

// Four taps on a rotated grid, radius 1, in two opposite pairs: a pixel takes one pair, its
// four edge neighbours the other (a checkerboard), so each 2x2 block of pixels sees all four.
const vec2 SHADOW_TAP_PAIRS[2] = vec2[2](vec2(-0.25, -0.75), vec2(0.75, -0.25));

#ifdef SHADOW_VERTEX_CLIP
// mesh.vert: shadow_matrices[k] times the position and times the (unnormalised) normal, per
// vertex: both are linear in what is interpolated, so the fragment gets its own values (the
// normal's divided by the interpolated normal's length, as the fragment's normal is).
in vec4 shadow_clip[SHADOW_LAYER_COUNT];
in vec4 shadow_clip_normal[SHADOW_LAYER_COUNT];
#endif

// The fraction of a light that reaches a point (normal `normal`, unit vector `l` towards the
// light), looked up in layer `layer` of `maps`: `clip` is the point in the map's clip space,
// `clip_normal` the normal there (its w 0).
float shadow_lookup_clip(sampler2DArrayShadow maps, int layer, vec4 clip, vec4 clip_normal,
                         float uv_per_m, vec3 normal, vec3 l)
{
    if (clip.w <= 0.0 || dot(normal, l) <= 0.0) {
        return 1.0;  // behind the light, or a face turned away from it (unlit either way)
    }
    // Normal offset: look the receiver up off its surface by half a texel, plus the filter's
    // reach times the sine of the light's incidence (a tap at lateral distance r from the
    // lookup sees a plane r tan(angle) nearer the light; lifting by h along the normal moves
    // the lookup h / cos(angle) nearer). The depth pass adds a slope-scaled polygon offset.
    float size = float(textureSize(maps, 0).x);
    float texel_m = clip.w / (uv_per_m * size);
    float nl = clamp(dot(normal, l), 0.0, 1.0);
    float reach_m = 1.5 * texel_m + shadow_softness_m;
    clip += clip_normal * (0.5 * texel_m + reach_m * sqrt(1.0 - nl * nl));
    vec3 uvz = clip.xyz / clip.w * 0.5 + 0.5;
    if (any(lessThan(uvz.xy, vec2(0.0))) || any(greaterThan(uvz.xy, vec2(1.0)))) {
        return 1.0;
    }
    float reference = min(uvz.z, 1.0);
    vec2 radius = vec2(max(shadow_softness_m * uv_per_m / clip.w, 1.0 / size));
    // Two taps a pixel, not all four (0.4 to 1 ms of a 640x480 frame on llvmpipe).
    vec2 tap = radius * ((int(gl_FragCoord.x + gl_FragCoord.y) & 1) == 0 ? SHADOW_TAP_PAIRS[0]
                                                                          : SHADOW_TAP_PAIRS[1]);
    return 0.5 * (texture(maps, vec4(uvz.xy + tap, float(layer), reference))
                  + texture(maps, vec4(uvz.xy - tap, float(layer), reference)));
}

// The same, looked up in layer `layer` of `maps` drawn with `light_from_world`, at `position`.
float shadow_lookup(sampler2DArrayShadow maps, int layer, mat4 light_from_world,
                    float uv_per_m, vec3 position, vec3 normal, vec3 l)
{
    return shadow_lookup_clip(maps, layer, light_from_world * vec4(position, 1.0),
                              light_from_world * vec4(normal, 0.0), uv_per_m, normal, l);
}

#ifdef POINT_SHADOWS
uniform sampler2DArrayShadow shadow_faces;
uniform mat4 shadow_face_matrices[SHADOW_FACE_COUNT];
uniform float shadow_face_uv_per_m;

// The fraction of point light `light` (at `light_position`) that reaches `position`: the
// face of the light's cube that `position` lies in (+x, -x, +y, -y, +z, -z).
float point_shadow(int light, vec3 light_position, vec3 position, vec3 normal, vec3 l)
{
    vec3 a = position - light_position;
    vec3 b = abs(a);
    int face = (b.x >= b.y && b.x >= b.z) ? (a.x > 0.0 ? 0 : 1)
             : (b.y >= b.z ? (a.y > 0.0 ? 2 : 3) : (a.z > 0.0 ? 4 : 5));
    int layer = 6 * light + face;
    return shadow_lookup(shadow_faces, layer, shadow_face_matrices[layer],
                         shadow_face_uv_per_m, position, normal, l);
}
#endif
#endif
