"""NEAR step 2's config (algos/near.py)."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.algos.energy_config import LEVEL_NAMES, NCSN_LEVELS
from imitate.algos.labelled_runs import check_gate, labelled_runs
from imitate.algos.ppo_config import PPOConfig
from imitate.config import ConfigError, option


def energy_sources(energy: str) -> list[tuple[str, str]]:
    """``energy=``'s (label, energy run) pairs (``labelled_runs``)."""
    return labelled_runs(energy, "energy")


@dataclass
class NEARConfig(PPOConfig):
    """NEAR step 2: PPO on the annealed energy reward (plus a weighted task reward)."""

    energy: str = option(
        "",
        "the energy run directory from step 1 (empty: run step 1 first), or several summed: LABEL:RUN,LABEL:RUN",
    )
    energy_weights: tuple[float, ...] = option(
        (), "relative weights of the composed energy models, in energy='s order (empty: equal)", gt=0
    )
    energy_gate: str = option(
        "", "LABEL:METRES: composed model LABEL counts only where the task's goal_distance is within METRES"
    )
    w_task: float = option(0.5, "weight of the task reward", ge=0)
    w_energy: float = option(0.5, "weight of the energy reward", ge=0)
    fixed_level: int = option(
        -1,
        "-1: adaptive annealing; otherwise the noise-level index to use "
        f"(< {NCSN_LEVELS['v2']} for v2, < {NCSN_LEVELS['v1']} for v1)",
        ge=-1,
        lt=max(NCSN_LEVELS.values()),
    )
    noise_level: str = option(
        "annealed",
        "annealed: adaptive annealing; largest|middle|smallest: that σ of the model's ladder, fixed "
        "(index 0, n // 2, n - 1 of its n levels, whichever NCSN version; NEAR's ablations)",
        choices=("annealed", *LEVEL_NAMES),
    )
    # Ours differs from NEAR's on purpose (docs/near.md): NEAR's tanh((E - m)/10) with the
    # original constant is `normalise_energy=false energy_scale=10 absorbing_success=false`.
    energy_scale: float = option(
        1.0, "r = tanh((E - m) / energy_scale) [× rollout energy std if normalise_energy]", gt=0
    )
    normalise_energy: bool = option(True, "divide E - m by the recent rollouts' energy std too")
    absorbing_success: bool = option(True, "a success is worth r_energy = 1 for ever after: gamma/(1-gamma)")

    def check(self) -> None:
        super().check()
        if self.w_task + self.w_energy <= 0:
            raise ConfigError("w_task + w_energy must be positive")
        sources = energy_sources(self.energy)
        if self.energy_weights and len(self.energy_weights) != len(sources):
            raise ConfigError(f"energy_weights has {len(self.energy_weights)} weights for {len(sources)} energy models")
        if self.energy_gate:
            check_gate(self.energy_gate, "energy_gate", sources, "energy")
        if self.fixed_level >= 0 and self.noise_level != "annealed":
            raise ConfigError(
                f"fixed_level={self.fixed_level} and noise_level={self.noise_level} both fix the noise level: give one"
            )
