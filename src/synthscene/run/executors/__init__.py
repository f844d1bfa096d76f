"""Executors: local (this process or worker processes, :mod:`~synthscene.run.executors.local`) and
Ray (:mod:`~synthscene.run.executors.ray`).
"""
