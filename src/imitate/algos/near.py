"""NEAR step 2: PPO with the annealed energy reward of a step-1 energy model."""
from __future__ import annotations

from imitate.algos.near_config import NEARConfig
from imitate.rewards.energy import EnergyReward


def make_near_reward(task, cfg: NEARConfig, env) -> EnergyReward:
    """The energy reward; with no ``energy=RUN_DIR`` step 1 is trained first and recorded in
    ``cfg.energy`` so the run's config names the model it used."""
    from imitate import runner
    from imitate.algos.energy import load_energy_model
    if not cfg.energy:
        print("no energy=RUN_DIR given: training the energy model first (NEAR step 1)", flush=True)
        step1 = runner.train(task.name, "energy", {"seed": cfg.seed, "out_dir": cfg.out_dir,
                                                   "device": cfg.device, "progress": cfg.progress})
        cfg.energy = str(step1.dir)
    model = load_energy_model(cfg.energy, task.name, 2 * env.style_dim)
    return EnergyReward(model.to(env.device), w_task=cfg.w_task, w_energy=cfg.w_energy,
                        fixed_level=None if cfg.fixed_level < 0 else cfg.fixed_level,
                        scale=cfg.energy_scale, normalise=cfg.normalise_energy,
                        absorbing_value=cfg.gamma / (1 - cfg.gamma) if cfg.absorbing_success and cfg.gamma < 1 else 0.0)
