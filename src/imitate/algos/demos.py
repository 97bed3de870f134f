"""A run's demonstrations: the ones it trains on, and the ones drawn beside its policy.

NEAR step 1, AMP and behavioural cloning read the same data (``run_demos``): ``demos=PATH``
(a .npz file, a Minari dataset directory, or ``minari:ID``), or oracle demos generated once into
the run as ``demos.npz``, so a resume or an evaluation sees the very episodes training saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imitate.config import ConfigError
from imitate.data.dataset import Demonstrations, demos_exist
from imitate.utils.run import Run

DEMOS_FILE = "demos.npz"


def run_demos(task, cfg: Any, run: Run) -> Demonstrations:
    """The run's demonstrations: the given file, or oracle demos generated once into the run."""
    if cfg.demos:
        from imitate.data.demo_checks import load_demos_for

        return load_demos_for(task, cfg)
    path = run.dir / DEMOS_FILE
    if path.is_file():
        return Demonstrations.load(path, task=task.name)
    if not task.has_oracle:
        raise ConfigError(f"task {task.name!r} has no oracle: give demos=PATH")
    demos = task.run_oracle(cfg.demo_episodes, seed=cfg.seed, progress=cfg.progress, cfg=cfg)
    demos.save(path)
    return demos


def feature_columns(cfg: Any) -> tuple[int, ...] | None:
    """The columns of a transition pair the run's task options keep (the humanoid's ``mask=``,
    ``tasks/humanoid/masks.py``); None: all of them (every other task)."""
    columns = getattr(getattr(cfg, "task_options", None), "pair_columns", None)
    return columns() if columns is not None else None


def keep_columns(pairs: Any, columns: tuple[int, ...] | None) -> Any:
    """The ``columns`` of (M, D) pairs (``feature_columns``); all of them for None."""
    return pairs if columns is None else pairs[:, list(columns)]


def demo_paths(run_dir: str) -> list:
    """Where a run's demonstrations are: its ``demos=`` file, or those made into it."""
    return [Run.open(run_dir).config_dict().get("demos", ""), Path(run_dir) / DEMOS_FILE]


def trained_demos(task, run_dir: str) -> Demonstrations:
    """The demonstrations a finished run (energy, AMP) was trained on."""
    for path in demo_paths(run_dir):
        if path and demos_exist(path):
            return Demonstrations.load(path, task=task.name)
    raise ConfigError(f"{run_dir}: its demonstrations are gone (no demos file, no {DEMOS_FILE})")


def demo_trajectories(run: Run, cfg: Any, task) -> list:
    """Demonstrations to draw beside a policy: the run's own, its (first) energy run's, else oracle."""
    from imitate.algos.near_config import energy_sources

    candidates = [getattr(cfg, "demos", ""), run.dir / DEMOS_FILE]
    sources = energy_sources(getattr(cfg, "energy", ""))
    if sources:
        candidates += demo_paths(sources[0][1])
    for path in candidates:
        if path and demos_exist(path):
            return Demonstrations.load(path, task=task.name).episodes()
    return task.run_oracle(60, seed=cfg.seed, cfg=cfg).episodes() if task.has_oracle else []
