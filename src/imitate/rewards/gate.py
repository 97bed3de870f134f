"""The proximity gate of a composed reward (docs/humanoid_imitation.md#composed-rewards): one of
several summed terms counts only where the task's goal is near, as NEAR's strike switches its
punching term on only within a distance of the box.

Where the gate is closed the other terms' weights are renormalised, so the sum keeps one
magnitude whether it is open or not:

    r = Σ_i W_i · [on_i] · r_i / Σ_i w_i · [on_i]

with w_i the relative weights (Σ w_i = 1) and W_i the weights the composition applies. NEAR's
energy sum (``ComposedEnergyReward``) applies the rule inside its one energy; AMP's
discriminators are separate parts of the composed reward, so each is wrapped in ``GatedShare``,
which applies its own share of the rule.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from imitate.rewards.base import RewardModule
from imitate.tasks.core.vecenv import StepResult

GOAL_DISTANCE = "goal_distance"  # the (N,) step extra (m) a goal task reports for the gate


class ProximityGate:
    """Term ``label`` is on only where the task's goal is within ``max_distance_m``: the env
    reports the distance per env as ``step.extras["goal_distance"]`` (m, (N,), measured on the
    state the step ended in, before any reset)."""

    def __init__(self, label: str, max_distance_m: float):
        if not max_distance_m > 0:
            raise ValueError(f"proximity gate of {label!r}: distance must be positive, got {max_distance_m}")
        self.label, self.max_distance_m = label, float(max_distance_m)

    def on(self, step: StepResult) -> torch.Tensor:
        """(N,) bool: the goal is within the distance."""
        distance = step.extras.get(GOAL_DISTANCE)
        if distance is None:
            raise ValueError(
                f"the proximity gate of {self.label!r} needs a task that reports {GOAL_DISTANCE} (step extras)"
            )
        return distance <= self.max_distance_m


class GatedShare:
    """Part ``label`` of several composed under ``gate``: its value times [on] / Σ_j w_j [on_j]
    (``shares``: every part's relative weight w_j, summing to 1). Logged terms, learning and
    state are the wrapped part's."""

    def __init__(self, part: RewardModule, label: str, gate: ProximityGate, shares: Mapping[str, float]):
        if gate.label not in shares or len(shares) < 2:
            raise ValueError(f"proximity gate of {gate.label!r}: not one of several parts {list(shares)}")
        if abs(sum(shares.values()) - 1.0) > 1e-6 or any(not w > 0 for w in shares.values()):
            raise ValueError(f"shares must be positive and sum to 1, got {dict(shares)}")
        self.part, self.label, self.gate = part, label, gate
        self.gated_share = float(shares[gate.label])
        self.last_terms: dict[str, torch.Tensor] = {}
        if hasattr(part, "absorbing_value"):
            self.absorbing_value = part.absorbing_value

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        value = self.part(obs, action, step)
        self.last_terms = self.part.last_terms
        on = self.gate.on(step).to(value.dtype)
        counted = on if self.label == self.gate.label else torch.ones_like(on)
        return value * counted / (1.0 - self.gated_share * (1.0 - on))  # Σ_j w_j [on_j] ≥ 1 − w_gated > 0

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        return self.part.update(transitions)

    def state_dict(self) -> dict:
        return self.part.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.part.load_state_dict(state)
