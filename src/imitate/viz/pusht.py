"""Push-T drawings: the goal T, pusher paths, block-centre paths and final block poses; a video of
evaluation episodes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imitate.tasks.pusht import GOAL_POSE, PHYSICS_DT_S, PUSHER_RADIUS, SUBSTEPS, T_RECTS, WORKSPACE  # noqa: E402
from imitate.utils.io import atomic_savefig  # noqa: E402


def t_outline(x: float, y: float, theta: float) -> np.ndarray:
    """(9, 2) closed outline of the T at pose (x, y, θ) in workspace coordinates."""
    (bx0, by0, bx1, by1), (sx0, _, sx1, sy1) = T_RECTS
    local = np.array(
        [(bx0, by0), (bx1, by0), (bx1, by1), (sx1, by1), (sx1, sy1), (sx0, sy1), (sx0, by1), (bx0, by1), (bx0, by0)]
    )
    c, s = np.cos(theta), np.sin(theta)
    return local @ np.array([[c, s], [-s, c]]) + np.array([x, y])


def draw_workspace(ax) -> None:
    """The 512×512 workspace with the goal T filled in green."""
    ax.add_patch(plt.Polygon(t_outline(*GOAL_POSE), closed=True, color="tab:green", alpha=0.35, zorder=1))
    ax.set_xlim(0, WORKSPACE)
    ax.set_ylim(0, WORKSPACE)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _draw(ax, trajs: list[np.ndarray], color: str, limit: int) -> None:
    for traj in trajs[:limit]:
        ax.plot(traj[:, 0], traj[:, 1], color=color, alpha=0.25, lw=0.8)  # pusher
        ax.plot(traj[:, 2], traj[:, 3], color="0.2", alpha=0.35, lw=0.8, ls=":")  # block centre
        theta = np.arctan2(traj[-1, 4], traj[-1, 5])
        out = t_outline(traj[-1, 2], traj[-1, 3], theta)
        ax.plot(out[:, 0], out[:, 1], color=color, alpha=0.5, lw=0.8)  # final block pose


def plot_pusht_trajectories(
    policy_trajs: list[np.ndarray],
    demo_trajs: list[np.ndarray] | None,
    path: str | Path,
    title: str = "policy",
    limit: int = 30,
) -> Path:
    """Policy episodes beside demonstrations: pusher paths (colour), block-centre paths (dotted),
    final block outlines (colour) and the goal T (green). Observations are (T, 6) Push-T obs."""
    panels = [(title, policy_trajs, "tab:blue")]
    if demo_trajs:
        panels.append(("demonstrations", demo_trajs, "tab:red"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 5), squeeze=False)
    for ax, (name, trajs, color) in zip(axes[0], panels):
        draw_workspace(ax)
        _draw(ax, trajs, color, limit)
        ax.set_title(f"{name} ({min(limit, len(trajs))} of {len(trajs)} episodes)")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)


def _pushing(ax, seen: np.ndarray, color) -> None:
    """One episode so far: the pusher's path, the block's pose now (filled T), the pusher now."""
    now = seen[-1]
    ax.plot(seen[:, 0], seen[:, 1], color=color, lw=0.8, alpha=0.4)
    ax.add_patch(plt.Polygon(t_outline(now[2], now[3], np.arctan2(now[4], now[5])), color=color, alpha=0.6, zorder=2))
    ax.add_patch(plt.Circle(tuple(now[0:2]), PUSHER_RADIUS, color=color, ec="k", zorder=4))


def write_pusht_video(
    policy_trajs: list[np.ndarray], path: str | Path, episodes: int = 4, title: str = "policy"
) -> Path:
    """The first ``episodes`` evaluation episodes played together on the workspace with the goal
    T (green) at real time (one frame per 0.1 s control step)."""
    from imitate.viz.video import write_episodes_video

    return write_episodes_video(
        policy_trajs, path, draw_workspace, _pushing, 1.0 / (PHYSICS_DT_S * SUBSTEPS), episodes, title
    )
