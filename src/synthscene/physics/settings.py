"""Parameters of the physics simulation: :class:`PhysicsSettings` (plain data, no pybullet)."""

from __future__ import annotations

from dataclasses import dataclass

from synthscene.assets.margins import DEFAULT_MAX_HULLS
from synthscene.config.fields import DEFAULT_TIMESTEP_S


@dataclass(frozen=True)
class PhysicsSettings:
    """Parameters of the physics simulation.

    The defaults are tuned for 5-20 cm objects dropped from up to 0.3 m (see the module notes).

    Attributes
    ----------
    timestep : float
        Simulation step in seconds. 1/120 s is twice as fast as pybullet's usual 1/240 s, for
        slightly deeper transient contacts; 1/60 s is too coarse for small objects.
    max_steps : int
        Hard limit on the number of steps simulated per frame.
    gravity : float
        Gravitational acceleration in m/s^2, along -z.
    linear_rest_speed : float
        m/s: an object is at rest while its linear speed is below this ...
    angular_rest_speed : float
        rad/s: ... and its angular speed below this ...
    rest_checks : int
        ... for this many consecutive rest checks (all objects at once).
    check_every : int
        Steps between two rest checks.
    lateral_friction : float
        Coulomb friction coefficient of objects and ground (pybullet combines two by product).
    restitution : float
        Coefficient of restitution of objects and ground, in [0, 1].
    density : float
        kg/m^3; an object's mass is ``density * volume of its hulls``, at least 1 g (and see
        ``max_mass_ratio``).
    enabled : bool
        False: :meth:`PhysicsSimulator.settle` leaves the poses as sampled ("flying objects").
    solver_iterations : int
        Iterations of pybullet's constraint solver per step (pybullet's default is 50; the cost
        of a step grows with it).
    spinning_friction : float
        Dimensionless friction against spinning about a contact normal; an object's pybullet
        ``spinningFriction`` (a length) is this times its ``scale``. Without it, objects spin
        on the ground for seconds.
    linear_damping, angular_damping : float
        pybullet's velocity damping, per second, in [0, 1), until ``settle_after``.
    settle_after : float
        Simulated seconds after which the ``settle_*`` values below replace the ones above.
    settle_linear_damping, settle_angular_damping : float
        Damping from ``settle_after`` on.
    settle_rolling_friction : float
        Dimensionless rolling friction from ``settle_after`` on: an object's pybullet
        ``rollingFriction`` (a length) becomes this times its ``scale``.
    max_mass_ratio : float
        Objects lighter than the frame's heaviest object divided by this are made that heavy
        (their density raised). An iterative contact solver cannot hold a heavy object on one a
        hundred times lighter: the light one is pressed into the ground. Resting poses hardly
        depend on the masses.
    cone_friction : bool
        pybullet's implicit friction cone (its default) instead of Bullet's pyramid
        approximation (two independent friction directions). Both settle the default scenario
        in about the same time, with the same resting heights.
    max_hulls : int
        Most convex hulls per collision shape: an asset with more (a VHACD decomposition) has
        its closest hulls merged (see :func:`merge_hulls`). Contact cost grows with the hull
        count (``docs/performance.md``).
    settle : bool
        False: :meth:`PhysicsSimulator.settle` does not simulate until rest (the objects were
        placed at rest); it simulates ``steps_after_placement`` steps, if any.
    steps_after_placement : int
        With ``settle`` False, the steps simulated after placement (a short settle); 0: none.
    max_fixture_hulls : int
        As ``max_hulls``, for static bodies (fixtures: a shelf is a side, a back and a hull per
        board), whose hull count costs less.
    """

    timestep: float = DEFAULT_TIMESTEP_S
    max_steps: int = 1500
    gravity: float = 9.81
    linear_rest_speed: float = 0.01
    angular_rest_speed: float = 0.1
    rest_checks: int = 5
    check_every: int = 5
    lateral_friction: float = 0.6
    restitution: float = 0.0
    density: float = 500.0
    enabled: bool = True
    solver_iterations: int = 10
    spinning_friction: float = 0.1
    linear_damping: float = 0.04
    angular_damping: float = 0.04
    settle_after: float = 0.75
    settle_linear_damping: float = 0.5
    settle_angular_damping: float = 0.999
    settle_rolling_friction: float = 0.03
    max_mass_ratio: float = 2.0
    cone_friction: bool = False
    max_hulls: int = DEFAULT_MAX_HULLS
    settle: bool = True
    steps_after_placement: int = 0
    max_fixture_hulls: int = 16

    def hull_budget(self, static: bool) -> int:
        """The most convex hulls of a body's collision shape: ``max_fixture_hulls`` for a
        static body, else ``max_hulls``."""
        return self.max_fixture_hulls if static else self.max_hulls

    def __post_init__(self) -> None:
        positive = {
            "timestep": self.timestep,
            "max_steps": self.max_steps,
            "rest_checks": self.rest_checks,
            "check_every": self.check_every,
            "density": self.density,
            "solver_iterations": self.solver_iterations,
            "max_hulls": self.max_hulls,
            "max_fixture_hulls": self.max_fixture_hulls,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"PhysicsSettings.{name} must be > 0, got {value!r}")
        non_negative = {
            "gravity": self.gravity,
            "linear_rest_speed": self.linear_rest_speed,
            "angular_rest_speed": self.angular_rest_speed,
            "lateral_friction": self.lateral_friction,
            "restitution": self.restitution,
            "spinning_friction": self.spinning_friction,
            "settle_after": self.settle_after,
            "settle_rolling_friction": self.settle_rolling_friction,
            "steps_after_placement": self.steps_after_placement,
        }
        for name, value in non_negative.items():
            if not value >= 0:
                raise ValueError(f"PhysicsSettings.{name} must be >= 0, got {value!r}")
        dampings = {
            "linear_damping": self.linear_damping,
            "angular_damping": self.angular_damping,
            "settle_linear_damping": self.settle_linear_damping,
            "settle_angular_damping": self.settle_angular_damping,
        }
        for name, value in dampings.items():
            if not 0 <= value < 1:
                raise ValueError(f"PhysicsSettings.{name} must be in [0, 1), got {value!r}")
        if not self.max_mass_ratio >= 1:
            raise ValueError(
                f"PhysicsSettings.max_mass_ratio must be >= 1, got {self.max_mass_ratio!r}"
            )
