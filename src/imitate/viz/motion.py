"""Videos of humanoid motion: MuJoCo's offscreen renderer or a matplotlib stick figure.

`write_qpos_video` replays any qpos sequence kinematically (set qpos, mj_forward, render), so it
serves reference clips (`write_clip_video`) and policy rollouts alike. renderer="auto" renders
with MuJoCo through the first OpenGL backend that works (`viz/gl.py`: EGL, then OSMesa, or the
user's MUJOCO_GL) and falls back to the stick figure when none does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from imitate.viz.gl import RENDERERS, mujoco_or_fallback, replay_frames
from imitate.viz.gl import RenderError as RenderError  # where callers of these videos catch it
from imitate.viz.video import figure_frame, write_frames

PROP_VIEW_MIN_M = 3.5  # the track camera's distance, kept as the least when props are in view


def _prop_camera(mujoco, qpos: np.ndarray, nq: int):
    """A camera that keeps the character and its first prop in view: looking at their midpoint
    from the side the track camera looks from (−y), farther away the farther apart they are. A
    prop under the floor (hidden) leaves the character alone in view."""
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.azimuth, cam.elevation = 90.0, -15.0
    root, prop = qpos[:3], qpos[nq : nq + 3]
    together = prop[2] > -1.0
    cam.lookat[:] = (root + prop) / 2 if together else root
    cam.distance = PROP_VIEW_MIN_M + (1.2 * float(np.linalg.norm((prop - root)[:2])) if together else 0.0)
    return cam


def mujoco_frames(qpos: np.ndarray, width: int, height: int, props: str = "") -> list[np.ndarray]:
    """Frames of qpos rows of the humanoid, followed by its tracking camera; or of the humanoid
    with ``props`` (MJCF bodies, their coordinates after the character's: ``hm.scene_xml``), seen
    by a camera that keeps both in view."""
    import mujoco

    from imitate.data.motion import humanoid_model as hm

    model = hm.load_model(props=props)
    return replay_frames(model, qpos, width, height, lambda q: _prop_camera(mujoco, q, hm.NQ) if props else "track")


_BOX_EDGES = [
    (a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1
]  # corners differing in one axis


def prop_outlines(qpos: np.ndarray, props: str) -> np.ndarray:
    """(T, G, 8, 3) world corners of the box around each prop geom (a box, or a cylinder's
    bounding box) in each qpos row of the humanoid with ``props`` (``hm.scene_xml``); kinematics
    only, no OpenGL."""
    import mujoco

    from imitate.data.motion import humanoid_model as hm

    model = hm.load_model(props=props)
    data = mujoco.MjData(model)
    geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] > hm.NUM_BODIES]
    signs = np.array([[(k >> i) & 1 for i in range(3)] for k in range(8)]) * 2.0 - 1.0  # (8, 3)
    out = np.empty((len(qpos), len(geoms), 8, 3))
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        for k, g in enumerate(geoms):
            size = model.geom_size[g]
            half = size if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_BOX else np.array([size[0], size[0], size[1]])
            out[t, k] = data.geom_xpos[g] + (signs * half) @ data.geom_xmat[g].reshape(3, 3).T
    return out


def _stick_frames(qpos: np.ndarray, width: int, height: int, title: str = "", props: str = ""):
    """Side (x-z) and front (y-z) views of the skeleton, camera following the root; ``props``
    (MJCF bodies after the character's) drawn as the outlines of their geoms' boxes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imitate.data.motion import humanoid_model as hm
    from imitate.sim.kinematics import TreeKinematics

    kin = TreeKinematics(hm.load_model())
    pos = kin.forward(np.asarray(qpos, dtype=np.float64))[0]  # (T, 15, 3)
    edges = [(b, p) for b, p in enumerate(kin.parent) if p >= 0]
    outlines = prop_outlines(qpos, props) if props else np.empty((len(pos), 0, 8, 3))
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
                for corners in outlines[t]:
                    for a, b in _BOX_EDGES:
                        ax.plot(corners[[a, b], i], corners[[a, b], 2], "-", color="tab:red", lw=1)
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


def _check_qpos(qpos: np.ndarray, nq: int = 35) -> np.ndarray:
    qpos = np.asarray(qpos, dtype=np.float64)
    if qpos.ndim != 2 or qpos.shape[1] != nq:
        raise ValueError(f"qpos must be (T, {nq}) for the humanoid and its props, got {qpos.shape}")
    return qpos


def side_by_side(rendered: list[list[np.ndarray]]) -> Iterator[np.ndarray]:
    """Frames of several panels joined left to right; a shorter panel holds its last frame."""
    for t in range(max(len(frames) for frames in rendered)):
        yield np.concatenate([frames[min(t, len(frames) - 1)] for frames in rendered], axis=1)


def write_side_by_side_video(
    panels: list[tuple[str, np.ndarray]],
    path: str | Path,
    fps: float = 30.0,
    renderer: str = "auto",
    width: int = 480,
    height: int = 480,
    props: str = "",
) -> tuple[Path, str]:
    """Several (title, qpos (T_i, 35)) sequences rendered next to each other, left to right, each
    by its own tracking camera; a shorter one holds its last frame (a policy that fell stays down
    beside the clip that goes on). Returns (path, renderer used: `mujoco-egl`, `mujoco-osmesa`,
    ... or `stick`). Titles are drawn by the stick figure only. ``props``: MJCF bodies drawn beside
    the character by MuJoCo (a goal task's box or target; their coordinates follow the
    character's in each qpos row), outlined by the stick figure."""
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
    if not panels:
        raise ValueError("a video needs at least one panel")
    from imitate.data.motion import humanoid_model as hm

    nq = hm.load_model(props=props).nq if props else hm.NQ
    qpos = [_check_qpos(q, nq) for _, q in panels]
    path = Path(path)

    def sticks() -> Path:
        frames = [_stick_frames(q, width, height, title, props) for (title, _), q in zip(panels, qpos)]
        return write_frames(side_by_side(frames), path, fps)

    return path, mujoco_or_fallback(qpos, path, fps, width, height, renderer, sticks, props)


def write_qpos_video(
    qpos: np.ndarray,
    path: str | Path,
    fps: float = 30.0,
    renderer: str = "auto",
    width: int = 640,
    height: int = 480,
    title: str = "",
) -> tuple[Path, str]:
    """Render qpos (T, 35) frames at `fps` to an mp4 (or .gif): the one-panel video."""
    return write_side_by_side_video([(title, qpos)], path, fps, renderer, width, height)


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
