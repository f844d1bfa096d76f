// synthscene: the environment as the camera sees it, behind the scene
// (background.environment): each pixel shows the map's radiance along its viewing ray, times
// the environment's intensity, encoded as mesh.frag encodes its colours.
#version 330 core
const float PI = 3.141592653589793;
#include "environment_sh.glsl"
#include "environment.glsl"
#include "srgb.glsl"
in vec2 ndc;
uniform mat4 world_from_clip;  // inverse(P V)
uniform vec3 cam_pos;
uniform sampler2D env_background;
layout(location = 0) out vec4 frag_color;
void main()
{
    vec4 far = world_from_clip * vec4(ndc, 1.0, 1.0);
    vec3 d = env_direction(normalize(far.xyz / far.w - cam_pos));
    vec3 color = env_intensity * textureLod(env_background, env_uv(d), 0.0).rgb;
    frag_color = vec4(linear_to_srgb(color), 1.0);
}
