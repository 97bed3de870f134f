"""NEAR's energy term from several energy models (composition, docs/humanoid_imitation.md#composed-rewards).

    E(x, σ) = Σ_i c_i · s_i · E_i(x_i, σ) / Σ_i c_i,    c_i = w_i · [term i is on]

Each model i reads its own masked columns x_i of the pair (``NCSN.select``) and is scaled to the
first model's magnitude, s_i = |mean E_0| / |mean E_i| at the largest σ on each model's own
demonstration pairs (``composition_scales``). The weights w_i are relative. A proximity gate
(``ProximityGate``, rewards/gate.py) switches one term off where the task's goal is farther than a distance; the
weights of the terms still on are renormalised, so the sum keeps one magnitude whether the gate is
open or not. The sum then is one energy for NEAR's reward (``EnergyReward``): one offset, one
spread, one annealed level for every model.

Why one level for all: v2 energies are f_i(x)/σ, so at a shared σ the ratio of two models is that
of their f, the quantity the scales were measured on; models at different levels would differ by
σ_a/σ_b as well and the weights would stop meaning what they say. The annealer follows the summed
energy, the quantity the policy is rewarded for. Every model must have the same noise ladder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from imitate.models.energy import NCSN, batched_energy
from imitate.rewards.compose import common_magnitude
from imitate.rewards.energy import EnergyReward
from imitate.rewards.gate import ProximityGate
from imitate.tasks.core.vecenv import StepResult


def composition_scales(models: Mapping[str, NCSN], pairs: Mapping[str, torch.Tensor]) -> list[float]:
    """s_i = |mean E_0| / |mean E_i| at level 0 (the largest σ), each model on its own pairs
    (M_i, raw_dim). Magnitudes, so a scale never flips a model's sign (energies may be negative)."""
    means = {label: float(batched_energy(m, m.select(pairs[label]), 0).mean()) for label, m in models.items()}
    return common_magnitude(means, "energy model")


class ComposedEnergyReward(EnergyReward):
    """NEAR's energy term on the scaled, weighted sum of ``models`` (label → model, the first sets
    the scale); annealing, offset and spread as ``EnergyReward``'s, on the sum. Logs each model's
    rollout mean energy as ``near/energy_<label>`` and its scale as ``near/scale_<label>``."""

    def __init__(
        self,
        models: Mapping[str, NCSN],
        weights: Sequence[float],
        scales: Sequence[float],
        gate: ProximityGate | None = None,
        **kwargs,
    ):
        labels = list(models)
        if not len(labels) == len(weights) == len(scales) or not labels:
            raise ValueError(f"{len(labels)} energy models, {len(weights)} weights, {len(scales)} scales")
        if any(not w > 0 for w in weights):
            raise ValueError(f"energy weights must be positive, got {list(weights)}")
        first = models[labels[0]]
        for label, m in models.items():
            if m.num_levels != first.num_levels or not torch.equal(m.sigmas.cpu(), first.sigmas.cpu()):
                raise ValueError(
                    f"composed energy models need one noise ladder: {labels[0]!r} has "
                    f"{first.num_levels} levels ({first.version}), {label!r} {m.num_levels} ({m.version})"
                )
        if gate is not None and (gate.label not in models or len(labels) < 2):
            raise ValueError(f"proximity gate of {gate.label!r}: not one of several models {labels}")
        super().__init__(first, **kwargs)
        for m in models.values():  # frozen like the first (EnergyReward)
            m.eval().requires_grad_(False)
            m.normalizer.frozen = True
        total = float(sum(weights))
        self.models = dict(models)
        self.weights = {label: float(w) / total for label, w in zip(labels, weights)}
        self.scales = {label: float(s) for label, s in zip(labels, scales)}
        self.gate = gate
        self.scored: list[torch.Tensor] = []  # summed energies of this rollout's steps, as rewarded
        self.last_model_energies: dict[str, torch.Tensor] = {}
        self.rollout_means: dict[str, float] = {}

    def model_energies(self, pairs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each model's own (unscaled) energy (M,) of raw pairs (M, raw_dim) at the current level."""
        return {label: batched_energy(m, m.select(pairs), self.level) for label, m in self.models.items()}

    def combine(
        self, energies: Mapping[str, torch.Tensor], on: Mapping[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Σ c_i s_i E_i / Σ c_i (M,), with c_i = w_i where term i is ``on`` ((M,) bool; all if absent)."""
        num: torch.Tensor | None = None
        den: torch.Tensor | None = None
        for label, energy in energies.items():
            c = self.weights[label] * (on[label].to(energy.dtype) if on and label in on else torch.ones_like(energy))
            term = c * self.scales[label] * energy
            num, den = (term, c) if num is None or den is None else (num + term, den + c)
        assert num is not None and den is not None, "a composition has at least one model"
        return num / den.clamp_min(1e-12)

    def step_energy(self, step: StepResult) -> torch.Tensor:
        energies = self.model_energies(step.transition)
        on = {self.gate.label: self.gate.on(step)} if self.gate is not None else None
        total = self.combine(energies, on)
        self.last_model_energies = energies
        if self.gate is not None:
            self.scored.append(total)
        return total

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        r_energy = super().__call__(obs, action, step)
        self.last_terms.update({f"energy_{label}": e for label, e in self.last_model_energies.items()})
        return r_energy

    def rollout_energy(self, transitions: torch.Tensor) -> torch.Tensor:
        """The summed energies of the rollout as they were rewarded (gate included) when the steps
        scored since the last update are this rollout's; otherwise the ungated sum."""
        energies = self.model_energies(transitions)
        self.rollout_means = {label: float(e.mean()) for label, e in energies.items()}
        scored, self.scored = self.scored, []
        if self.gate is not None and scored and sum(len(s) for s in scored) == len(transitions):
            return torch.cat(scored)
        return self.combine(energies)

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        stats = super().update(transitions)
        for label in self.models:
            stats[f"near/energy_{label}"] = self.rollout_means[label]
            stats[f"near/scale_{label}"] = self.scales[label]
        return stats

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["composition"] = {
            "weights": dict(self.weights),
            "scales": dict(self.scales),
            "models": {label: m.state_dict() for label, m in self.models.items()},
            "model_configs": {label: dict(m.config) for label, m in self.models.items()},
        }
        return state

    def load_state_dict(self, state: dict) -> None:
        composition = state.get("composition")
        if composition is None or composition["model_configs"] != {k: m.config for k, m in self.models.items()}:
            raise ValueError(f"reward checkpoint's energy models do not match this composition {list(self.models)}")
        super().load_state_dict(state)
        self.weights, self.scales = dict(composition["weights"]), dict(composition["scales"])
        for label, m in self.models.items():
            m.load_state_dict(composition["models"][label])
            m.normalizer.frozen = True
