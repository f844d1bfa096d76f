"""The dataset on disk: the names of its files and folders (:mod:`synthscene.io.layout`).

The first package of the stage tree (``docs/architecture.md``); the writers, the run folder and
the reader move here next.
"""
