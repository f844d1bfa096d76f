// A piece of synthscene's copies of pyrender 0.1.45's fragment shaders (pyrender's MIT
// licence: PYRENDER_LICENSE in this folder), shared by mesh.frag and flat.frag through
// `#include`: render/gl.py's shader_source pastes it in place of the include line, before the
// defines are applied. main(): shade(), then the label outputs.
///////////////////////////////////////////////////////////////////////////////
// MAIN
///////////////////////////////////////////////////////////////////////////////
void shade();
void main()
{
    shade();
#ifdef LABEL_OUTPUTS
    out_id = instance_id;
    out_depth = -(V * vec4(frag_position, 1.0)).z;
#endif
}
void shade()
{
