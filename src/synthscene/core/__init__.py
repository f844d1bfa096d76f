"""Plain, frozen data that flows between the stages (:mod:`synthscene.core.state`).

No stage logic lives here, and nothing here imports a backend (pybullet, pyrender, OpenGL).
"""
