// synthscene's full-screen passes (render/occlusion.py): one triangle that covers the viewport,
// drawn with glDrawArrays(GL_TRIANGLES, 0, 3) and no vertex attributes.
#version 330 core
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
