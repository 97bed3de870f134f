"""Motion library: several clips with weights, batched (clip, time) sampling and interpolation.

Everything is batched numpy over N queries (no per-query Python loops). Interpolation between
the two frames around t:
  - root position, joint angles, body positions: linear;
  - root rotation: slerp (shorter arc);
  - velocities: the forward difference of the interval (`MotionClip` docs), which is exactly the
    derivative of the interpolation above.
Joint angles are hinge (Euler) angles unwrapped in time; interpolating them linearly is safe here
because frames are 1/60-1/16 s apart and the Euler orders keep the middle angle away from gimbal
lock (model.EULER_ORDERS), so lerp of the angles and slerp of the joint rotation differ by a small
fraction of the frame-to-frame change. Body positions are lerped, not re-solved by FK.

Looping ("wrap") clips repeat; cycle k starts where cycle k-1 ended: the root is shifted by k times
the first→last horizontal displacement (and, with `loop_heading=True`, turned by k times the
first→last heading change, about the first frame's root). Walk: +1.24 m along +x per cycle.
Non-looping clips hold their last frame after the end. Phase φ = (time within cycle) / duration,
in [0, 1) for looping clips, [0, 1] otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imitate.data.motion.clip import MotionClip, MotionError, load_clip
from imitate.utils import rotations as rot


@dataclass
class MotionState:
    """Reference state of N queries (world frame, Z-up; quaternions w,x,y,z)."""

    root_pos: np.ndarray  # (N, 3) m
    root_quat: np.ndarray  # (N, 4)
    root_lin_vel: np.ndarray  # (N, 3) m/s, world
    root_ang_vel: np.ndarray  # (N, 3) rad/s, world
    joint_pos: np.ndarray  # (N, 28) rad
    joint_vel: np.ndarray  # (N, 28) rad/s
    body_pos: np.ndarray | None  # (N, 15, 3) m, model.BODY_NAMES order
    phase: np.ndarray  # (N,) in [0, 1]

    def qpos(self) -> np.ndarray:
        """(N, 35) MuJoCo qpos."""
        return np.concatenate([self.root_pos, self.root_quat, self.joint_pos], axis=-1)

    def qvel(self) -> np.ndarray:
        """(N, 34) MuJoCo qvel (free-joint angular velocity expressed in the root frame)."""
        local_w = rot.quat_rotate(rot.quat_conj(self.root_quat), self.root_ang_vel)
        return np.concatenate([self.root_lin_vel, local_w, self.joint_vel], axis=-1)


@dataclass(frozen=True)
class Frames:
    """Where N queries (clip id, time) fall among a library's flat frames (``MotionLibrary.locate``)."""

    clip_ids: np.ndarray  # (N,)
    i0: np.ndarray  # (N,) flat frame at or before the query
    i1: np.ndarray  # (N,) the frame after it
    alpha: np.ndarray  # (N,) blend from i0 to i1, in [0, 1]
    cycle: np.ndarray  # (N,) cycle count k of looping clips (0 otherwise)
    phase: np.ndarray  # (N,) φ in [0, 1]


class MotionLibrary:
    """Clips concatenated into flat arrays; queries are (clip id, time in s) pairs."""

    def __init__(self, clips: Sequence[MotionClip], weights: Sequence[float] | None = None, loop_heading: bool = False):
        if len(clips) == 0:
            raise MotionError("a motion library needs at least one clip")
        w = np.ones(len(clips)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(clips),) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise MotionError(f"clip weights must be {len(clips)} non-negative numbers, not all 0; got {weights}")
        self.clips = list(clips)
        self.names = [c.name for c in clips]
        self.weights = w / w.sum()  # (C,)
        self.loop_heading = loop_heading
        self.num_frames = np.array([c.num_frames for c in clips])
        self.starts = np.concatenate([[0], np.cumsum(self.num_frames)[:-1]])  # (C,) first flat frame
        self.durations = np.array([c.duration_s for c in clips])  # (C,) s
        self.loop = np.array([c.loop for c in clips])
        cat = lambda attr: np.concatenate([getattr(c, attr) for c in clips], axis=0)  # noqa: E731
        self._times = cat("times")  # (F,) s, within each clip
        self._dt = np.concatenate([np.append(c.dt, c.dt[-1]) for c in clips])  # (F,)
        self._root_pos, self._root_quat = cat("root_pos"), cat("root_quat")
        self._joint_pos, self._body_pos = cat("joint_pos"), cat("body_pos")
        self._root_lin_vel, self._root_ang_vel = cat("root_lin_vel"), cat("root_ang_vel")
        self._joint_vel = cat("joint_vel")
        # search keys: each clip's times shifted into its own disjoint window
        self._base = np.concatenate([[0.0], np.cumsum(self.durations + 1.0)[:-1]])  # (C,)
        self._keys = self._times + np.repeat(self._base, self.num_frames)
        offsets = [c.cycle_offset() for c in clips]
        self.cycle_shift = np.array([o[0] for o in offsets])  # (C, 2) m per cycle
        self.cycle_yaw = np.array([o[1] if loop_heading else 0.0 for o in offsets])  # (C,) rad
        self.first_root_xy = np.array([c.root_pos[0, :2] for c in clips])  # (C, 2)

    @classmethod
    def from_names(
        cls,
        names: Sequence[str | Path],
        weights: Sequence[float] | None = None,
        cache_dir: str | Path | None = None,
        loop_heading: bool = False,
    ) -> MotionLibrary:
        return cls([load_clip(n, cache_dir=cache_dir) for n in names], weights, loop_heading)

    @property
    def num_clips(self) -> int:
        return len(self.clips)

    # -- sampling -----------------------------------------------------------------------
    def sample_clips(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n,) clip ids drawn by weight."""
        return rng.choice(self.num_clips, size=n, p=self.weights)

    def sample_times(self, clip_ids: np.ndarray, rng: np.random.Generator, end_margin_s: float = 0.0) -> np.ndarray:
        """(n,) times uniform in [0, duration - end_margin_s] of each clip."""
        span = np.maximum(self.durations[clip_ids] - end_margin_s, 0.0)
        return rng.random(len(clip_ids)) * span

    def sample(self, n: int, rng: np.random.Generator, end_margin_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(n,) clip ids by weight and (n,) times uniform in each (reference state initialisation)."""
        ids = self.sample_clips(n, rng)
        return ids, self.sample_times(ids, rng, end_margin_s)

    def sample_windows(
        self, n: int, rng: np.random.Generator, window_s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n windows of motion: (n,) clip ids by weight, (n,) start times (s) and (n,) lengths (s).
        A looping clip's window is ``window_s`` from a uniform phase and may run on into the next
        cycle; a one-shot clip's lies inside the clip (the whole clip when it is shorter)."""
        ids = self.sample_clips(n, rng)
        dur = self.durations[ids]
        length = np.where(self.loop[ids], window_s, np.minimum(window_s, dur))
        span = np.where(self.loop[ids], dur, dur - length)
        return ids, rng.random(n) * span, length

    # -- time bookkeeping -----------------------------------------------------------------
    def _local(self, clip_ids: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Time within the cycle (N,) and cycle count k (N,) (0 for non-looping clips)."""
        dur = self.durations[clip_ids]
        loop = self.loop[clip_ids]
        cycle = np.where(loop, np.floor(times / dur), 0.0)
        local = np.where(loop, times - cycle * dur, np.clip(times, 0.0, dur))
        return np.clip(local, 0.0, dur), cycle

    def phase(self, clip_ids: np.ndarray, times: np.ndarray) -> np.ndarray:
        """(N,) φ ∈ [0, 1]: fraction of the clip (cycle) done at `times`."""
        clip_ids, times = np.asarray(clip_ids), np.asarray(times, dtype=np.float64)
        local, _ = self._local(clip_ids, times)
        return local / self.durations[clip_ids]

    def locate(self, clip_ids: np.ndarray, times: np.ndarray) -> Frames:
        """Where queries (clip id, time) fall among the flat frames (``Frames``)."""
        clip_ids, times = np.asarray(clip_ids), np.asarray(times, dtype=np.float64)
        local, cycle = self._local(clip_ids, times)
        first = self.starts[clip_ids]
        last_interval = first + self.num_frames[clip_ids] - 2
        i0 = np.searchsorted(self._keys, self._base[clip_ids] + local, side="right") - 1
        i0 = np.clip(i0, first, last_interval)
        alpha = np.clip((local - self._times[i0]) / self._dt[i0], 0.0, 1.0)
        return Frames(clip_ids, i0, i0 + 1, alpha, cycle, local / self.durations[clip_ids])

    def frame_index(self, clip_ids: np.ndarray, times: np.ndarray):
        """Flat frame pair (i0, i1) around t, blend α ∈ [0, 1], cycle count k, phase φ; all (N,)."""
        f = self.locate(clip_ids, times)
        return f.i0, f.i1, f.alpha, f.cycle, f.phase

    # -- state ----------------------------------------------------------------------------
    def state(self, clip_ids: np.ndarray, times: np.ndarray, with_bodies: bool = True) -> MotionState:
        """Interpolated reference state of clips `clip_ids` (N,) at `times` (N,) s."""
        return self.state_at(self.locate(clip_ids, times), with_bodies)

    def state_at(self, f: Frames, with_bodies: bool = True) -> MotionState:
        """The interpolated reference state at located queries ``f`` (``locate``)."""
        a1 = f.alpha[:, None]
        root_pos = self.points(f, self._root_pos)
        root_quat = rot.quat_slerp(self._root_quat[f.i0], self._root_quat[f.i1], f.alpha)
        joint_pos = (1 - a1) * self._joint_pos[f.i0] + a1 * self._joint_pos[f.i1]
        body = self.points(f, self._body_pos) if with_bodies else None
        lin, ang = self.rates(f, self._root_lin_vel), self.rates(f, self._root_ang_vel)
        root_quat = rot.quat_mul(self._cycle_turn(f), root_quat)
        return MotionState(root_pos, root_quat, lin, ang, joint_pos, self._joint_vel[f.i0], body, f.phase)

    def points(self, f: Frames, table: np.ndarray) -> np.ndarray:
        """World points of a per-frame table (F, ..., 3) (flat frames, like the body positions) at
        ``f``: lerped between the two frames, carried forward into the query's cycle like the root."""
        a = f.alpha.reshape((-1,) + (1,) * (table.ndim - 1))
        p = (1 - a) * table[f.i0] + a * table[f.i1]
        extra = (slice(None),) + (None,) * (table.ndim - 2)  # per-query values broadcast over the points
        yaw = f.cycle * self.cycle_yaw[f.clip_ids]
        return self._apply_xy(
            p, yaw[extra], self.first_root_xy[f.clip_ids][extra], self._cycle_shift(f.clip_ids, f.cycle)[extra]
        )

    def rates(self, f: Frames, table: np.ndarray) -> np.ndarray:
        """World vectors of a per-frame table of rates (F, ..., 3) at ``f``: the value of the frame
        interval (the derivative of ``points``' interpolation), turned into the query's cycle."""
        qz = self._cycle_turn(f).reshape((len(f.i0),) + (1,) * (table.ndim - 2) + (4,))  # broadcast over the vectors
        return rot.quat_rotate(qz, table[f.i0])

    def _cycle_turn(self, f: Frames) -> np.ndarray:
        """(N, 4) the turn about z of each query's cycle (k times the clip's heading change)."""
        return rot.quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), f.cycle * self.cycle_yaw[f.clip_ids])

    def _cycle_shift(self, clip_ids: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Σ_{j<k} Rz(jΔ) d: the horizontal shift after k cycles (N, 2), as a geometric series."""
        d = self.cycle_shift[clip_ids]
        dc = d[:, 0] + 1j * d[:, 1]
        dyaw = self.cycle_yaw[clip_ids]
        small = np.abs(dyaw) < 1e-9
        denom = np.where(small, 1.0, 1 - np.exp(1j * dyaw))
        s = np.where(small, k * dc, dc * (1 - np.exp(1j * k * dyaw)) / denom)
        return np.stack([s.real, s.imag], axis=-1)

    @staticmethod
    def _apply_xy(p: np.ndarray, yaw: np.ndarray, p0: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """Rotate horizontal coordinates about p0 by yaw (rad), then add shift; z untouched."""
        x, y = p[..., 0] - p0[..., 0], p[..., 1] - p0[..., 1]
        c, s = np.cos(yaw), np.sin(yaw)
        out = p.copy()
        out[..., 0] = c * x - s * y + p0[..., 0] + shift[..., 0]
        out[..., 1] = s * x + c * y + p0[..., 1] + shift[..., 1]
        return out
