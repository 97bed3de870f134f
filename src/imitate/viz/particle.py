"""Particle drawings: trajectories with their goals, an implicit policy's energy over actions, and
a video of evaluation episodes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from imitate.tasks.particle import (  # noqa: E402
    GOAL_DISTANCE,
    MAX_EPISODE_STEPS,
    SUBSTEP_S,
    SUBSTEPS,
    action_to_target,
)
from imitate.utils.io import atomic_savefig  # noqa: E402


def _split(traj: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 4N) observations → positions (T, N), goal 1 (N,), goal 2 (N,)."""
    n = traj.shape[1] // 4
    return traj[:, :n], traj[0, 2 * n : 3 * n], traj[0, 3 * n :]


def plot_particle_trajectories(
    policy_trajs: list[np.ndarray],
    demo_trajs: list[np.ndarray] | None,
    path: str | Path,
    title: str = "policy",
    limit: int = 12,
) -> Path:
    """2-D: paths in the unit square with goal 1 (green) and goal 2 (blue) circles of the success
    radius. N-D: distance to goal 1 and goal 2 over time, one line per episode."""
    panels = [(title, policy_trajs)]
    if demo_trajs:
        panels.append(("demonstrations", demo_trajs))
    n_dim = policy_trajs[0].shape[1] // 4
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 5), squeeze=False)
    colors = plt.cm.tab10(np.arange(10))
    for ax, (name, trajs) in zip(axes[0], panels):
        shown = trajs[:limit]
        for i, traj in enumerate(shown):
            pos, g1, g2 = _split(traj)
            c = colors[i % 10]
            if n_dim == 2:
                ax.plot(pos[:, 0], pos[:, 1], color=c, lw=1.0, alpha=0.8)
                ax.plot(pos[0, 0], pos[0, 1], "o", color=c, ms=3)
                ax.add_patch(plt.Circle((g1[0], g1[1]), GOAL_DISTANCE, color="tab:green", alpha=0.35))
                ax.add_patch(plt.Circle((g2[0], g2[1]), GOAL_DISTANCE, color="tab:blue", alpha=0.35))
                ax.plot([g1[0], g2[0]], [g1[1], g2[1]], ":", color=c, lw=0.6)
            else:
                t = np.arange(len(pos))
                ax.plot(t, np.linalg.norm(pos - g1, axis=1), color=c, lw=1.0, alpha=0.8)
                ax.plot(t, np.linalg.norm(pos - g2, axis=1), "--", color=c, lw=1.0, alpha=0.8)
        if n_dim == 2:
            ax.set_xlim(-0.05, 1.05)
            ax.set_ylim(-0.05, 1.05)
            ax.set_aspect("equal")
            ax.set_xlabel("green: goal 1, blue: goal 2")
        else:
            ax.axhline(GOAL_DISTANCE, color="k", lw=0.5)
            ax.set_yscale("log")
            ax.set_xlabel("step")
            ax.set_ylabel(f"distance to goal 1 (solid), goal 2 (dashed); {n_dim}-D")
        ax.set_title(f"{name} ({len(shown)} of {len(trajs)} episodes)")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_energy_landscape(
    policy, obs: torch.Tensor | list[torch.Tensor], path: str | Path, title: str = "E(o, a)", resolution: int = 101
) -> Path:
    """Heat map of E(o, a) over 2-D actions (drawn as PD set-points in [0, 1]²) at each given
    observation, with the agent, both goals and the action the policy picks there."""
    observations = obs if isinstance(obs, list) else [obs]
    fig, axes = plt.subplots(1, len(observations), figsize=(5.2 * len(observations), 4.6), squeeze=False)
    gen = torch.Generator(device=observations[0].device).manual_seed(0)
    for ax, o in zip(axes[0], observations):
        xs, ys, e = policy.energy_grid(o, resolution)
        sx, sy = action_to_target(xs).cpu().numpy(), action_to_target(ys).cpu().numpy()
        mesh = ax.pcolormesh(sx, sy, e.cpu().numpy(), shading="auto", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label="energy (higher = preferred)")
        on = o.cpu().numpy()
        pos, vel, g1, g2 = on[0:2], on[2:4], on[4:6], on[6:8]
        with torch.no_grad():
            chosen = action_to_target(policy.act(o[None], generator=gen))[0].cpu().numpy()
        ax.plot(*g1, "o", mfc="none", mec="lime", ms=12, mew=2, label="goal 1")
        ax.plot(*g2, "s", mfc="none", mec="cyan", ms=12, mew=2, label="goal 2")
        ax.plot(*pos, "w^", ms=8, label="agent")
        ax.arrow(pos[0], pos[1], 0.1 * vel[0], 0.1 * vel[1], color="w", width=0.004)
        ax.plot(*chosen, "rx", ms=10, mew=2, label="policy's action")
        ax.set_xlabel("set-point x")
        ax.set_ylabel("set-point y")
        ax.set_aspect("equal")
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)


def write_particle_video(
    policy_trajs: list[np.ndarray], path: str | Path, episodes: int = 4, title: str = "policy"
) -> Path:
    """The first ``episodes`` evaluation episodes played together at real time (one frame per
    0.05 s control step). 2-D: each agent with its path and its goals (goal 1 a dashed ring, goal
    2 a filled disc, both of the success radius, in the agent's colour). N-D: each episode's
    distance to goal 1 (solid) and goal 2 (dashed) growing over time."""
    from imitate.viz.video import write_episodes_video

    n_dim = np.asarray(policy_trajs[0]).shape[1] // 4

    def plane(ax) -> None:
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_aspect("equal")
        ax.set_xlabel("dashed ring: goal 1, disc: goal 2", fontsize=8)

    def agent(ax, seen: np.ndarray, color) -> None:
        pos, g1, g2 = _split(seen)
        ax.add_patch(plt.Circle(tuple(g1), GOAL_DISTANCE, fill=False, ec=color, ls="--", lw=1.2))
        ax.add_patch(plt.Circle(tuple(g2), GOAL_DISTANCE, color=color, alpha=0.3, lw=0))
        ax.plot(pos[:, 0], pos[:, 1], color=color, lw=1.0, alpha=0.7)
        ax.plot(pos[-1, 0], pos[-1, 1], "o", color=color, ms=6)

    def distance_axes(ax) -> None:
        ax.axhline(GOAL_DISTANCE, color="k", lw=0.5)
        ax.set_xlim(0, MAX_EPISODE_STEPS)
        ax.set_ylim(1e-3, np.sqrt(n_dim))
        ax.set_yscale("log")
        ax.set_xlabel(f"step; distance to goal 1 (solid), goal 2 (dashed); {n_dim}-D", fontsize=8)

    def distances(ax, seen: np.ndarray, color) -> None:
        pos, g1, g2 = _split(seen)
        t = np.arange(len(pos))
        ax.plot(t, np.linalg.norm(pos - g1, axis=1), color=color, lw=1.0)
        ax.plot(t, np.linalg.norm(pos - g2, axis=1), "--", color=color, lw=1.0)

    scene, episode = (plane, agent) if n_dim == 2 else (distance_axes, distances)
    return write_episodes_video(policy_trajs, path, scene, episode, 1.0 / (SUBSTEPS * SUBSTEP_S), episodes, title)
