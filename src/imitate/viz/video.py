"""Videos: frames encoded to an mp4 (or gif) atomically, frames taken from matplotlib figures, and
evaluation episodes played together as a 2-D drawing (the planar tasks' videos)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def write_frames(frames, path: str | Path, fps: float) -> Path:
    """Encode RGB frames (iterable of (H, W, 3) uint8) to path atomically (temp file + rename)."""
    import imageio.v2 as imageio

    from imitate.utils.io import atomic_path

    path = Path(path)
    kwargs: dict[str, Any] = {"fps": fps}
    if path.suffix in ("", ".mp4"):
        kwargs.update(codec="libx264", macro_block_size=8, quality=7)
    elif path.suffix == ".gif":  # Pillow's GIF writer takes each frame's duration (ms), looping
        kwargs = {"duration": 1000.0 / fps, "loop": 0}
    with atomic_path(path, suffix=f".tmp{path.suffix or '.mp4'}") as tmp:  # the suffix tells imageio the format
        with imageio.get_writer(tmp, **kwargs) as writer:
            for f in frames:
                writer.append_data(f)  # type: ignore[attr-defined]  # imageio's v2 writers have it
    return path


def figure_frame(fig) -> np.ndarray:
    """The figure as drawn now, (H, W, 3) uint8 (matplotlib's Agg canvas)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()  # Agg


def write_episodes_video(
    trajs,
    path: str | Path,
    draw_scene: Callable[[Any], None],
    draw_episode: Callable[[Any, np.ndarray, Any], None],
    fps: float,
    episodes: int = 4,
    title: str = "policy",
) -> Path:
    """The first ``episodes`` evaluation episodes (observation arrays (T_i, obs_dim)) played
    together on one 400×400 axis, one frame per observation; an episode that has ended holds its
    last state. ``draw_scene(ax)`` draws what every frame shares, ``draw_episode(ax, seen, color)``
    one episode's observations so far (``seen``: its first t + 1 rows). Matplotlib only: no OpenGL."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [np.asarray(t) for t in trajs[:episodes]]
    if not shown:
        raise ValueError("a video needs at least one episode")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    frames = []
    try:
        for t in range(max(len(traj) for traj in shown)):
            ax.cla()
            draw_scene(ax)
            for i, traj in enumerate(shown):
                draw_episode(ax, traj[: t + 1], colors[i % len(colors)])
            ax.set_title(f"{title}, {len(shown)} episodes, step {t}", fontsize=9)
            frames.append(figure_frame(fig))
    finally:
        plt.close(fig)
    return write_frames(frames, path, fps)
