"""Options and sensor layout of the DeepMind Control tasks (tasks/dmc.py, docs/dmc.md).

Torch-free and dm_control-free, so that configs list, and a data set or world model can check a
sensor layout, without either.

Sensors are dm_control's observation keys, in its order. Each has an ``order``: ``first`` for
positions and orientations, ``second`` for velocities, as AIME's env configs mark them. AIME's
set-ups choose from them: ``mdp`` sees every state sensor; ``lpomdp`` sees the first-order ones
only, and the hidden second-order ones become its probes (decoded from the world model's state for
evaluation, never an input).
"""

from __future__ import annotations

from dataclasses import dataclass

from imitate.config import Checked, ConfigError, option

SETUPS = ("mdp", "lpomdp")
# dm_control's episode in its own control steps: walker 25 s of 0.025 s steps, cheetah 10 s of 0.01 s
DMC_EPISODE_STEPS = 1000


@dataclass(frozen=True)
class Sensor:
    name: str
    size: int
    order: str  # "first" (positions, orientations) or "second" (velocities)


SENSORS: dict[str, tuple[Sensor, ...]] = {
    # body orientations (xx, xz of each of the 7 bodies' rotation matrices), torso height, all joint velocities
    "walker": (Sensor("orientations", 14, "first"), Sensor("height", 1, "first"), Sensor("velocity", 9, "second")),
    # joint positions without the horizontal root position, all joint velocities
    "cheetah": (Sensor("position", 8, "first"), Sensor("velocity", 9, "second")),
}


def visible_sensors(domain: str, setup: str) -> tuple[Sensor, ...]:
    """The sensors the policy (and a world model's encoder) sees in ``setup``, in their fixed order."""
    if setup not in SETUPS:
        raise ConfigError(f"setup must be one of {', '.join(SETUPS)}, got {setup!r}")
    return tuple(s for s in SENSORS[domain] if setup == "mdp" or s.order == "first")


def hidden_sensors(domain: str, setup: str) -> tuple[Sensor, ...]:
    """The sensors ``setup`` hides (AIME's probes of the lpomdp set-up); none in mdp."""
    shown = visible_sensors(domain, setup)
    return tuple(s for s in SENSORS[domain] if s not in shown)


def sensor_layout(domain: str, setup: str) -> dict[str, tuple[tuple[str, int], ...]]:
    """{observation group: ((sensor, size), ...)}: what ``TaskEnv.obs_layout`` of the task reads."""
    layout = {"policy": tuple((s.name, s.size) for s in visible_sensors(domain, setup))}
    hidden = hidden_sensors(domain, setup)
    if hidden:
        layout["probe"] = tuple((s.name, s.size) for s in hidden)
    return layout


@dataclass
class DmcOptions(Checked):
    setup: str = option(
        "mdp",
        "mdp: every state sensor; lpomdp: positions and orientations only, the velocities hidden (AIME's set-ups)",
        choices=SETUPS,
    )
    action_repeat: int = option(
        2, "dm_control control steps per env step (AIME: 2); it must divide dm_control's 1000", ge=1, le=1000
    )

    def check(self) -> None:
        if DMC_EPISODE_STEPS % self.action_repeat:
            raise ConfigError(
                f"action_repeat must divide dm_control's {DMC_EPISODE_STEPS}-step episode, got {self.action_repeat}"
            )

    @property
    def episode_steps(self) -> int:
        """Env steps per episode: dm_control's 1000 control steps over the repeat (500 at AIME's 2)."""
        return DMC_EPISODE_STEPS // self.action_repeat
