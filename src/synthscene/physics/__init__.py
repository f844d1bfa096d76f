"""Rigid-body physics (:mod:`synthscene.physics.simulator`): the one package that runs pybullet.
"""
