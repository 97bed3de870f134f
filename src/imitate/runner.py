"""What each CLI subcommand does: resolve configs, create or reopen runs, train, evaluate, plot.

Inputs (demo files, energy runs, checkpoints) are checked before a run directory is created,
and a run that fails before its first checkpoint is removed, so bad input leaves nothing behind.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from imitate.config import (ConfigError, EnergyConfig, NEARConfig, PPOConfig, apply_overrides,
                            preset, to_dict)
from imitate.tasks import Task, check_algo, get_task
from imitate.utils.run import CheckpointError, Run

CONFIGS: dict[str, type] = {"ppo": PPOConfig, "near": NEARConfig, "energy": EnergyConfig}


def resolve_config(task: str, algo: str, overrides: dict[str, Any]) -> Any:
    cls = CONFIGS[algo]
    cfg = apply_overrides(cls(), preset(task, algo), f"preset configs/{task}.yaml[{algo}]")
    cfg = apply_overrides(cfg, overrides, f"`imitate train {task} {algo}`")
    cfg.validate()
    return cfg


@contextmanager
def guarded(run: Run):
    """Remove the run directory if it fails before writing any checkpoint."""
    try:
        yield run
    except BaseException:
        if not run.has_checkpoint():
            run.discard()
        raise


def train(task_name: str, algo: str, overrides: dict[str, Any]) -> Run:
    task = get_task(task_name)
    check_algo(algo)
    state = None
    if overrides.get("resume"):
        run = Run.open(overrides["resume"])
        if (run.task, run.algo) != (task_name, algo):
            raise ConfigError(f"{run.dir} is a {run.task}/{run.algo} run, not {task_name}/{algo}")
        extra = {k: v for k, v in overrides.items() if k != "resume"}
        cfg = apply_overrides(CONFIGS[algo](), run.config_dict(), f"{run.dir}/config.yaml")
        cfg = apply_overrides(cfg, extra, f"`imitate train {task_name} {algo}`")
        cfg.validate()
        if run.has_checkpoint():
            state = run.load_checkpoint(task_name, algo)
        run.save_config(cfg)
    else:
        cfg = resolve_config(task_name, algo, overrides)
        run = None
    if algo == "energy":
        return _train_energy(task, cfg, run, state)
    return _train_policy(task, algo, cfg, run, state)


def _train_energy(task: Task, cfg: EnergyConfig, run: Run | None, state: dict | None) -> Run:
    from imitate.algos.energy import train_energy
    from imitate.data.dataset import Demonstrations
    if cfg.demos:  # check the file before creating anything
        Demonstrations.load(cfg.demos, task=task.name)
    run = run or Run.create(task.name, "energy", cfg)
    started = time.time()
    with guarded(run):
        stats = train_energy(task, cfg, run, state)
    metrics = evaluate(run, quiet=True)
    run.write_metrics({**metrics, "train_seconds": round(time.time() - started, 1), **stats})
    return run


def _energy_for_near(task: Task, cfg: NEARConfig, style_dim: int):
    """Load step 1's energy model, running step 1 first when no energy run is given."""
    from imitate.algos.energy import load_energy_model
    energy_dir = cfg.energy
    if not energy_dir:
        print("no energy=RUN_DIR given: training the energy model first (NEAR step 1)", flush=True)
        step1 = train(task.name, "energy", {"seed": cfg.seed, "out_dir": cfg.out_dir,
                                            "device": cfg.device, "progress": cfg.progress})
        energy_dir = str(step1.dir)
    return energy_dir, load_energy_model(energy_dir, task.name, 2 * style_dim)


def _train_policy(task: Task, algo: str, cfg: PPOConfig, run: Run | None, state: dict | None) -> Run:
    from imitate.algos.ppo import PPO
    from imitate.rewards.base import TaskReward
    from imitate.rewards.energy import EnergyReward
    from imitate.utils.logger import Logger
    env = task.make_env(cfg.num_envs, seed=cfg.seed, device=cfg.device)
    if algo == "near":
        energy_dir, model = _energy_for_near(task, cfg, env.style_dim)
        if energy_dir != cfg.energy:
            cfg = apply_overrides(cfg, {"energy": energy_dir}, "near")
        reward = EnergyReward(model.to(env.device), w_task=cfg.w_task, w_energy=cfg.w_energy,
                              fixed_level=None if cfg.fixed_level < 0 else cfg.fixed_level,
                              scale=cfg.energy_scale)
    else:
        reward = TaskReward()
    ppo = PPO(env, cfg, reward)
    if state is not None:
        try:
            ppo.load_state_dict(state["ppo"])
        except (KeyError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"checkpoint does not fit this run: {str(exc).splitlines()[0]}") from None
    run = run or Run.create(task.name, algo, cfg)
    run.save_config(cfg)  # records the energy run used
    started = time.time() - (state or {}).get("train_seconds", 0.0)
    logger = Logger(run.dir)
    with guarded(run):
        try:
            ppo.train(log=logger.log, checkpoint=lambda s: run.save_checkpoint(
                {"ppo": s, "train_seconds": time.time() - started}))
        finally:
            logger.close()
    train_seconds = time.time() - started
    metrics = evaluate(run, episodes=cfg.eval_episodes, quiet=True)
    run.write_metrics({**metrics, "train_seconds": round(train_seconds, 1), "env_steps": ppo.global_step})
    return run


# -- evaluation ------------------------------------------------------------------------------
def _policy_from_run(run: Run):
    from imitate.algos.ppo import PPO
    cfg = apply_overrides(CONFIGS[run.algo](), run.config_dict(), f"{run.dir}/config.yaml")
    state = run.load_checkpoint(run.task, run.algo)
    task = get_task(run.task)
    env = task.make_env(1, seed=cfg.seed)
    ppo = PPO(env, cfg)
    try:
        ppo.model.load_state_dict(state["ppo"]["model"])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{run.checkpoint_path}: policy does not fit task {run.task!r} "
                              f"({str(exc).splitlines()[0]})") from None
    return cfg, ppo.model.eval()


def _demo_trajectories(run: Run, cfg: Any, task: Task) -> list:
    """Demonstrations to draw beside the policy: the run's own, its energy run's, else oracle."""
    from imitate.algos.energy import DEMOS_FILE
    from imitate.data.dataset import Demonstrations
    candidates = [getattr(cfg, "demos", ""), run.dir / DEMOS_FILE]
    if getattr(cfg, "energy", ""):
        energy_cfg = Run.open(cfg.energy).config_dict()
        candidates += [energy_cfg.get("demos", ""), Path(cfg.energy) / DEMOS_FILE]
    for path in candidates:
        if path and Path(path).is_file():
            return Demonstrations.load(path, task=task.name).episodes()
    return task.oracle(60, seed=cfg.seed).episodes()


def evaluate(run_dir: str | Path | Run, episodes: int = 100, quiet: bool = False) -> dict[str, Any]:
    """Evaluate a run, write ``metrics.json`` (merged with what training wrote) and plots."""
    run = run_dir if isinstance(run_dir, Run) else Run.open(run_dir)
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {episodes}")
    task = get_task(run.task)
    if run.algo == "energy":
        metrics = _evaluate_energy(run, task)
    else:
        from imitate.eval.rollouts import evaluate_policy
        cfg, model = _policy_from_run(run)
        env = task.make_env(episodes, seed=cfg.seed + 10_000)
        result = evaluate_policy(model, env, seed=cfg.seed + 10_000)
        metrics = result.metrics()
        if task.plot_trajectories is not None:
            task.plot_trajectories(result.trajectories, _demo_trajectories(run, cfg, task),
                                   run.plots_dir / "trajectories.png", title=f"{run.algo} policy")
    old = {}
    if (run.dir / "metrics.json").is_file():
        old = json.loads((run.dir / "metrics.json").read_text())
    metrics = {"task": run.task, "algo": run.algo, **{k: v for k, v in old.items()
                                                      if k not in metrics}, **metrics}
    run.write_metrics(metrics)
    return metrics


def _evaluate_energy(run: Run, task: Task) -> dict[str, float]:
    from imitate.algos.energy import energy_metrics, load_energy_model, run_demos
    from imitate.viz.energy import plot_energy_vs_distance, plot_maze_energy_landscape
    cfg = apply_overrides(EnergyConfig(), run.config_dict(), f"{run.dir}/config.yaml")
    state = run.load_checkpoint(run.task, "energy")
    model = load_energy_model(run.dir, run.task, state["model_config"]["in_dim"])
    data = run_demos(task, cfg, run).transitions()
    if task.name == "maze":
        plot_maze_energy_landscape(model, data, run.plots_dir / "energy_landscape.png")
    plot_energy_vs_distance(model, data, run.plots_dir / "energy_vs_distance.png")
    return energy_metrics(model, data, seed=cfg.seed)


def plot(run_dir: str | Path) -> list[Path]:
    """Every plot that fits the run: learning curves, and what evaluation draws."""
    from imitate.viz.curves import plot_learning_curves
    run = Run.open(run_dir)
    rows = run.read_progress()
    keys = (["energy/dsm_loss"] if run.algo == "energy" else
            ["episode/success_rate", "episode/length", "episode/return", "near/sigma_level",
             "near/mean_energy", "reward/r_energy", "policy/action_std"])
    made = [plot_learning_curves(rows, keys, run.plots_dir / "learning_curves.png",
                                 title=f"{run.task} / {run.algo}")]
    evaluate(run, quiet=True)
    made += sorted(run.plots_dir.glob("*.png"))
    return sorted({p for p in made if p is not None})


def make_data(task_name: str, episodes: int, out: str | None, seed: int = 0, progress: bool = True) -> tuple[Path, Any]:
    task = get_task(task_name)
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {episodes}")
    path = Path(out or f"data/{task_name}.npz")
    demos = task.oracle(episodes, seed=seed, progress=progress)
    demos.save(path)
    return path, demos


def set_threads() -> None:
    """One intra-op thread by default (IMITATE_THREADS to change): on a 2-core CPU a second
    thread gained nothing for these small networks and slowed everything when the machine was
    busy. Denormals are flushed: tiny PD velocities otherwise slow CPU maths badly."""
    import os
    torch.set_num_threads(max(1, int(os.environ.get("IMITATE_THREADS", "1"))))
    torch.set_flush_denormal(True)
