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
