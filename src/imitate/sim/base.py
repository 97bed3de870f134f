"""The batched-simulator interface every task runs on (docs/architecture.md, engine layer).

A simulator holds the physics state of ``num_envs`` copies and advances all of them in one call;
it knows nothing of tasks, rewards or resets. State get/set is exact (a saved state steps to the
same next state), so runs resume bit for bit and planners (CEM) can roll copies forward.

Engines: ``pointmass`` (torch; maze, particle), ``mujoco_c`` (MuJoCo's C engine through
``mujoco.rollout`` or a thread pool over MjData) and ``dmc`` (a ``mujoco_c`` engine of dm_control's
suite models, docs/dmc.md). A GPU engine (MuJoCo Warp, MJX) is another class with these methods;
tasks only call what is declared here.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class BatchedSim(Protocol):
    """``num_envs`` physics copies stepped together."""

    num_envs: int

    def step(self, ctrl: Any) -> Any:
        """Hold controls ``ctrl`` (N, nu) for one control period (the engine's sub-steps)."""

    def get_state(self) -> dict[str, Any]:
        """Copies of the full physics state; every per-env entry has leading dimension N."""

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what ``get_state`` returned (shapes are checked; a wrong one raises ValueError)."""

    def body_pos(self) -> Any:
        """(N, B, D) world positions of the simulated bodies (D = 2 or 3)."""

    def contacts(self) -> Any:
        """(N, B) bool: the bodies touching something now (ground, walls)."""
