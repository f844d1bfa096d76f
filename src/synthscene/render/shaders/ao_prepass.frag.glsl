// synthscene's ambient-occlusion pre-pass (render/occlusion.py), with label.vert: at a quarter of the
// image's resolution, each pixel's camera-frame face normal (OpenGL axes, turned to the camera)
// and camera-z depth in metres (0 where nothing is).
#version 330 core
in vec3 camera_position;
layout(location = 0) out vec4 out_normal_depth;
void main() {
    vec3 n = normalize(cross(dFdx(camera_position), dFdy(camera_position)));
    if (dot(n, camera_position) > 0.0) n = -n;
    out_normal_depth = vec4(n, -camera_position.z);
}
