"""NEAR step 1 as a run: demonstrations → NCSN energy model (denoising score matching)."""
from __future__ import annotations

import time

import torch

from imitate.config import ConfigError

from imitate.algos.energy_config import EnergyConfig
from imitate.data.dataset import Demonstrations
from imitate.models.energy import NCSN, EnergyTrainer, batched_energy
from imitate.utils.numerics import at_iteration
from imitate.utils.progress import progress_bar
from imitate.utils.run import CheckpointError, Run, fits_checkpoint, load_checkpoint
from imitate.utils.seeding import restore_rng

DEMOS_FILE = "demos.npz"


def run_demos(task, cfg: EnergyConfig, run: Run) -> Demonstrations:
    """The run's demonstrations: the given file, or oracle demos generated once into the run."""
    if cfg.demos:
        from imitate.inputs import load_demos_for
        return load_demos_for(task, cfg)
    path = run.dir / DEMOS_FILE
    if path.is_file():
        return Demonstrations.load(path, task=task.name)
    if not task.has_oracle:
        raise ConfigError(f"task {task.name!r} has no oracle: give demos=PATH")
    demos = task.run_oracle(cfg.demo_episodes, seed=cfg.seed, progress=cfg.progress, cfg=cfg)
    demos.save(path)
    return demos


def train_energy(task, cfg: EnergyConfig, run: Run, state: dict | None) -> dict[str, float]:
    """DSM iterations until ``cfg.iterations``; a checkpoint holds the trainer, the data-sampling
    generator, the iteration and the logged running loss, so a resume continues exactly."""
    demos = run_demos(task, cfg, run)
    data = demos.transitions()  # (M, 2 * obs_dim)
    torch.manual_seed(cfg.seed)  # weight init: the same seed, the same model
    model = NCSN(data.shape[1], cfg.hidden, version=cfg.version)
    trainer = EnergyTrainer(model, lr=cfg.lr, ema_decay=cfg.ema_decay)
    generator = torch.Generator().manual_seed(cfg.seed)
    iteration, running = 0, None
    if state is not None:
        with fits_checkpoint():
            trainer.load_state_dict(state["trainer"])
            generator.set_state(state["generator"])
        iteration, running = state["iteration"], state.get("running")
    else:
        trainer.fit_normalizer(data)
    run.begin(cfg, state)
    restore_rng(state)

    def checkpoint() -> None:
        ema = trainer.ema_model()
        run.save_checkpoint({"trainer": trainer.state_dict(), "generator": generator.get_state(),
                             "iteration": iteration, "running": running, "model_config": dict(ema.config),
                             "ema_model": ema.state_dict()}, iteration=iteration, log_step=iteration)

    logger = run.logger()
    bar = progress_bar(cfg.iterations, desc="energy (DSM)", initial=iteration, enabled=cfg.progress)
    try:
        while iteration < cfg.iterations:
            idx = torch.randint(len(data), (cfg.batch_size,), generator=generator)
            with at_iteration(iteration + 1):
                loss = trainer.step(data[idx], generator)
            running = loss if running is None else 0.98 * running + 0.02 * loss
            iteration += 1
            bar.update(1)
            if iteration % 100 == 0:
                logger.log(iteration, {"energy/dsm_loss": running})
                bar.set_postfix(loss=f"{running:.3f}")
            if iteration % cfg.checkpoint_every == 0 or iteration == cfg.iterations:
                checkpoint()
    finally:
        bar.close()
        logger.close()
    return {"dsm_loss": float(running) if running is not None else float("nan"), "iterations": iteration}


def load_energy_model(run_dir, task_name: str, expect_in_dim: int) -> NCSN:
    """The EMA energy model of a finished step-1 run, checked against the task."""
    run = Run.open(run_dir)
    state = load_checkpoint(run.checkpoint_path, expect_task=task_name, expect_algo="energy")
    model = NCSN.from_config(state["model_config"])
    model.load_state_dict(state["ema_model"])
    if model.in_dim != expect_in_dim:
        raise CheckpointError(f"{run.checkpoint_path}: energy model takes {model.in_dim} features, "
                              f"the task's transitions have {expect_in_dim}")
    model.normalizer.frozen = True
    model.eval().requires_grad_(False)
    return model


@torch.no_grad()
def energy_metrics(model: NCSN, data: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Energy on expert transitions vs the same transitions shifted off the data.

    The shift is 1 standard deviation (normalised units) in a random direction; a useful model
    scores data higher at every level, most sharply at small σ.
    """
    g = torch.Generator().manual_seed(seed)
    data = data[torch.randperm(len(data), generator=g)[:4096]]
    std = torch.sqrt(model.normalizer.var).float()
    direction = torch.randn(data.shape, generator=g)
    direction = direction / direction.norm(dim=1, keepdim=True)
    off = data + direction * std
    out = {}
    for name, level in (("largest_sigma", 0), ("middle_sigma", model.num_levels // 2),
                        ("smallest_sigma", model.num_levels - 1)):
        on_e = batched_energy(model, data, level).mean().item()
        off_e = batched_energy(model, off, level).mean().item()
        out[f"energy_data_{name}"] = on_e
        out[f"energy_off_{name}"] = off_e
        out[f"energy_gap_{name}"] = on_e - off_e
    return out


def train_energy_run(task, cfg: EnergyConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    """Step 1 as a run: the demo file is checked before the run directory is created."""
    from imitate.runner import guarded
    run = run or Run.create(task.name, "energy", cfg)  # a given demo file was checked (inputs.py)
    started = time.time() - (state or {}).get("train_seconds", 0.0)
    with guarded(run):
        stats = train_energy(task, cfg, run, state)
    return run, {"train_seconds": round(time.time() - started, 1), **stats}


def evaluate_energy_run(run: Run, task, cfg: EnergyConfig, episodes: int | None = None) -> dict[str, float]:
    """Landscape (maze) and energy-vs-distance plots, and the data/off-data energy gaps."""
    from imitate.viz.energy import plot_energy_vs_distance, plot_maze_energy_landscape
    state = run.load_checkpoint(run.task, "energy")
    model = load_energy_model(run.dir, run.task, state["model_config"]["in_dim"])
    data = run_demos(task, cfg, run).transitions()
    if task.name == "maze":
        plot_maze_energy_landscape(model, data, run.plots_dir / "energy_landscape.png")
    plot_energy_vs_distance(model, data, run.plots_dir / "energy_vs_distance.png")
    return energy_metrics(model, data, seed=cfg.seed)
