"""Data for the BCO and IIDM tests: random-action embodiment episodes and oracle demonstrations
of the particle, made here, and the reference error of a random policy's actions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imitate.cli import main
from imitate.data.dataset import Demonstrations
from imitate.oracles.random_actions import random_action_episodes
from imitate.registry import get_task


def particle_data(root: Path, embodiment_episodes: int = 150, demo_episodes: int = 60) -> dict[str, Path]:
    """``embodiment``: random-action episodes; ``demos``: the oracle's (with its actions);
    ``scrambled``: the same observations with random actions; ``observations``: no actions."""
    paths = {name: root / f"{name}.npz" for name in ("embodiment", "demos", "scrambled", "observations")}
    random_action_episodes(get_task("particle"), embodiment_episodes, seed=11).save(paths["embodiment"])
    argv = ["data", "particle", "--episodes", str(demo_episodes), "--out", str(paths["demos"]), "--no-progress"]
    assert main(argv) == 0
    demos = Demonstrations.load(paths["demos"])
    assert demos.actions is not None
    noise = np.random.default_rng(0).uniform(-1, 1, demos.actions.shape)
    Demonstrations(demos.obs, demos.episode_ends, noise, demos.metadata).save(paths["scrambled"])
    Demonstrations(demos.obs, demos.episode_ends, None, demos.metadata).save(paths["observations"])
    return paths


def random_policy_action_mse(demos: Path) -> float:
    """The mean squared error of uniform random actions in [-1, 1] against the expert's:
    E[(u - a)²] = 1/3 + a² per number, averaged over the demo pairs the runs score (every step
    with a successor in its episode)."""
    data = Demonstrations.load(demos)
    assert data.actions is not None
    last = np.zeros(len(data.obs), dtype=bool)
    last[data.episode_ends - 1] = True
    return float((1.0 / 3.0 + data.actions[~last] ** 2).mean())


def run_dir(root: Path) -> Path:
    (config,) = root.rglob("config.yaml")
    return config.parent


def train_on_particle(algo: str, data: dict[str, Path], out: Path, *extra: str) -> Path:
    """A run of ``algo`` on ``data``'s embodiment episodes and oracle demos: 600 + 600 iterations."""
    argv = ["train", "particle", algo, f"embodiment={data['embodiment']}", f"demos={data['demos']}"]
    argv += ["model_iterations=600", "iterations=600", "eval_episodes=20", "progress=false", *extra]
    assert main([*argv, f"out_dir={out}"]) == 0
    return run_dir(out)
