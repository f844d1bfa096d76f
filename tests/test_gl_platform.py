"""The GL platform and llvmpipe thread count chosen before OpenGL starts."""

from __future__ import annotations

import os

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
