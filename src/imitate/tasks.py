"""The task registry: how to build each task's env, its oracle, its options and its plots.

A task's own options (``n_dim`` of the particle, ``clip`` of the humanoid) live in its
``env_config`` dataclass; they are merged into every run config of the task
(``config.with_task_fields``) so they are flat ``key=value`` keys like any other, and the env
factory and oracle receive the whole run config as ``cfg``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imitate.config import ConfigError


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    make_env: Callable[..., Any]  # (num_envs, seed=0, device="cpu", cfg=None) -> VecEnv
    oracle: Callable[..., Any] | None  # (num_episodes, seed=0, progress=False, cfg=None) -> Demonstrations
    plot_trajectories: Callable[..., Any] | None = None  # (policy_trajs, demo_trajs, path, title=...)
    env_config: type | None = None  # dataclass of task options merged into run configs
    default_episodes: int = 600


def _maze_env(num_envs: int, seed: int = 0, device: str = "cpu", cfg: Any = None):
    from imitate.envs.maze import MazeEnv
    return MazeEnv(num_envs, seed=seed, device=device)


def _maze_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None):
    from imitate.data.oracles.maze import maze_oracle
    return maze_oracle(num_episodes, seed=seed, progress=progress)


def _maze_plot(policy_trajs, demo_trajs, path, **kwargs):
    from imitate.viz.maze import plot_maze_trajectories
    return plot_maze_trajectories(policy_trajs, demo_trajs, path, **kwargs)


TASKS: dict[str, Task] = {
    "maze": Task("maze", "NEAR's 2-D maze: reach the far corner (SPEC §1)", _maze_env, _maze_oracle, _maze_plot),
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}")
    return TASKS[name]
