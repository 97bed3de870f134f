"""Block-pushing drawings: pusher and block paths over the table, with the start and the target;
a video of evaluation episodes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imitate.tasks.block_push import (  # noqa: E402
    BLOCK_HALF_M,
    CONTROL_DT_S,
    PUSHER_RADIUS_M,
    SUCCESS_TOLERANCES_M,
    WORKSPACE,
)
from imitate.utils.io import atomic_savefig  # noqa: E402

# The target is drawn with the tolerances evaluation reports (a disc at the loosest, a ring at
# the tightest), not the env's own: a trajectory does not say which tolerance ended it.
DISC_M, RING_M = max(SUCCESS_TOLERANCES_M), min(SUCCESS_TOLERANCES_M)


def block_outline(obs: np.ndarray) -> np.ndarray:
    """(4, 2) corners of the block in one (10,) observation (its centre and sin/cos yaw)."""
    yaw = np.arctan2(obs[6], obs[7])
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * BLOCK_HALF_M
    rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    return corners @ rot.T + obs[4:6]


def _draw_episode(ax, traj: np.ndarray, color: str, alpha: float) -> None:
    """traj (T, 10) observations: pusher path thin, block path thick, start square, target disc."""
    ax.plot(traj[:, 0], traj[:, 1], color=color, alpha=alpha * 0.6, lw=0.8, ls="--")
    ax.plot(traj[:, 4], traj[:, 5], color=color, alpha=alpha, lw=1.6)
    ax.add_patch(plt.Polygon(block_outline(traj[0]), closed=True, fill=False, ec=color, alpha=alpha, lw=0.8))
    ax.add_patch(plt.Circle((traj[0, 8], traj[0, 9]), DISC_M, color="tab:green", alpha=0.15, lw=0))
    ax.plot(traj[-1, 4], traj[-1, 5], "o", color=color, ms=2.5, alpha=alpha)


def plot_block_push_trajectories(
    policy_trajs: list[np.ndarray],
    demo_trajs: list[np.ndarray] | None,
    path: str | Path,
    title: str = "policy",
    limit: int = 20,
) -> Path:
    """Policy episodes beside demonstration episodes: block paths solid, pusher paths dashed,
    start block outlined, target disc (radius ``DISC_M``) green."""
    panels = [(title, policy_trajs, "tab:blue")]
    if demo_trajs:
        panels.append(("demonstrations", demo_trajs, "tab:orange"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.6), squeeze=False)
    for ax, (name, trajs, color) in zip(axes[0], panels):
        for traj in trajs[:limit]:
            _draw_episode(ax, np.asarray(traj), color, alpha=0.7)
        ax.set_xlim(*WORKSPACE[0])
        ax.set_ylim(*WORKSPACE[1])
        ax.set_aspect("equal")
        ax.set_title(f"{name} ({min(limit, len(trajs))} of {len(trajs)})", fontsize=9)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return path


def _table(ax) -> None:
    ax.set_xlim(*WORKSPACE[0])
    ax.set_ylim(*WORKSPACE[1])
    ax.set_aspect("equal")
    ax.set_xlabel(f"x (m); target: disc {DISC_M:g} m, ring {RING_M:g} m", fontsize=8)


def _pushing(ax, seen: np.ndarray, color) -> None:
    """One episode so far, seen from above: its target (disc and ring at the tolerances evaluation
    reports), the block's path and pose now, the pusher (outlined) now."""
    now = seen[-1]
    ax.add_patch(plt.Circle(tuple(now[8:10]), DISC_M, color="tab:green", alpha=0.2, lw=0))
    ax.add_patch(plt.Circle(tuple(now[8:10]), RING_M, fill=False, ec="tab:green", lw=0.8))
    ax.plot(seen[:, 4], seen[:, 5], color=color, lw=1.0, alpha=0.6)
    ax.add_patch(plt.Polygon(block_outline(now), closed=True, color=color, alpha=0.8))
    ax.add_patch(plt.Circle(tuple(now[0:2]), PUSHER_RADIUS_M, color=color, ec="k", zorder=4))


def write_block_push_video(
    policy_trajs: list[np.ndarray], path: str | Path, episodes: int = 4, title: str = "policy"
) -> Path:
    """The first ``episodes`` evaluation episodes played together from above at real time (one
    frame per 0.1 s control step)."""
    from imitate.viz.video import write_episodes_video

    return write_episodes_video(policy_trajs, path, _table, _pushing, 1.0 / CONTROL_DT_S, episodes, title)
