"""Videos of the DeepMind Control walker and cheetah: MuJoCo's renderer with dm_control's own
camera, lights and skybox, or, without OpenGL, a matplotlib side view of the planar body.

Both replay recorded qpos rows kinematically. MuJoCo renders the model as ``sim/dmc.py`` compiles
it from dm_control's MJCF (in a child process, ``viz/gl.py``), seen by the model's ``side``
camera, which follows the centre of mass as dm_control's does. The side view draws each capsule
geom as a segment in the x-z plane (the bodies move in it; the far legs paler), the view centred
on the torso.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imitate.sim.dmc import suite_model
from imitate.viz.gl import mujoco_or_fallback, replay_frames
from imitate.viz.motion import side_by_side
from imitate.viz.video import figure_frame, write_frames

CAMERA = "side"  # dm_control's first camera in both models, following the centre of mass
VIEW_HALF_WIDTH_M = 1.5  # the side view shows the torso's x ± this
VIEW_HEIGHT_M = (-0.2, 1.8)  # ... and these heights (the walker stands about 1.3 m tall)


def dmc_frames(domain: str, qpos: np.ndarray, width: int, height: int) -> list[np.ndarray]:
    """Frames of qpos rows (T, nq) of ``domain`` rendered by MuJoCo (needs OpenGL)."""
    return replay_frames(suite_model(domain), qpos, width, height, lambda q: CAMERA)


def walker_frames(qpos: np.ndarray, width: int, height: int, props: str = "") -> list[np.ndarray]:
    """``dmc_frames`` of the walker (the signature ``viz/gl.py``'s child calls; no props)."""
    return dmc_frames("walker", qpos, width, height)


def cheetah_frames(qpos: np.ndarray, width: int, height: int, props: str = "") -> list[np.ndarray]:
    """``dmc_frames`` of the cheetah (the signature ``viz/gl.py``'s child calls; no props)."""
    return dmc_frames("cheetah", qpos, width, height)


def capsule_segments(domain: str, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, G, 2, 3) end points of each capsule geom's axis and (T, 3) torso positions in each
    qpos row, by MuJoCo's forward kinematics alone (no OpenGL)."""
    import mujoco

    model = suite_model(domain)
    data = mujoco.MjData(model)
    capsules = np.flatnonzero(model.geom_type == mujoco.mjtGeom.mjGEOM_CAPSULE)
    half = model.geom_size[capsules, 1][:, None]  # (G, 1) half-lengths along each geom's z axis
    ends = np.empty((len(qpos), len(capsules), 2, 3))
    torso = np.empty((len(qpos), 3))
    torso_id = model.body("torso").id
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        centre = data.geom_xpos[capsules]
        axis = data.geom_xmat[capsules].reshape(-1, 3, 3)[:, :, 2] * half
        ends[t, :, 0], ends[t, :, 1] = centre - axis, centre + axis
        torso[t] = data.xpos[torso_id]
    return ends, torso


def side_view_frames(domain: str, qpos: np.ndarray, width: int, height: int, title: str = "") -> list[np.ndarray]:
    """Frames of qpos rows (T, nq) drawn by matplotlib: the capsules as segments in the x-z plane,
    the ground, the view following the torso."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ends, torso = capsule_segments(domain, qpos)
    dpi = 50
    fig, ax = plt.subplots(figsize=(width / dpi, height / dpi), dpi=dpi)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.93)  # the view fills the frame
    frames = []
    try:
        for t in range(len(ends)):
            ax.cla()
            ax.axhline(0.0, color="0.5", lw=1)
            for a, b in ends[t][np.argsort(-ends[t, :, 0, 1])]:  # far side first, seen from -y
                color = "tab:blue" if a[1] <= 0 else "lightsteelblue"
                ax.plot([a[0], b[0]], [a[2], b[2]], "-", color=color, lw=4, solid_capstyle="round")
            ax.set_xlim(torso[t, 0] - VIEW_HALF_WIDTH_M, torso[t, 0] + VIEW_HALF_WIDTH_M)
            ax.set_ylim(*VIEW_HEIGHT_M)
            ax.set_aspect("equal")
            ax.set_xlabel("x (m)", fontsize=7)
            ax.tick_params(labelsize=6)
            if title:
                ax.set_title(f"{title}, step {t}", fontsize=8)
            frames.append(figure_frame(fig))
    finally:
        plt.close(fig)
    return frames


def write_dmc_video(
    domain: str,
    episodes: list[np.ndarray],
    path: str | Path,
    fps: float,
    title: str = "policy",
    renderer: str = "auto",
    width: int = 320,
    height: int = 320,
) -> tuple[Path, str]:
    """Episodes' qpos rows (each (T_i, nq)) side by side, one frame per row at ``fps``; a shorter
    episode holds its last frame. Returns (path, renderer used: ``mujoco-egl``, ... or ``stick``,
    the side view)."""
    nq = suite_model(domain).nq
    episodes = [np.asarray(q, dtype=np.float64) for q in episodes]
    if not episodes or any(q.ndim != 2 or q.shape[1] != nq or not len(q) for q in episodes):
        shapes = ", ".join(str(q.shape) for q in episodes) or "none"
        raise ValueError(f"a {domain} video needs episodes of qpos rows (T, {nq}); got {shapes}")
    path = Path(path)

    def side_view() -> Path:
        frames = [side_view_frames(domain, q, width, height, title) for q in episodes]
        return write_frames(side_by_side(frames), path, fps)

    return path, mujoco_or_fallback(episodes, path, fps, width, height, renderer, side_view, scene=domain)
