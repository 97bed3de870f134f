"""DeepMimic-format motion clips, converted once to our Z-up humanoid's coordinates.

Source format (the clips in ``clips/`` beside this module, from DeepMimic and pybullet; ``clips/NOTICE``
names their sources and licenses): JSON {"Loop": "wrap"|"none", "Frames": [[44]]};
a frame = duration (s), root pos (3), root quat w,x,y,z (4), then per joint in `model.FRAME_JOINTS`
order a local quat w,x,y,z (3-DoF joints) or an angle in rad (knees, elbows). Y-up.

Conversion: positions p -> R p with R = +90° about x ((x, y, z) -> (x, -z, y)); every rotation
q -> q_R ⊗ q ⊗ q_R⁻¹ (the same change of basis applied to world and body frames); 3-DoF joint
rotations -> three hinge angles in `model.EULER_ORDERS`, unwrapped along time. Clips then face and
walk along +x, Z-up. Velocities are forward differences, velocity[i] = (x[i+1] - x[i]) / dt[i]
(the last frame repeats the one before), i.e. exactly the derivative of the piecewise-linear /
piecewise-slerp interpolation that `MotionLibrary` uses.

Cache (.npz, one file per clip, written atomically; `load_clip(..., cache_dir=...)`):
  version ()              int, `CACHE_VERSION`
  key ()                  str, sha1 of source text + converter version + model XML
  name, source, loop ()   str; loop is "wrap" or "none"
  dt (T-1,)               float64 s, duration of the interval after each frame
  root_pos (T,3)          m, world Z-up
  root_quat (T,4)         w,x,y,z, world
  joint_pos (T,28)        rad, `model.JOINT_NAMES` order (= MuJoCo qpos[7:])
  root_lin_vel (T,3)      m/s, world
  root_ang_vel (T,3)      rad/s, world frame (MuJoCo's free-joint qvel[3:6] is local: rotate by q⁻¹)
  joint_vel (T,28)        rad/s
  body_pos (T,15,3)       m, world, origin of each body in `model.BODY_NAMES` (our FK)
  body_quat (T,15,4)      w,x,y,z, world
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imitate.data.dataset import DatasetError
from imitate.data.motion import humanoid_model as hm
from imitate.utils import rotations as rot

CACHE_VERSION = 1


class MotionError(DatasetError):
    """A motion clip is missing, malformed, or not in the DeepMimic humanoid format."""


CLIPS_DIR = Path(__file__).with_name("clips")  # package data: DeepMimic's humanoid clips (clips/NOTICE)


def available_clips() -> list[str]:
    """Names of the humanoid clips that ship with the package: humanoid3d_* and walker/*."""
    names = sorted(p.stem for p in CLIPS_DIR.glob("humanoid3d_*.txt"))
    names += sorted(f"walker/{p.stem}" for p in (CLIPS_DIR / "walker").glob("*.txt"))
    return names


def find_clip(name: str | Path) -> Path:
    """Resolve a clip name ("humanoid3d_walk", "walk", "walker/turn_left0") or a file path."""
    p = Path(name)
    if p.suffix == ".txt" and p.exists():
        return p
    for cand in (CLIPS_DIR / f"{name}.txt", CLIPS_DIR / f"humanoid3d_{name}.txt", CLIPS_DIR / "walker" / f"{name}.txt"):
        if cand.exists():
            return cand
    raise MotionError(f"unknown motion clip {str(name)!r}; `imitate motion list` shows the clips")


def default_cache_dir() -> Path:
    env = os.environ.get("IMITATE_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "imitate"
    return base / "motions"


@dataclass
class MotionClip:
    """One converted clip. T frames; times t[i] = sum(dt[:i]); duration = t[-1]."""

    name: str
    loop: bool  # True for "wrap": the clip repeats, root carried forward
    dt: np.ndarray  # (T-1,) s
    root_pos: np.ndarray  # (T, 3) m, Z-up world
    root_quat: np.ndarray  # (T, 4) w,x,y,z
    joint_pos: np.ndarray  # (T, 28) rad, model.JOINT_NAMES order
    root_lin_vel: np.ndarray  # (T, 3) m/s world
    root_ang_vel: np.ndarray  # (T, 3) rad/s world
    joint_vel: np.ndarray  # (T, 28) rad/s
    body_pos: np.ndarray  # (T, 15, 3) m world, model.BODY_NAMES order
    body_quat: np.ndarray  # (T, 15, 4) w,x,y,z world
    source: str = ""
    times: np.ndarray = field(init=False)  # (T,) s

    def __post_init__(self):
        self.times = np.concatenate([[0.0], np.cumsum(self.dt)])

    @property
    def num_frames(self) -> int:
        return len(self.root_pos)

    @property
    def duration_s(self) -> float:
        return float(self.times[-1])

    @property
    def fps(self) -> float:
        """Mean frame rate (frame durations may differ within a clip in principle)."""
        return (self.num_frames - 1) / self.duration_s

    @property
    def body_positions(self) -> np.ndarray:
        """(T, 15, 3) world positions of the bodies (our model's forward kinematics)."""
        return self.body_pos

    def qpos(self) -> np.ndarray:
        """(T, 35) MuJoCo qpos of every frame."""
        return np.concatenate([self.root_pos, self.root_quat, self.joint_pos], axis=-1)

    def qvel(self) -> np.ndarray:
        """(T, 34) MuJoCo qvel (free-joint angular velocity in the root's local frame)."""
        local_w = rot.quat_rotate(rot.quat_conj(self.root_quat), self.root_ang_vel)
        return np.concatenate([self.root_lin_vel, local_w, self.joint_vel], axis=-1)

    def cycle_offset(self) -> tuple[np.ndarray, float]:
        """Horizontal root displacement (2,) m and yaw change (rad) from first to last frame:
        what one cycle of a looping clip adds to the root."""
        d = self.root_pos[-1, :2] - self.root_pos[0, :2]
        h0, h1 = rot.heading_quat(self.root_quat[[0, -1]])
        dq = rot.quat_mul(h1, rot.quat_conj(h0))
        dyaw = 2.0 * np.arctan2(dq[3], dq[0])
        return d, float(np.arctan2(np.sin(dyaw), np.cos(dyaw)))

    # -- cache --------------------------------------------------------------------------
    _ARRAYS = (
        "dt",
        "root_pos",
        "root_quat",
        "joint_pos",
        "root_lin_vel",
        "root_ang_vel",
        "joint_vel",
        "body_pos",
        "body_quat",
    )

    def save(self, path: str | Path, key: str = "") -> Path:
        from imitate.utils.io import atomic_write

        buf = io.BytesIO()
        np.savez(
            buf,
            version=np.int64(CACHE_VERSION),
            key=np.str_(key),
            name=np.str_(self.name),
            source=np.str_(self.source),
            loop=np.str_("wrap" if self.loop else "none"),
            **{k: getattr(self, k) for k in self._ARRAYS},
        )
        return atomic_write(path, lambda f: f.write(buf.getvalue()))

    @classmethod
    def load(cls, path: str | Path, key: str | None = None) -> MotionClip:
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["version"]) != CACHE_VERSION or (key is not None and str(z["key"]) != key):
                    raise MotionError(f"stale motion cache {path}")
                return cls(
                    name=str(z["name"]),
                    loop=str(z["loop"]) == "wrap",
                    source=str(z["source"]),
                    **{k: z[k] for k in cls._ARRAYS},
                )
        except (OSError, KeyError, ValueError) as exc:
            if isinstance(exc, MotionError):
                raise
            raise MotionError(f"cannot read motion cache {path}: {exc}") from exc


# -- conversion ---------------------------------------------------------------------------


def parse_frames(text: str, source: str = "") -> tuple[np.ndarray, bool]:
    """JSON text -> frames (T, 44) and loop flag; one-line errors for malformed files."""
    try:
        data = json.loads(text)
        frames = np.asarray(data["Frames"], dtype=np.float64)
        loop = str(data.get("Loop", "none")).lower()
    except (ValueError, KeyError, TypeError) as exc:
        raise MotionError(f"{source or 'clip'}: not a DeepMimic motion file ({exc})") from exc
    if frames.ndim != 2 or frames.shape[1] != 44 or len(frames) < 2:
        raise MotionError(
            f"{source or 'clip'}: frames must be (T>=2, 44) for the DeepMimic humanoid, got {frames.shape}"
        )
    if not np.all(np.isfinite(frames)) or np.any(frames[:-1, 0] <= 0):
        raise MotionError(f"{source or 'clip'}: non-finite values or non-positive frame durations")
    if loop not in ("wrap", "none"):
        raise MotionError(f"{source or 'clip'}: Loop must be 'wrap' or 'none', got {loop!r}")
    return frames, loop == "wrap"


def yup_to_zup_pos(p: np.ndarray) -> np.ndarray:
    return p @ hm.Y_TO_Z_ROT.T


def yup_to_zup_quat(q: np.ndarray) -> np.ndarray:
    """Change of basis of rotations (w,x,y,z): q_R ⊗ q ⊗ q_R⁻¹."""
    qr = np.broadcast_to(hm.Y_TO_Z_QUAT, q.shape)
    return rot.quat_mul(rot.quat_mul(qr, q), rot.quat_conj(qr))


def frames_to_coords(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 44) DeepMimic frames -> root_pos (T,3), root_quat (T,4), joint_pos (T,28), Z-up.
    Quaternion signs are made continuous in time; Euler angles are unwrapped in time."""
    root_pos = yup_to_zup_pos(frames[:, 1:4])
    root_quat = _continuous(yup_to_zup_quat(rot.quat_normalize(frames[:, 4:8])))
    parts: dict[str, np.ndarray] = {}
    col = 8
    for name, dof in hm.FRAME_JOINTS:
        if dof == 3:
            q = yup_to_zup_quat(rot.quat_normalize(frames[:, col : col + 4]))
            parts[name] = rot.unwrap_angles(rot.quat_to_euler(q, hm.EULER_ORDERS[name]), axis=0)
            col += 4
        else:
            parts[name] = frames[:, col : col + 1]
            col += 1
    joint_pos = np.concatenate([parts[g] for g in hm.JOINT_GROUPS], axis=-1)
    return root_pos, root_quat, joint_pos


def _continuous(q: np.ndarray) -> np.ndarray:
    """Flip signs so consecutive quaternions have positive dot (same rotation, no jumps)."""
    q = q.copy()
    for i in range(1, len(q)):
        if np.dot(q[i], q[i - 1]) < 0:
            q[i] = -q[i]
    return q


def finite_differences(dt: np.ndarray, root_pos, root_quat, joint_pos):
    """Forward differences per interval; the last frame repeats the previous interval's value."""
    dts = dt[:, None]
    lin = np.diff(root_pos, axis=0) / dts
    dq = rot.quat_mul(root_quat[1:], rot.quat_conj(root_quat[:-1]))  # world-frame delta
    ang = rot.quat_to_axis_angle(dq) / dts
    jv = np.diff(joint_pos, axis=0) / dts
    pad = lambda a: np.concatenate([a, a[-1:]], axis=0)  # noqa: E731
    return pad(lin), pad(ang), pad(jv)


def forward_kinematics(qpos: np.ndarray, mj_model=None) -> tuple[np.ndarray, np.ndarray]:
    """Body world positions (T,15,3) and quats (T,15,4) for qpos (T,35) via mj_kinematics."""
    import mujoco

    m = mj_model if mj_model is not None else hm.load_model()
    d = mujoco.MjData(m)
    pos = np.empty((len(qpos), hm.NUM_BODIES, 3))
    quat = np.empty((len(qpos), hm.NUM_BODIES, 4))
    for i, q in enumerate(qpos):  # load time only, not a hot path
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        pos[i] = d.xpos[1:]
        quat[i] = d.xquat[1:]
    return pos, quat


def convert(text: str, name: str, source: str = "", mj_model=None) -> MotionClip:
    """Convert the text of a DeepMimic clip into a `MotionClip`."""
    frames, loop = parse_frames(text, source or name)
    dt = frames[:-1, 0].copy()  # the last frame's duration is 0 (or meaningless)
    root_pos, root_quat, joint_pos = frames_to_coords(frames)
    lin, ang, jv = finite_differences(dt, root_pos, root_quat, joint_pos)
    qpos = np.concatenate([root_pos, root_quat, joint_pos], axis=-1)
    body_pos, body_quat = forward_kinematics(qpos, mj_model)
    return MotionClip(
        name=name,
        loop=loop,
        dt=dt,
        root_pos=root_pos,
        root_quat=root_quat,
        joint_pos=joint_pos,
        root_lin_vel=lin,
        root_ang_vel=ang,
        joint_vel=jv,
        body_pos=body_pos,
        body_quat=body_quat,
        source=source,
    )


def _clip_name(path: Path) -> str:
    return f"walker/{path.stem}" if path.parent.name == "walker" else path.stem


def load_clip(name: str | Path, cache_dir: str | Path | None = None, use_cache: bool = True) -> MotionClip:
    """Load a clip by name or path, converting it once and caching the result as .npz.

    The cache file is `<cache_dir>/<name>-<key[:12]>.npz` (default cache_dir
    ~/.cache/imitate/motions, or $IMITATE_CACHE/motions); the key hashes the source text, the
    converter version and the model XML, so edits to any of them invalidate it."""
    path = find_clip(name)
    text = path.read_text()
    cname = _clip_name(path)
    key = hashlib.sha1((text + f"|v{CACHE_VERSION}|" + hm.ASSET_PATH.read_text()).encode()).hexdigest()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cpath = cache / f"{cname.replace('/', '__')}-{key[:12]}.npz"
    if use_cache and cpath.exists():
        try:
            return MotionClip.load(cpath, key=key)
        except MotionError:
            pass  # corrupt or stale: convert again and overwrite
    clip = convert(text, cname, source=str(path))
    if use_cache:
        try:
            clip.save(cpath, key=key)
        except OSError:
            pass  # a read-only home must not stop training; the clip is in memory
    return clip
