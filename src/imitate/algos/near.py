"""NEAR step 2: PPO with the annealed energy reward of a step-1 energy model, or of several summed."""

from __future__ import annotations

from typing import Any

from imitate.algos.energy_config import named_level
from imitate.algos.labelled_runs import gate_option
from imitate.algos.near_config import NEARConfig, energy_sources
from imitate.config import ConfigError
from imitate.rewards.base import TaskReward
from imitate.rewards.compose import ComposedReward
from imitate.rewards.energy import EnergyReward
from imitate.rewards.energy_sum import ComposedEnergyReward, composition_scales
from imitate.rewards.gate import ProximityGate


def make_near_reward(task, cfg: NEARConfig, env) -> ComposedReward:
    """w_task·r_task + w_energy·r_energy, with the absorbing-success value (``rewards/compose.py``),
    on the energy model of the step-1 run ``cfg.energy`` (the runner trains one first when the
    command names none, ``Algo.requires``), or on the scaled, weighted sum of several
    (``energy=LABEL:RUN,LABEL:RUN``, ``rewards/energy_sum.py``)."""
    from imitate.algos.demos import trained_demos
    from imitate.algos.energy import load_energy_model

    sources = energy_sources(cfg.energy)
    if not sources:
        raise ConfigError("near needs energy=RUN_DIR, a NEAR step-1 run")
    models = {label: load_energy_model(path, task.name, 2 * env.style_dim).to(env.device) for label, path in sources}
    first = next(iter(models.values()))
    options: dict[str, Any] = {
        "fixed_level": fixed_level(cfg, first.num_levels),
        "scale": cfg.energy_scale,
        "normalise": cfg.normalise_energy,
    }
    energy: EnergyReward
    if len(models) == 1:
        energy = EnergyReward(first, **options)
    else:
        pairs = {label: trained_demos(task, path).transitions().to(env.device) for label, path in sources}
        gate = ProximityGate(*gate_option(cfg.energy_gate)) if cfg.energy_gate else None
        weights = cfg.energy_weights or (1.0,) * len(models)
        energy = ComposedEnergyReward(models, weights, composition_scales(models, pairs), gate, **options)
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
