"""Rigid-body physics: the one package that runs pybullet.

- :mod:`~synthscene.physics.simulator`: :class:`~synthscene.physics.simulator.PhysicsSimulator`,
  which settles a scene (it alone imports pybullet).
- :mod:`~synthscene.physics.bodies`: an asset's collision hulls and mass properties in pybullet's
  terms (inertial frame as a quaternion, hull files).
- :mod:`~synthscene.physics.settings`: :class:`~synthscene.physics.settings.PhysicsSettings`,
  plain data.
"""
