// Adapted from pyrender 0.1.45, shaders/flat.frag (https://github.com/mmatl/pyrender).
// pyrender's MIT licence: PYRENDER_LICENSE in this folder.
//
// synthscene's edit: with the label-outputs define, the instance id and the camera-z depth
// written to colour attachments 1 and 2.
#version 330 core
///////////////////////////////////////////////////////////////////////////////
// Structs
///////////////////////////////////////////////////////////////////////////////
#include "material.glsl"
///////////////////////////////////////////////////////////////////////////////
// Uniforms
///////////////////////////////////////////////////////////////////////////////
uniform Material material;
uniform vec3 cam_pos;
#include "fragment_io.glsl"
#include "main.glsl"
    // Compute albedo
    vec4 base_color = material.base_color_factor;
#ifdef HAS_BASE_COLOR_TEX
    base_color = base_color * texture(material.base_color_texture, uv_0);
#endif

#ifdef COLOR_0_LOC
    base_color *= color_multiplier;
#endif

    frag_color = clamp(base_color, 0.0, 1.0);
}
