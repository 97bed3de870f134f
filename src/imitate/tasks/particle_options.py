"""The particle task's options (tasks/particle.py); torch-free, so configs list without torch."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.config import Checked, option


@dataclass
class ParticleOptions(Checked):
    n_dim: int = option(2, "dimensions of the space; observation 4*n_dim, action n_dim", ge=1, le=64)
    goal_order: str = option(
        "fixed",
        "fixed: goal 1 then goal 2 (IBC's task); either: IBC's multimodal oracle, random order per episode",
        choices=("fixed", "either"),
    )
