"""The reward every PPO method trains on: a weighted sum of named parts (docs/architecture.md#principles).

    r = Σ_k w_k · r_k   (+ the absorbing-success value, below)

A part is any ``RewardModule``: the env's task reward (``TaskReward``), or a learned or
reference-based term: NEAR's energy (``EnergyReward``), AMP's discriminator (``AMPReward``),
DeepMimic's tracking (``TrackingReward``). Parts compute only their own term; the weights
(``w_task``, ``w_energy``, ``w_style`` of the configs) are applied here, once. The composition
is itself a ``RewardModule``: ``last_terms`` holds every part's logged terms, ``update`` is
handed to every part (only learned ones do anything), and the state holds each part's state
under its name.

Absorbing success (``absorbing_success``), the one rule for NEAR and AMP: an episode that ends
by success (terminated & success; never a failure or a time limit) enters an absorbing state,
and its last reward also gets the discounted value of staying there for ever,
γ/(1−γ) · Σ_k w_k · v_k, where v_k is what part k pays per step in that state
(``absorbing_value``): NEAR's energy term its supremum 1 (tanh), AMP's style term the final
pair's own reward. The task reward pays nothing there. Without it a per-step reward that can be
positive pays a policy to avoid finishing (the survival bias, docs/near.md, docs/amp_cem.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from imitate.rewards.base import RewardModule, TaskReward
from imitate.tasks.core.vecenv import StepResult


class ComposedReward:
    """Σ_k w_k · r_k over named parts ``{name: (weight, part)}``, in their order, plus the
    absorbing-success value when ``absorbing_success`` and γ < 1."""

    def __init__(
        self, parts: Mapping[str, tuple[float, RewardModule]], absorbing_success: bool = False, gamma: float = 0.99
    ):
        if not parts:
            raise ValueError("a composed reward needs at least one part")
        self.parts = dict(parts)
        self.absorbing = gamma / (1 - gamma) if absorbing_success and gamma < 1 else 0.0  # γ/(1−γ)
        self.last_terms: dict[str, torch.Tensor] = {}

    def part(self, name: str) -> RewardModule:
        return self.parts[name][1]

    def weight(self, name: str) -> float:
        return self.parts[name][0]

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        """Reward (N,) for one batched env step; ``last_terms`` gets every part's terms."""
        total: torch.Tensor | None = None
        terms: dict[str, torch.Tensor] = {}
        absorbing: list[tuple[float, torch.Tensor]] = []
        for weight, part in self.parts.values():
            value = part(obs, action, step)
            total = weight * value if total is None else total + weight * value
            terms.update(part.last_terms)
            if self.absorbing and hasattr(part, "absorbing_value"):
                absorbing.append((weight, part.absorbing_value(value)))
        assert total is not None, "a composed reward has at least one part"
        if absorbing:
            finished = (step.terminated & step.success).to(total.dtype)
            for weight, value in absorbing:
                total = total + weight * self.absorbing * value * finished
        self.last_terms = terms
        return total

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        """Every part learns from the rollout's (M, F) transition features; their stats, merged."""
        stats: dict[str, float] = {}
        for _, part in self.parts.values():
            stats.update(part.update(transitions))
        return stats

    def state_dict(self) -> dict:
        return {name: part.state_dict() for name, (_, part) in self.parts.items()}

    def load_state_dict(self, state: dict) -> None:
        # A checkpoint from before the composition holds the one stateful part's state flat
        # (the task part has none and ignores it): hand it to every part.
        flat = not set(self.parts) <= set(state)
        for name, (_, part) in self.parts.items():
            part.load_state_dict(state if flat else state[name])


def common_magnitude(means: Mapping[str, float], what: str = "term") -> list[float]:
    """Scales s_i = |m_0| / |m_i| that bring each composed term's mean ``means`` (label → m_i) to
    the first one's magnitude; magnitudes, so a scale never flips a term's sign."""
    tiny = [label for label, mean in means.items() if not abs(mean) > 1e-12]
    if tiny:
        raise ValueError(f"{what} {tiny[0]!r} has mean {means[tiny[0]]:g} on its data: cannot scale it")
    first = abs(next(iter(means.values())))
    return [first / abs(mean) for mean in means.values()]


class Labelled:
    """One of several parts of the same kind (AMP's discriminators): its logged terms and stats
    carry its label (``r_amp_walk``, ``amp/loss_walk``); everything else is the part's."""

    def __init__(self, label: str, part: RewardModule):
        self.label, self.part = label, part
        self.last_terms: dict[str, torch.Tensor] = {}
        if hasattr(part, "absorbing_value"):
            self.absorbing_value = part.absorbing_value

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        value = self.part(obs, action, step)
        self.last_terms = {f"{k}_{self.label}": v for k, v in self.part.last_terms.items()}
        return value

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        return {f"{k}_{self.label}": v for k, v in self.part.update(transitions).items()}

    def state_dict(self) -> dict:
        return self.part.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.part.load_state_dict(state)


def task_reward(success_bonus: float = 0.0) -> ComposedReward:
    """Plain PPO's reward: the env's task reward, plus ``success_bonus`` on success terminations."""
    return ComposedReward({"task": (1.0, TaskReward(success_bonus))})
