// synthscene's ambient occlusion in the lit shader (render/occlusion.py), pasted into mesh.frag
// by `#include`: ambient_visibility() is the fraction of the ambient (and environment) light
// that reaches the fragment, 1 without the AMBIENT_OCCLUSION define. With it, the low-
// resolution visibility image of the occlusion pass is read with bilinear filtering at the
// fragment.
#ifdef AMBIENT_OCCLUSION
uniform sampler2D ao_map;       // visibility in r, quarter resolution, bilinear
uniform vec2 ao_scale;          // 1 / the viewport's size in pixels
float ambient_visibility()
{
    return texture(ao_map, gl_FragCoord.xy * ao_scale).r;
}
#else
float ambient_visibility()
{
    return 1.0;
}
#endif
