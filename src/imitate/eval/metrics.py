"""Metrics that compare policy trajectories with demonstrations."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def mean_demo_distance(
    policy_trajs: list[np.ndarray],
    demo_trajs: list[np.ndarray],
    dims: slice = slice(None),
    max_points: int = 20_000,
    seed: int = 0,
) -> float:
    """Mean distance from each visited policy state to the nearest demonstrated state.

    A policy that reaches the goal by a route no demonstrator took scores high even at 100%
    success, so this measures imitation where success rate cannot. Distances are in the
    observation's own units over the ``dims`` chosen (the maze: arena units of x, y)."""
    g = np.random.default_rng(seed)
    pol = np.concatenate([t[:, dims] for t in policy_trajs])
    demo = np.concatenate([t[:, dims] for t in demo_trajs])
    if len(pol) > max_points:
        pol = pol[g.choice(len(pol), max_points, replace=False)]
    if len(demo) > max_points:
        demo = demo[g.choice(len(demo), max_points, replace=False)]
    demo_t = torch.as_tensor(demo, dtype=torch.float32)
    nearest = [
        torch.cdist(torch.as_tensor(chunk, dtype=torch.float32), demo_t).min(dim=1).values
        for chunk in np.array_split(pol, max(1, len(pol) // 2048))
    ]
    return float(torch.cat(nearest).mean())


def maze_metrics(policy_trajs: list[np.ndarray], demo_trajs: list[np.ndarray]) -> dict[str, float]:
    return {"demo_distance": mean_demo_distance(policy_trajs, demo_trajs)}


def pusht_metrics(policy_trajs: list[np.ndarray], options: Any = None) -> dict[str, float]:
    """Coverage of the goal T (success needs > 0.95), averaged over episodes: at each episode's
    last step (``final_coverage``) and its best over the episode (``max_coverage``, Diffusion
    Policy's Push-T score). Every step's block pose is read from the observation's last 6 numbers,
    the current frame also under ``history=K`` (frames oldest first)."""
    from imitate.tasks.pusht import coverage, obs_angle

    steps = torch.as_tensor(np.concatenate([t[:, -6:] for t in policy_trajs]), dtype=torch.float32)
    pose = torch.stack([steps[:, 2], steps[:, 3], obs_angle(steps)], dim=1)
    per_step = coverage(pose).numpy()
    ends = np.cumsum([len(t) for t in policy_trajs])
    starts = ends - np.array([len(t) for t in policy_trajs])
    return {
        "final_coverage": float(per_step[ends - 1].mean()),
        "max_coverage": float(np.maximum.reduceat(per_step, starts).mean()),
    }


def block_push_metrics(policy_trajs: list[np.ndarray], options: Any = None) -> dict[str, float]:
    """``success_rate_tol_<m>``: the share of episodes whose block centre came within each of
    ``SUCCESS_TOLERANCES_M`` of its target at some step, all from one pass over every step of
    every episode; ``success_tolerance_m``: the tolerance at which the env (``options``, the
    task's ``BlockPushOptions``; None: the default) ended these episodes. At that tolerance and
    looser ones the figure is exact, what an env ending episodes there would count; at a tighter
    one it counts the blocks already that close when the episode ended, a lower bound (the
    policy got no steps to push closer)."""
    from imitate.tasks.block_push import SUCCESS_TOLERANCES_M
    from imitate.tasks.block_push_options import BlockPushOptions

    env_tolerance = (BlockPushOptions() if options is None else options).success_tolerance_m
    steps = np.concatenate(policy_trajs)  # (sum of T_i, 10)
    dist = np.linalg.norm(steps[:, 4:6] - steps[:, 8:10], axis=1)
    starts = np.cumsum([0] + [len(t) for t in policy_trajs[:-1]])
    closest = np.minimum.reduceat(dist, starts)  # per episode
    rates = {f"success_rate_tol_{tol:g}": float((closest < tol).mean()) for tol in SUCCESS_TOLERANCES_M}
    return {**rates, "success_tolerance_m": float(env_tolerance)}
