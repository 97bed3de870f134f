"""Maze drawings: walls, start, goal, trajectories, and a video of evaluation episodes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imitate.tasks.maze import (  # noqa: E402
    AGENT_RADIUS,
    ARENA_SIZE,
    GOAL,
    GOAL_RADIUS,
    INNER_WALLS,
    START_HIGH,
    START_LOW,
)
from imitate.utils.io import atomic_savefig  # noqa: E402


def draw_maze(ax) -> None:
    """Walls in grey, start square in green, goal disc in gold, on a 512×512 square axis."""
    for x0, y0, x1, y1 in INNER_WALLS:
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, color="0.35", zorder=3))
    ax.add_patch(
        plt.Rectangle(
            (START_LOW, START_LOW),
            START_HIGH - START_LOW,
            START_HIGH - START_LOW,
            color="tab:green",
            alpha=0.6,
            zorder=3,
        )
    )
    ax.add_patch(plt.Circle(GOAL, GOAL_RADIUS, color="gold", alpha=0.8, zorder=3))
    ax.set_xlim(0, ARENA_SIZE)
    ax.set_ylim(0, ARENA_SIZE)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _paths(ax, trajs: list[np.ndarray], color: str, limit: int) -> None:
    for traj in trajs[:limit]:
        ax.plot(traj[:, 0], traj[:, 1], color=color, alpha=0.35, lw=1.0)
        ax.plot(traj[-1, 0], traj[-1, 1], "o", color=color, ms=2)


def plot_maze_trajectories(
    policy_trajs: list[np.ndarray],
    demo_trajs: list[np.ndarray] | None,
    path: str | Path,
    title: str = "policy",
    limit: int = 60,
) -> Path:
    """Policy paths beside demonstration paths, same axes, so the two can be compared at a glance."""
    panels = [(title, policy_trajs, "tab:blue")]
    if demo_trajs:
        panels.append(("demonstrations", demo_trajs, "tab:red"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 5), squeeze=False)
    for ax, (name, trajs, color) in zip(axes[0], panels):
        draw_maze(ax)
        _paths(ax, trajs, color, limit)
        ax.set_title(f"{name} ({min(limit, len(trajs))} of {len(trajs)} episodes)")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)


def write_maze_video(
    policy_trajs: list[np.ndarray], path: str | Path, episodes: int = 4, fps: float = 5.0, title: str = "policy"
) -> Path:
    """The first ``episodes`` evaluation episodes played together, one frame per control step
    (0.3 s; ``fps`` 5 plays them slower than real time), each agent with the path behind it."""
    from imitate.viz.video import write_episodes_video

    def agent(ax, seen: np.ndarray, color) -> None:
        ax.plot(seen[:, 0], seen[:, 1], color=color, lw=1.2, alpha=0.6)
        ax.add_patch(plt.Circle(tuple(seen[-1, :2]), AGENT_RADIUS, color=color, zorder=4))

    return write_episodes_video(policy_trajs, path, draw_maze, agent, fps, episodes, title)
