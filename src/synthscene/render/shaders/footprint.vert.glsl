// synthscene's footprint mask (render/footprint_mask.py): triangles given in normalised device
// coordinates, on the near plane (depth 0), so that nothing drawn after them passes the depth
// test there.
#version 330 core
layout(location = 0) in vec2 position;
void main() {
    gl_Position = vec4(position, -1.0, 1.0);
}
