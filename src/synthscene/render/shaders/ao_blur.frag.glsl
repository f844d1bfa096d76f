// synthscene's ambient-occlusion blur (render/occlusion.py): the mean of the 2x2 block of
// ao.frag's visibility at and above-right of each pixel (which holds each of its 4 spiral turns
// once; the result is centred half a pixel up and right, which occlusion.glsl undoes), weighted
// by how close each tap's depth is to the pixel's, so that occlusion does not bleed across
// depth edges. Output: (visibility, camera-z depth in metres; 0 where nothing is).
#version 330 core
uniform sampler2D ao_raw;  // (visibility, depth), ao.frag
layout(location = 0) out vec2 out_ao;
void main() {
    ivec2 pixel = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(ao_raw, 0) - 1;
    vec2 centre = texelFetch(ao_raw, pixel, 0).rg;
    if (centre.g <= 0.0) {
        out_ao = vec2(1.0, 0.0);
        return;
    }
    float inverse_width = 20.0 / centre.g;  // weights fall to 0 at a 5 % depth difference
    float sum = centre.r;
    float weights = 1.0;
    for (int i = 1; i < 4; i++) {
        vec2 tap = texelFetch(ao_raw, min(pixel + ivec2(i & 1, i >> 1), last), 0).rg;
        float w = max(0.0, 1.0 - abs(tap.g - centre.g) * inverse_width);
        sum += w * tap.r;
        weights += w;
    }
    out_ao = vec2(sum / weights, centre.g);
}
