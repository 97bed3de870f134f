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

from imitate.config import Checked, ConfigError, option


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    make_env: Callable[..., Any]  # (num_envs, seed=0, device="cpu", cfg=None) -> VecEnv
    oracle: Callable[..., Any] | None  # (num_episodes, seed=0, progress=False, cfg=None) -> Demonstrations
    plot_trajectories: Callable[..., Any] | None = None  # (policy_trajs, demo_trajs, path, title=...)
    env_config: type | None = None  # dataclass of task options merged into run configs
    default_episodes: int = 600
    trajectory_metrics: Callable[..., dict] | None = None  # (policy_trajs, demo_trajs) -> extra metrics


def _maze_env(num_envs: int, seed: int = 0, device: str = "cpu", cfg: Any = None):
    from imitate.tasks.maze import MazeEnv
    return MazeEnv(num_envs, seed=seed, device=device)


def _maze_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None):
    from imitate.oracles.maze import maze_oracle
    return maze_oracle(num_episodes, seed=seed, progress=progress)


def _maze_plot(policy_trajs, demo_trajs, path, **kwargs):
    from imitate.viz.maze import plot_maze_trajectories
    return plot_maze_trajectories(policy_trajs, demo_trajs, path, **kwargs)


def _maze_metrics(policy_trajs, demo_trajs) -> dict:
    from imitate.eval.metrics import mean_demo_distance
    return {"demo_distance": mean_demo_distance(policy_trajs, demo_trajs)}


def _particle_env(num_envs: int, seed: int = 0, device: str = "cpu", cfg: Any = None):
    from imitate.tasks.particle import ParticleEnv
    return ParticleEnv(num_envs, seed=seed, device=device, n_dim=getattr(cfg, "n_dim", 2),
                       goal_order=getattr(cfg, "goal_order", "fixed"))


def _particle_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None):
    from imitate.oracles.particle import particle_oracle
    return particle_oracle(num_episodes, seed=seed, progress=progress, n_dim=getattr(cfg, "n_dim", 2),
                           goal_order=getattr(cfg, "goal_order", "fixed"))


def _particle_plot(policy_trajs, demo_trajs, path, **kwargs):
    from imitate.viz.particle import plot_particle_trajectories
    return plot_particle_trajectories(policy_trajs, demo_trajs, path, **kwargs)


@dataclass
class ParticleOptions(Checked):
    """Options of the particle task (kept here, not in the env module, so listing tasks stays torch-free)."""
    n_dim: int = option(2, "dimensions of the space; observation 4*n_dim, action n_dim", ge=1, le=64)
    goal_order: str = option("fixed", "fixed: goal 1 then goal 2 (SPEC); either: IBC's multimodal oracle, "
                             "random order per episode", choices=("fixed", "either"))


def _block_push_env(num_envs: int, seed: int = 0, device: str = "cpu", cfg: Any = None):
    from imitate.tasks.block_push import BlockPushEnv
    return BlockPushEnv(num_envs, seed=seed, device=device)


def _block_push_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None):
    from imitate.oracles.block_push import block_push_oracle
    return block_push_oracle(num_episodes, seed=seed, progress=progress, cfg=cfg)


def _block_push_plot(policy_trajs, demo_trajs, path, **kwargs):
    from imitate.viz.block_push import plot_block_push_trajectories
    return plot_block_push_trajectories(policy_trajs, demo_trajs, path, **kwargs)


def _pusht_env(num_envs: int, seed: int = 0, device: str = "cpu", cfg: Any = None):
    from imitate.tasks.pusht import PushTEnv
    return PushTEnv(num_envs, seed=seed, device=device)


def _pusht_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None):
    from imitate.oracles.pusht import pusht_oracle
    return pusht_oracle(num_episodes, seed=seed, progress=progress, cfg=cfg)


def _pusht_metrics(policy_trajs, demo_trajs) -> dict:
    """Final coverage of the goal T per episode (success needs > 0.95), averaged."""
    import numpy as np
    import torch
    from imitate.tasks.pusht import coverage, obs_angle
    final = torch.as_tensor(np.stack([t[-1] for t in policy_trajs]), dtype=torch.float32)
    pose = torch.stack([final[:, 2], final[:, 3], obs_angle(final)], dim=1)
    return {"final_coverage": float(coverage(pose).mean())}


def _pusht_plot(policy_trajs, demo_trajs, path, **kwargs):
    from imitate.viz.pusht import plot_pusht_trajectories
    return plot_pusht_trajectories(policy_trajs, demo_trajs, path, **kwargs)


def _humanoid_tracking_env(num_envs: int, seed: int = 0, device: str = "cpu", cfg: Any = None):
    from imitate.envs.humanoid.tracking import make_tracking_env
    return make_tracking_env(num_envs, seed=seed, device=device, cfg=cfg)


from imitate.envs.humanoid.options import CartwheelOptions, TrackingOptions  # noqa: E402 (torch-free)


TASKS: dict[str, Task] = {
    "maze": Task("maze", "NEAR's 2-D maze: reach the far corner (SPEC §1)", _maze_env, _maze_oracle, _maze_plot,
                 trajectory_metrics=_maze_metrics),
    "block-push": Task("block-push", "IBC's planar block pushing in MuJoCo: push the block onto the target (SPEC §5)",
                       _block_push_env, _block_push_oracle, _block_push_plot, default_episodes=1000),
    "particle": Task("particle", "IBC's N-D particle: visit goal 1, then goal 2 (SPEC §5); options n_dim=N, "
                     "goal_order=fixed|either",
                     _particle_env, _particle_oracle, _particle_plot, env_config=ParticleOptions,
                     default_episodes=2000),
    "pusht": Task("pusht", "Diffusion Policy's Push-T in MuJoCo: push the T block onto the goal T (SPEC §1)",
                  _pusht_env, _pusht_oracle, _pusht_plot, default_episodes=200,
                  trajectory_metrics=_pusht_metrics),
    "humanoid-walk": Task("humanoid-walk", "DeepMimic tracking of humanoid3d_walk with a MuJoCo humanoid (SPEC §2); "
                          "option clip=NAME", _humanoid_tracking_env, None, env_config=TrackingOptions),
    "humanoid-cartwheel": Task("humanoid-cartwheel", "DeepMimic tracking of humanoid3d_cartwheel (hands may touch "
                               "the ground; SPEC §2); option clip=NAME", _humanoid_tracking_env, None,
                               env_config=CartwheelOptions),
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}")
    return TASKS[name]
