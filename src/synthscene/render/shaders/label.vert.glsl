// synthscene's label and amodal passes: vertex positions (attribute 0) to the camera frame.
#version 330 core
layout(location = 0) in vec3 position;
uniform mat4 camera_from_model;
uniform mat4 projection;
out vec3 camera_position;
void main() {
    vec4 p = camera_from_model * vec4(position, 1.0);
    camera_position = p.xyz;
    gl_Position = projection * p;
}
