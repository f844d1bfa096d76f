// synthscene's screen-space ambient occlusion (render/occlusion.py), at half resolution: the
// alchemy/scalable ambient obscurance estimator (McGuire et al. 2011, 2012) with 8 taps on a
// spiral whose screen radius is the world radius projected at the pixel's depth. A tap's
// surface point q occludes the pixel's point p by falloff * max(0, cos(n, q - p) - bias), the
// falloff 1 - |q - p|^2 / radius^2 (0 beyond the radius, so no dark halo around a silhouette in
// front of a far background). The spiral turns by one of 4 angles of a 2x2 pattern, which
// the 2x2 depth-aware blur (ao_blur.frag) averages away. Output: (visibility of the ambient
// light in [0, 1], camera-z depth in metres; 0 where nothing is).
#version 330 core
uniform sampler2D normal_depth;  // (normal, camera-z depth), the pre-pass
uniform vec4 proj_info;          // P[0][0], P[1][1], P[0][2], P[1][2] of the projection
uniform float radius;            // metres
uniform float strength;          // >= 0
layout(location = 0) out vec2 out_ao;

const int TAPS = 8;
// Tap i at (i + 0.5) / TAPS of the radius, turned by 3 turns * (i + 0.5) / TAPS.
const vec2 SPIRAL[TAPS] = vec2[TAPS](
    vec2(0.023918, 0.057742), vec2(-0.173227, -0.071753), vec2(0.288712, -0.119589),
    vec2(-0.167424, 0.404197), vec2(-0.215259, -0.519682), vec2(0.635167, 0.263095),
    vec2(-0.750652, 0.310930), vec2(0.358766, -0.866137));
const float BIAS = 0.05;         // cosine below which a tap does not occlude (facets, noise)
const float SCALE = 4.0;         // occlusion at strength 1 per mean occluding cosine
const float TWO_PI = 6.283185307179586;

vec3 position_at(ivec2 pixel, float depth, vec2 size) {
    vec2 ndc = (vec2(pixel) + 0.5) / size * 2.0 - 1.0;
    return vec3(depth * (ndc.x + proj_info.z) / proj_info.x,
                depth * (ndc.y + proj_info.w) / proj_info.y, -depth);
}

void main() {
    ivec2 pixel = ivec2(gl_FragCoord.xy);
    ivec2 isize = textureSize(normal_depth, 0);
    vec2 size = vec2(isize);
    vec4 nd = texelFetch(normal_depth, pixel, 0);
    float depth = nd.w;
    if (depth <= 0.0) {
        out_ao = vec2(1.0, 0.0);
        return;
    }
    vec3 p = position_at(pixel, depth, size);
    vec3 n = nd.xyz;
    float radius_px = radius * 0.5 * size.y * proj_info.y / depth;
    // Every pixel of a 2x2 block turns the spiral by a different quarter of a tap's angle.
    float turn = (float(((pixel.x & 1) << 1) | (pixel.y & 1)) + 0.5) * (TWO_PI / 32.0);
    mat2 spin = radius_px * mat2(cos(turn), sin(turn), -sin(turn), cos(turn));
    float r2 = radius * radius;
    float occlusion = 0.0;
    for (int i = 0; i < TAPS; i++) {
        ivec2 q = pixel + ivec2(round(spin * SPIRAL[i]));
        if (q == pixel || any(lessThan(q, ivec2(0))) || any(greaterThanEqual(q, isize))) {
            continue;
        }
        float q_depth = texelFetch(normal_depth, q, 0).w;
        if (q_depth <= 0.0) {
            continue;
        }
        vec3 v = position_at(q, q_depth, size) - p;
        float vv = dot(v, v);
        float falloff = max(0.0, 1.0 - vv / r2);
        occlusion += falloff * max(0.0, dot(v, n) * inversesqrt(vv + 1e-12) - BIAS);
    }
    float visibility = clamp(1.0 - strength * SCALE * occlusion / float(TAPS), 0.0, 1.0);
    out_ao = vec2(visibility, depth);
}
