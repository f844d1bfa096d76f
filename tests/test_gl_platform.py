"""The GL platform and llvmpipe thread count chosen before OpenGL starts."""

from __future__ import annotations

import os

import pytest

from synthscene.render.platform import default_raster_threads, ensure_gl_platform


def test_llvmpipe_gets_one_thread_less_than_the_usable_cores(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    assert default_raster_threads() == max(1, cores - 1)
    monkeypatch.delenv("LP_NUM_THREADS", raising=False)
    ensure_gl_platform()
    assert os.environ["LP_NUM_THREADS"] == str(max(1, cores - 1))


def test_a_thread_count_the_user_set_is_kept(monkeypatch):
    monkeypatch.setenv("LP_NUM_THREADS", "7")
    ensure_gl_platform()
    assert os.environ["LP_NUM_THREADS"] == "7"


@pytest.mark.gl
def test_gl_context_is_current_inside_and_gone_after():
    from synthscene.render.platform import GLContext

    with GLContext(16, 16) as context:
        from OpenGL import GL

        major = int(GL.glGetIntegerv(GL.GL_MAJOR_VERSION))
        assert context.is_open and major >= 3  # a core context, enough for our shaders
    assert not context.is_open
    context.close()  # idempotent


def test_an_unsupported_platform_is_refused(monkeypatch):
    from synthscene.render.platform import GLContext

    monkeypatch.setenv("PYOPENGL_PLATFORM", "glx")
    with pytest.raises(ValueError, match="unsupported PYOPENGL_PLATFORM"):
        GLContext(16, 16).__enter__()


@pytest.mark.gl
def test_gl_strings_name_the_driver_that_renders():
    """The strings scripts/gpu_check.sh prints: the version agrees with the context's own
    GL_MAJOR_VERSION, read independently through PyOpenGL's integer query."""
    from synthscene.render.platform import GLContext, gl_strings

    vendor, renderer, version = gl_strings()
    assert vendor and renderer
    with GLContext(16, 16):
        from OpenGL import GL

        major = int(GL.glGetIntegerv(GL.GL_MAJOR_VERSION))
    assert version.split(".")[0] == str(major)


@pytest.mark.gl
@pytest.mark.parametrize("pack_invert", [True, False])
def test_framebuffer_reads_come_back_top_row_first(pack_invert):
    # GL's window y points up: a scissored clear of the upper-left quarter (x < W/2,
    # y >= H/2) must be the first rows of what read() returns, whichever way it reads.
    import numpy as np

    from synthscene.render.gl import Framebuffer
    from synthscene.render.platform import GLContext

    width, height = 40, 30
    with GLContext(width, height):
        from OpenGL import GL

        framebuffer = Framebuffer(width, height, [(GL.GL_RGBA8, GL.GL_COLOR_ATTACHMENT0),
                                                  (GL.GL_R32I, GL.GL_COLOR_ATTACHMENT1)])
        if pack_invert and not framebuffer.pack_invert:
            pytest.skip("this driver has no GL_MESA_pack_invert")
        framebuffer.pack_invert = pack_invert
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, framebuffer.id)
        GL.glDrawBuffers(2, [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1])
        GL.glClearBufferfv(GL.GL_COLOR, 0, np.zeros(4, dtype=np.float32))
        GL.glClearBufferiv(GL.GL_COLOR, 1, np.zeros(4, dtype=np.int32))
        GL.glEnable(GL.GL_SCISSOR_TEST)
        GL.glScissor(0, height // 2, width // 2, height - height // 2)
        GL.glClearBufferfv(GL.GL_COLOR, 0, np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32))
        GL.glClearBufferiv(GL.GL_COLOR, 1, np.array([7, 0, 0, 0], dtype=np.int32))
        GL.glDisable(GL.GL_SCISSOR_TEST)
        rgb = framebuffer.read(GL.GL_COLOR_ATTACHMENT0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE,
                               np.uint8, 3)
        ids = framebuffer.read(GL.GL_COLOR_ATTACHMENT1, GL.GL_RED_INTEGER, GL.GL_INT, np.int32)
        corner = framebuffer.read(GL.GL_COLOR_ATTACHMENT1, GL.GL_RED_INTEGER, GL.GL_INT,
                                  np.int32, width=10, height=20)  # the lower-left 10 x 20
        framebuffer.delete()
    expected = np.zeros((height, width), dtype=np.int32)
    expected[:height - height // 2, :width // 2] = 7
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_array_equal(rgb[..., 0], np.where(expected == 7, 255, 0))
    assert rgb.flags.c_contiguous and rgb.flags.writeable and ids.flags.writeable
    np.testing.assert_array_equal(corner, expected[height - 20:, :10])


@pytest.mark.gl
def test_an_upload_keeps_the_positions_and_lets_the_rest_of_the_vertex_data_go():
    # The GL driver holds its own copy of the vertex data: the VertexArray keeps the float32
    # triangle corners (trimesh's, un-merged as pyrender's flat-shaded primitives are) and
    # lets the primitive, with its normals and texture coordinates, be freed.
    import gc
    import weakref

    import numpy as np
    import trimesh

    from synthscene.render.gl import VertexArray
    from synthscene.render.looks import mesh_primitives
    from synthscene.render.platform import GLContext

    mesh = trimesh.creation.icosphere(subdivisions=2)
    mesh.visual = trimesh.visual.TextureVisuals(uv=np.zeros((len(mesh.vertices), 2)))
    with GLContext(8, 8):
        (primitive,) = mesh_primitives(mesh)
        gone = weakref.ref(primitive)
        uploaded = VertexArray(primitive)
        del primitive
        gc.collect()
        assert gone() is None
        assert uploaded.has_texcoords and not uploaded.translucent_colours
        np.testing.assert_array_equal(
            uploaded.positions, mesh.vertices[mesh.faces].reshape(-1, 3).astype(np.float32))
        assert uploaded.positions.nbytes == len(mesh.faces) * 3 * 3 * 4
        uploaded.delete()
