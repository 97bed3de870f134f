"""CEM planning's config (algos/cem.py)."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.algos.energy_config import NCSN_LEVELS
from imitate.config import ConfigError, RunConfig, option


@dataclass
class CEMConfig(RunConfig):
    """CEM model-predictive control scoring sampled action sequences by a NEAR energy (NEAR's baseline)."""

    energy: str = option("", "the energy run directory (NEAR step 1) whose model scores plans")
    eval_episodes: int = option(20, "episodes planned (in parallel) when the run is made; planning is costly", ge=1)
    horizon: int = option(8, "actions per planned sequence", ge=1)
    samples: int = option(160, "candidate sequences per planning env per iteration", ge=1)
    elite_frac: float = option(0.1, "top fraction refitted each iteration", gt=0, le=1)
    iterations: int = option(3, "CEM refits per real step", ge=1)
    init_std: float = option(0.5, "sampling std of a fresh plan (actions live in [-1, 1])", gt=0)
    min_std: float = option(0.05, "floor of the sampling std", ge=0)
    level: int = option(-1, "noise level of the energy; -1: the last (smallest σ)", ge=-1, lt=max(NCSN_LEVELS.values()))
    w_energy: float = option(1.0, "score = w_energy·Σ E(pair, σ) + w_task·Σ r_task over the horizon", ge=0)
    w_task: float = option(0.0, "weight of the task reward in the plan score", ge=0)
    max_steps: int = option(0, "real steps per episode; 0: the task's episode cap", ge=0)

    def check(self) -> None:
        super().check()
        if self.elite_frac * self.samples < 1:
            raise ConfigError(f"elite_frac must keep ≥ 1 of {self.samples} samples, got {self.elite_frac}")
