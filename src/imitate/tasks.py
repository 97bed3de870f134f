"""The task registry: how to build each task's env, its oracle and its trajectory plot."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imitate.config import ConfigError


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    make_env: Callable[..., Any]  # (num_envs, seed, device) -> VecEnv
    oracle: Callable[..., Any]  # (num_episodes, seed, progress) -> Demonstrations
    plot_trajectories: Callable[..., Any] | None = None  # (policy_trajs, demo_trajs, path)
    default_episodes: int = 600


def _maze_env(num_envs: int, seed: int = 0, device: str = "cpu"):
    from imitate.envs.maze import MazeEnv
    return MazeEnv(num_envs, seed=seed, device=device)


def _maze_oracle(num_episodes: int, seed: int = 0, progress: bool = False):
    from imitate.data.oracles.maze import maze_oracle
    return maze_oracle(num_episodes, seed=seed, progress=progress)


def _maze_plot(policy_trajs, demo_trajs, path, **kwargs):
    from imitate.viz.maze import plot_maze_trajectories
    return plot_maze_trajectories(policy_trajs, demo_trajs, path, **kwargs)


TASKS: dict[str, Task] = {
    "maze": Task("maze", "NEAR's 2-D maze: reach the far corner (SPEC §1)", _maze_env, _maze_oracle, _maze_plot),
}

ALGOS: dict[str, str] = {
    "ppo": "PPO on the task reward only (baseline)",
    "energy": "NEAR step 1: NCSN energy model of expert transitions (denoising score matching)",
    "near": "NEAR step 2: PPO on the annealed energy reward (+ task reward); energy=RUN_DIR or runs step 1 first",
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}")
    return TASKS[name]


def check_algo(name: str) -> None:
    if name not in ALGOS:
        raise ConfigError(f"unknown algo {name!r}; available: {', '.join(sorted(ALGOS))}")
