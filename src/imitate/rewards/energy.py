"""NEAR's learned term: a frozen energy model scored on (s_t, s_t+1), with adaptive noise annealing.

r_energy = tanh((E(x, σ_c) − m)/scale), where σ_c is the annealer's current noise level and m a
moving average of recent rollouts' mean energy (docs/methods.md#near). NEAR's reward
w_task·r_task + w_energy·r_energy (+ the absorbing-success value) is composed in
``rewards/compose.py``.
"""

from __future__ import annotations

from collections import deque

import torch

from imitate.models.energy import NCSN, batched_energy
from imitate.tasks.core.vecenv import StepResult


class Annealer:
    """Adaptive noise-level schedule: move to the next (smaller-σ) level once energy improves.

    Start at level 0 (largest σ). ``observe`` pushes each rollout's mean energy into a moving
    average of the last ``window`` values; the first full average after a switch is the
    baseline; once an average reaches baseline + max(rel·|baseline|, abs_floor), go one level
    down (history and baseline restart); never move back; stay at the last level.

    Why not the original test ``avg >= baseline·1.02``: for a negative baseline, baseline·1.02
    lies *below* it (−100·1.02 = −102), so an unchanged or even worse average passes and the
    schedule runs down the ladder at once. Measuring the gain against |baseline| keeps the
    meaning "2% better" for either sign; ``abs_floor`` keeps a zero baseline from switching on
    zero improvement.
    """

    def __init__(
        self,
        num_levels: int,
        fixed_level: int | None = None,
        window: int = 3,
        rel_improvement: float = 0.02,
        abs_floor: float = 1e-6,
    ):
        if num_levels < 1:
            raise ValueError(f"need at least one noise level, got {num_levels}")
        if fixed_level is not None and not 0 <= fixed_level < num_levels:
            raise ValueError(f"fixed noise level {fixed_level} out of range 0..{num_levels - 1}; use None to anneal")
        if window < 1:
            raise ValueError(f"annealing window must be ≥ 1, got {window}")
        self.num_levels = num_levels
        self.fixed_level = fixed_level
        self.window = window
        self.rel_improvement = rel_improvement
        self.abs_floor = abs_floor
        self.level = 0 if fixed_level is None else fixed_level
        self.history: deque[float] = deque(maxlen=window)
        self.baseline: float | None = None

    @property
    def average(self) -> float | None:
        """Mean of the last ``window`` observations, or None until the window is full."""
        return sum(self.history) / len(self.history) if len(self.history) == self.window else None

    def threshold(self) -> float | None:
        """The average that triggers the next switch, or None while there is no baseline."""
        if self.baseline is None:
            return None
        return self.baseline + max(self.rel_improvement * abs(self.baseline), self.abs_floor)

    def observe(self, mean_energy: float) -> bool:
        """Record a rollout's mean energy at the current level; returns True if the level moved."""
        if self.fixed_level is not None or self.level == self.num_levels - 1:
            return False
        self.history.append(float(mean_energy))
        avg = self.average
        if avg is None:
            return False
        if self.baseline is None:
            self.baseline = avg
            return False
        threshold = self.threshold()
        assert threshold is not None  # the baseline is set
        if avg >= threshold:
            self.level += 1
            self.history.clear()
            self.baseline = None
            return True
        return False

    def state_dict(self) -> dict:
        return {
            "level": self.level,
            "history": list(self.history),
            "baseline": self.baseline,
            "fixed_level": self.fixed_level,
            "num_levels": self.num_levels,
        }

    def load_state_dict(self, state: dict) -> None:
        if state["num_levels"] != self.num_levels:
            raise ValueError(f"annealer state has {state['num_levels']} noise levels, this model {self.num_levels}")
        self.level = state["level"]
        self.history = deque(state["history"], maxlen=self.window)
        self.baseline = state["baseline"]
        self.fixed_level = state["fixed_level"]


class EnergyReward:
    """NEAR's energy term (a ``RewardModule`` part of the composed reward): r_energy of the pair.

    The offset m is the mean of the last ``offset_window`` rollouts' mean energies at the
    current level. Before any rollout at a level has been recorded, m is the mean energy of the
    first batch scored at that level and held until the next ``update``: a constant offset does
    not distort the reward's time structure within a rollout (a per-batch mean would), and it
    is on the right scale (m = 0 is not: v2 energies grow like 1/σ, so tanh would saturate).
    After a level switch the history restarts, because energies at different σ are not
    comparable. The model is frozen in place (eval mode, no parameter grads, normaliser frozen).
    """

    def __init__(
        self,
        model: NCSN,
        fixed_level: int | None = None,
        offset_window: int = 3,
        scale: float = 10.0,
        rel_improvement: float = 0.02,
        normalise: bool = False,
    ):
        self.model = model
        model.eval()
        model.requires_grad_(False)
        model.normalizer.frozen = True
        self.scale = scale
        self.normalise = normalise
        self.spread_history: deque[float] = deque(maxlen=offset_window)
        self.provisional_spread: float | None = None
        self.annealer = Annealer(model.num_levels, fixed_level, rel_improvement=rel_improvement)
        self.offset_history: deque[float] = deque(maxlen=offset_window)
        self.provisional_offset: float | None = None
        self.last_terms: dict[str, torch.Tensor] = {}

    @property
    def level(self) -> int:
        return self.annealer.level

    @property
    def offset(self) -> float | None:
        """The m in use: the window mean, else the provisional first-batch mean, else None."""
        if self.offset_history:
            return sum(self.offset_history) / len(self.offset_history)
        return self.provisional_offset

    @property
    def spread(self) -> float:
        """The divisor of (E − m): ``scale``, times the rollouts' energy std when normalising.

        Why normalise: v2 energies are f(x)/σ and our f is O(0.1), so at the large σ where
        annealing starts E varies by ~1e-3 and tanh((E − m)/10) by ~1e-4: the energy term is
        noise next to the task reward. Dividing by the recent spread of rollout energies (a
        moving window like m) gives the term unit scale at every level."""
        if not self.normalise:
            return self.scale
        std = sum(self.spread_history) / len(self.spread_history) if self.spread_history else self.provisional_spread
        return self.scale * max(std or 1.0, 1e-8)

    def step_energy(self, step: StepResult) -> torch.Tensor:
        """E(x, σ_c) (N,) of one step's transition pairs (N, 2*style_dim)."""
        return self.model.energy(self.model.select(step.transition), self.level)

    def rollout_energy(self, transitions: torch.Tensor) -> torch.Tensor:
        """E(x, σ_c) (M,) of one rollout's pairs (M, 2*style_dim), at the level they were scored at."""
        return batched_energy(self.model, self.model.select(transitions), self.level)

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        """r_energy (N,) for one batched env step, from its transition pairs (N, 2*style_dim)."""
        with torch.no_grad():
            energy = self.step_energy(step)  # (N,)
        offset = self.offset
        if offset is None:
            offset = self.provisional_offset = energy.mean().item()
            self.provisional_spread = energy.std().item() if len(energy) > 1 else 1.0
        r_energy = torch.tanh((energy - offset) / self.spread)  # (N,)
        self.last_terms = {"energy": energy, "r_energy": r_energy}
        return r_energy

    def absorbing_value(self, r_energy: torch.Tensor) -> float:
        """What the term pays per step in the absorbing state after a success: the best energy
        reward, 1 (tanh's supremum), so ending well is never worse than loitering."""
        return 1.0

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        """After a rollout (M, F): update offset and annealer; returns scalars to log.

        ``near/offset`` is the window mean including this rollout, before any reset caused by a
        level switch; ``near/sigma_level`` and ``near/sigma`` are the level for the next rollout.
        """
        energies = self.rollout_energy(transitions)
        mean_energy = energies.mean().item()
        self.offset_history.append(mean_energy)
        self.spread_history.append(energies.std().item() if len(energies) > 1 else 1.0)
        offset, spread = self.offset, self.spread
        assert offset is not None  # the window holds this rollout's mean
        if self.annealer.observe(mean_energy):
            self.offset_history.clear()
            self.spread_history.clear()
            self.provisional_offset = None
        return {
            "near/sigma_level": self.level,
            "near/sigma": float(self.model.sigmas[self.level]),
            "near/mean_energy": mean_energy,
            "near/offset": float(offset),
            "near/spread": float(spread),
        }

    def state_dict(self) -> dict:
        return {
            "annealer": self.annealer.state_dict(),
            "offset_history": list(self.offset_history),
            "provisional_offset": self.provisional_offset,
            "spread_history": list(self.spread_history),
            "provisional_spread": self.provisional_spread,
            "model": self.model.state_dict(),
            "model_config": dict(self.model.config),
        }

    def load_state_dict(self, state: dict) -> None:
        if state["model_config"] != self.model.config:
            raise ValueError(
                f"reward checkpoint's energy model {state['model_config']} does not match this one {self.model.config}"
            )
        self.model.load_state_dict(state["model"])
        self.model.normalizer.frozen = True
        self.annealer.load_state_dict(state["annealer"])
        self.offset_history = deque(state["offset_history"], maxlen=self.offset_history.maxlen)
        self.provisional_offset = state["provisional_offset"]
        self.spread_history = deque(state.get("spread_history", []), maxlen=self.spread_history.maxlen)
        self.provisional_spread = state.get("provisional_spread")
