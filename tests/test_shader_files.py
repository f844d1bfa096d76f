"""Our shader files (render/shaders/): the include pieces resolve, every program's text is
valid GLSL for this driver, and pyrender's licence ships beside the adapted files."""

from __future__ import annotations

from importlib import resources

import pytest

from synthscene.render.gl import shader_source

pytestmark = pytest.mark.gl

SHADERS = resources.files("synthscene.render").joinpath("shaders")


def test_every_include_is_resolved_and_the_licence_ships():
    for name in ("mesh.vert", "mesh.frag", "flat.frag"):
        text = shader_source(name, {"LABEL_OUTPUTS": 1})
        assert not any(line.startswith("#include") for line in text.splitlines())
        assert text.lstrip().startswith("//") and "#version 330 core" in text
    licence = SHADERS.joinpath("PYRENDER_LICENSE").read_text()
    assert "MIT License" in licence and "Matthew Matl" in licence


@pytest.mark.parametrize("vertex, fragment, defines", [
    ("mesh.vert", "mesh.frag", {"NORMAL_LOC": 1, "INST_M_LOC": 2, "USE_METALLIC_MATERIAL": 1,
                                "MAX_DIRECTIONAL_LIGHTS": 4, "MAX_POSITIONAL_LIGHTS": 4,
                                "LABEL_OUTPUTS": 1}),
    ("mesh.vert", "flat.frag", {"NORMAL_LOC": 1, "TEXCOORD_0_LOC": 2, "INST_M_LOC": 3,
                                "HAS_BASE_COLOR_TEX": 1, "USE_METALLIC_MATERIAL": 1,
                                "INVERSE_NORMAL_MATRIX": 1}),
    ("mesh.vert", "mesh.frag", {"NORMAL_LOC": 1, "INST_M_LOC": 2, "USE_METALLIC_MATERIAL": 1,
                                "MAX_DIRECTIONAL_LIGHTS": 4, "MAX_POSITIONAL_LIGHTS": 4,
                                "AMBIENT_OCCLUSION": 1}),
    ("label.vert", "ao_prepass.frag", {}),
    ("fullscreen.vert", "ao.frag", {}),
])
def test_programs_compile_and_link_on_this_driver(vertex, fragment, defines):
    from OpenGL import GL
    from OpenGL.GL import shaders

    from synthscene.render.platform import GLContext

    with GLContext(8, 8):
        program = shaders.compileProgram(
            shaders.compileShader(shader_source(vertex, defines), GL.GL_VERTEX_SHADER),
            shaders.compileShader(shader_source(fragment, defines), GL.GL_FRAGMENT_SHADER),
            validate=False)
        assert GL.glGetProgramiv(program, GL.GL_LINK_STATUS) == GL.GL_TRUE
        GL.glDeleteProgram(program)
