// synthscene: one triangle that covers the viewport, for drawing the environment behind the
// scene (environment.frag). No vertex buffer: the corners come from gl_VertexID.
#version 330 core
out vec2 ndc;
void main()
{
    ndc = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);
    gl_Position = vec4(ndc, 1.0, 1.0);
}
