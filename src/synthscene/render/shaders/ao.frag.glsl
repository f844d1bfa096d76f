// synthscene's screen-space ambient occlusion (render/occlusion.py), at a quarter resolution: the
// alchemy/scalable ambient obscurance estimator (McGuire et al. 2011, 2012) with 8 taps on a
// spiral whose screen radius is the world radius projected at the pixel's depth. A tap's
// surface point q occludes the pixel's point p by falloff * max(0, cos(n, q - p) - bias), the
// falloff 1 - |q - p|^2 / radius^2 (0 beyond the radius, so no dark halo around a silhouette in
// front of a far background). The spiral turns by one of 4 angles of a 2x2 pattern aligned
// with the rasteriser's quads, which a depth-aware mean over the quad (its values exchanged
// through fine derivatives) averages away. Output: the visibility of the ambient light in
// [0, 1] (1 where nothing is), into an 8-bit image.
#version 330 core
#extension GL_ARB_derivative_control : enable
#if defined(GL_ARB_derivative_control)
#define DDX dFdxFine
#define DDY dFdyFine
#else
#define DDX dFdx
#define DDY dFdy
#endif
uniform sampler2D normal_depth;  // (normal, camera-z depth), the pre-pass
uniform vec4 proj_info;          // P[0][0], P[1][1], P[0][2], P[1][2] of the projection
uniform float radius;            // metres
uniform float strength;          // >= 0
layout(location = 0) out float out_ao;

const int TAPS = 8;
// Taps 0-3 at (i + 0.5) / 4 of the radius, turned by i golden angles (137.5 degrees); taps 4-7
// the same four turned by 45 degrees more (the same radii: the estimate's mean is the 4-tap
// one's, its noise lower).
const vec2 SPIRAL[TAPS] = vec2[TAPS](
    vec2(0.125000, 0.000000), vec2(-0.276513, 0.253309), vec2(0.054641, -0.622607),
    vec2(0.532384, 0.694401), vec2(0.088388, 0.088388), vec2(-0.374641, -0.016408),
    vec2(0.478887, -0.401613), vec2(-0.114563, 0.867468));
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
    float visibility = 1.0;
    if (depth > 0.0) {
        vec3 p = position_at(pixel, depth, size);
        vec3 n = nd.xyz;
        float radius_px = radius * 0.5 * size.y * proj_info.y / depth;
        // The four pixels of a 2x2 quad turn the spiral a quarter turn apart, from an angle
        // drawn per quad (interleaved gradient noise, Jimenez 2014), and scale it by 0.8 to
        // 1.2: an occluder leaves fine noise, not shifted copies of itself, and the quad's
        // mean (below) sees 4 x TAPS directions.
        int quad = ((pixel.x & 1) << 1) | (pixel.y & 1);
        vec2 quad_xy = vec2(pixel >> 1);
        float noise = fract(52.9829189 * fract(dot(quad_xy, vec2(0.06711056, 0.00583715))));
        float turn = TWO_PI * fract(noise + 0.25 * float(quad));
        float scale = radius_px * (0.85 + 0.1 * float(quad ^ 2));
        mat2 spin = scale * mat2(cos(turn), sin(turn), -sin(turn), cos(turn));
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
        visibility = clamp(1.0 - strength * SCALE * occlusion / float(TAPS), 0.0, 1.0);
    }
    // The quad's other three pixels, through the fine derivatives (uniform control flow):
    // their mean, weighted by how close their depth is to this pixel's, removes the pattern
    // of turns without a pass of its own.
    vec2 here = vec2(visibility, depth);
    float sx = (pixel.x & 1) == 0 ? 1.0 : -1.0;
    float sy = (pixel.y & 1) == 0 ? 1.0 : -1.0;
    vec2 across = here + sx * DDX(here);
    vec2 below = here + sy * DDY(here);
    vec2 diagonal = across + sy * DDY(across);
    float inverse_width = depth > 0.0 ? 20.0 / depth : 0.0;  // 0 at a 5 % depth difference
    float sum = visibility;
    float weights = 1.0;
    vec2 others[3] = vec2[3](across, below, diagonal);
    for (int i = 0; i < 3; i++) {
        float w = others[i].y > 0.0 ? max(0.0, 1.0 - abs(others[i].y - depth) * inverse_width)
                                    : 0.0;
        sum += w * others[i].x;
        weights += w;
    }
    out_ao = depth > 0.0 ? sum / weights : 1.0;
}
