"""Videos of humanoid motion: MuJoCo's offscreen renderer (EGL) or a matplotlib stick figure.

`write_qpos_video` replays any qpos sequence kinematically (set qpos, mj_forward, render), so it
serves reference clips (`write_clip_video`) and policy rollouts alike. renderer="auto" tries
MuJoCo first and falls back to the stick figure when no OpenGL context can be made.
"""

from __future__ import annotations

import os
from pathlib import Path

# Headless machines: EGL, unless the user chose a backend (read when mujoco is first imported).
if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
    os.environ["MUJOCO_GL"] = "egl"

import numpy as np  # noqa: E402

from imitate.viz.video import figure_frame, write_frames  # noqa: E402

RENDERERS = ("auto", "mujoco", "stick")


class RenderError(RuntimeError):
    """The requested renderer cannot run here (e.g. no OpenGL for renderer='mujoco')."""


def _mujoco_frames(qpos: np.ndarray, width: int, height: int):
    import mujoco

    from imitate.data.motion import humanoid_model as hm

    model = hm.load_model()
    data = mujoco.MjData(model)
    try:
        renderer = mujoco.Renderer(model, height=height, width=width)
    except Exception as exc:  # no GL context: EGL/GLFW/OSMesa missing
        raise RenderError(f"MuJoCo renderer unavailable ({type(exc).__name__}: {exc})") from exc
    frames = []
    try:
        for q in qpos:
            data.qpos[:] = q
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, camera="track")
            frames.append(renderer.render().copy())
    finally:
        renderer.close()
    return frames


def _stick_frames(qpos: np.ndarray, width: int, height: int, title: str = ""):
    """Side (x-z) and front (y-z) views of the skeleton, camera following the root."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imitate.data.motion import humanoid_model as hm
    from imitate.sim.kinematics import TreeKinematics

    kin = TreeKinematics(hm.load_model())
    pos = kin.forward(np.asarray(qpos, dtype=np.float64))[0]  # (T, 15, 3)
    edges = [(b, p) for b, p in enumerate(kin.parent) if p >= 0]
    dpi = 50
    fig, axes = plt.subplots(1, 2, figsize=(width / dpi, height / dpi), dpi=dpi)
    frames = []
    try:
        for t in range(len(pos)):
            root = pos[t, 0]
            for ax, (i, label) in zip(axes, ((0, "x (m)"), (1, "y (m)"))):
                ax.cla()
                ax.axhline(0.0, color="0.5", lw=1)
                for b, p in edges:
                    ax.plot(pos[t, [b, p], i], pos[t, [b, p], 2], "-", color="tab:blue", lw=2)
                ax.plot(pos[t, :, i], pos[t, :, 2], "o", color="tab:orange", ms=3)
                ax.set_xlim(root[i] - 1.0, root[i] + 1.0)
                ax.set_ylim(-0.1, 1.9)
                ax.set_aspect("equal")
                ax.set_xlabel(label, fontsize=7)
                ax.tick_params(labelsize=6)
            if title:
                fig.suptitle(title, fontsize=8)
            frames.append(figure_frame(fig))
    finally:
        plt.close(fig)
    return frames


def write_qpos_video(
    qpos: np.ndarray,
    path: str | Path,
    fps: float = 30.0,
    renderer: str = "auto",
    width: int = 640,
    height: int = 480,
    title: str = "",
) -> tuple[Path, str]:
    """Render qpos (T, 35) frames at `fps` to an mp4 (or .gif). Returns (path, renderer used)."""
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
    qpos = np.asarray(qpos, dtype=np.float64)
    if qpos.ndim != 2 or qpos.shape[1] != 35:
        raise ValueError(f"qpos must be (T, 35) for the humanoid, got {qpos.shape}")
    frames, used = None, renderer
    if renderer in ("auto", "mujoco"):
        try:
            frames, used = _mujoco_frames(qpos, width, height), "mujoco"
        except RenderError:
            if renderer == "mujoco":
                raise
    if frames is None:
        frames, used = _stick_frames(qpos, width, height, title), "stick"
    return write_frames(frames, Path(path), fps), used


def clip_qpos(
    clip: str, seconds: float | None = None, fps: float = 30.0, cache_dir: str | Path | None = None
) -> np.ndarray:
    """Reference qpos (T, 35) of a clip sampled at `fps` for `seconds` (default: one clip length);
    looping clips continue past their end with the root carried forward."""
    from imitate.data.motion import MotionLibrary, load_clip

    lib = MotionLibrary([load_clip(clip, cache_dir=cache_dir)])
    duration = float(lib.durations[0]) if seconds is None else float(seconds)
    times = np.arange(0.0, duration + 1e-9, 1.0 / fps)
    return lib.state(np.zeros(len(times), dtype=int), times, with_bodies=False).qpos()


def write_clip_video(
    clip: str,
    path: str | Path,
    seconds: float | None = None,
    renderer: str = "auto",
    fps: float = 30.0,
    width: int = 640,
    height: int = 480,
    cache_dir: str | Path | None = None,
) -> tuple[Path, str]:
    """Kinematic replay of a reference clip to a video. Returns (path, renderer used)."""
    qpos = clip_qpos(clip, seconds, fps, cache_dir)
    return write_qpos_video(qpos, path, fps, renderer, width, height, title=str(clip))
