// synthscene's label pass: the instance id and the camera-z depth in metres (OpenGL's camera
// looks along -z). With WITH_NORMALS defined (RenderSettings.normals) a third output: the normal
// of the rasterised triangle's plane, in which the screen-space derivatives dFdx, dFdy of the
// (perspective-correctly interpolated) camera-space position both lie; so it is exact per face
// and belongs to the same surface as the depth. It is turned to the side facing the camera,
// then to OpenCV's camera axes (y and z flipped).
#version 330 core
uniform int instance_id;
in vec3 camera_position;
layout(location = 0) out int out_id;
layout(location = 1) out float out_depth;
#ifdef WITH_NORMALS
layout(location = 2) out vec4 out_normal;
#endif
void main() {
    out_id = instance_id;
    out_depth = -camera_position.z;
#ifdef WITH_NORMALS
    vec3 n = normalize(cross(dFdx(camera_position), dFdy(camera_position)));
    if (dot(n, camera_position) > 0.0) n = -n;
    out_normal = vec4(n.x, -n.y, -n.z, 0.0);
#endif
}
