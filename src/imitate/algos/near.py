"""NEAR step 2: PPO with the annealed energy reward of a step-1 energy model."""

from __future__ import annotations

from imitate.algos.energy_config import named_level
from imitate.algos.near_config import NEARConfig
from imitate.config import ConfigError
from imitate.rewards.base import TaskReward
from imitate.rewards.compose import ComposedReward
from imitate.rewards.energy import EnergyReward


def make_near_reward(task, cfg: NEARConfig, env) -> ComposedReward:
    """w_task·r_task + w_energy·r_energy, with the absorbing-success value (``rewards/compose.py``),
    on the energy model of the step-1 run ``cfg.energy`` (the runner trains one first when the
    command names none, ``Algo.requires``)."""
    from imitate.algos.energy import load_energy_model

    if not cfg.energy:
        raise ConfigError("near needs energy=RUN_DIR, a NEAR step-1 run")
    model = load_energy_model(cfg.energy, task.name, 2 * env.style_dim)
    energy = EnergyReward(
        model.to(env.device),
        fixed_level=fixed_level(cfg, model.num_levels),
        scale=cfg.energy_scale,
        normalise=cfg.normalise_energy,
    )
    return ComposedReward(
        {"task": (cfg.w_task, TaskReward()), "energy": (cfg.w_energy, energy)},
        absorbing_success=cfg.absorbing_success,
        gamma=cfg.gamma,
    )


def fixed_level(cfg: NEARConfig, num_levels: int) -> int | None:
    """The noise-level index NEAR holds fixed (``fixed_level=K`` or ``noise_level=NAME``); None anneals."""
    if cfg.fixed_level >= 0:
        return cfg.fixed_level
    return None if cfg.noise_level == "annealed" else named_level(cfg.noise_level, num_levels)
