"""How far through its reference each tracking episode got: the fraction of the clip completed,
and whether a full rotation of the body (cartwheel, backflip, roll) was carried through.

A full rotation is read from the root's up axis alone, so that it does not depend on the
episode's yaw frame: the up axis turns past ``INVERTED_UP_Z`` (the root upside down, more than
120° from vertical) and later comes back above ``UPRIGHT_UP_Z`` (within about 37° of vertical).
DeepMimic's clips that turn over pass through −0.86 (cartwheel), −0.99 (backflip) and −0.85
(roll), and the walk never goes below 0.99 (docs/tracking.md, Evaluation).

Only episodes whose reference window (from its RSI start time to the time limit, or to the end
of a one-shot clip) itself holds a full rotation count towards the rotation rate: an episode
that starts after the clip has turned over cannot complete the turn. The window is fixed by the
start time, not by how long the policy survived, so that falling early cannot remove an episode
from the count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from imitate.utils import rotations as rot

INVERTED_UP_Z = -0.5
UPRIGHT_UP_Z = 0.8


def up_z(quat_wxyz: np.ndarray) -> np.ndarray:
    """(...,) the world z component of the body's up axis, for unit quaternions (..., 4) w, x, y, z."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    return rot.quat_rotate(q, np.broadcast_to(np.array([0.0, 0.0, 1.0]), q.shape[:-1] + (3,)))[..., 2]


def full_rotation(up: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(N,) bool: within the valid steps of each row of ``up`` (N, T), the up axis is inverted at
    some step and upright at a later one."""
    inverted = (up <= INVERTED_UP_Z) & valid
    first = np.where(inverted.any(axis=1), inverted.argmax(axis=1), up.shape[1])
    later = np.arange(up.shape[1])[None, :] > first[:, None]
    return ((up >= UPRIGHT_UP_Z) & valid & later).any(axis=1)


class ClipProgress:
    """Per-env start times and root up axes while one episode per env runs (eval/humanoid.py)."""

    def __init__(self, env) -> None:
        from imitate.tasks.humanoid.tracking import motion

        self.env = env
        self.motion = motion(env)
        self.start_s = env.buffers["time_s"].copy()  # the episodes' RSI start times (clip time)
        self.clip_ids = env.buffers["clip_ids"].copy()
        self.up: list[np.ndarray] = []  # per step (N,)
        self.active: list[np.ndarray] = []

    def before_step(self, active: torch.Tensor) -> None:
        self.up.append(up_z(self.env.sim.qpos[:, 3:7]))
        self.active.append(active.cpu().numpy().copy())

    def window_steps(self) -> np.ndarray:
        """(N,) control steps each episode could last: to the time limit, or to a one-shot clip's end."""
        limit = self.env.max_episode_steps
        if self.motion.loop:
            return np.full(len(self.start_s), limit)
        left = np.ceil((self.motion.duration_s - self.start_s) / self.motion.step_s - 1e-9)
        return np.clip(left, 1, limit).astype(np.int64)

    def reference_up(self, steps: int) -> np.ndarray:
        """(N, steps) the reference root's up axis over each episode's window, from its start time."""
        n = len(self.start_s)
        times = self.start_s[:, None] + self.motion.step_s * np.arange(steps)[None, :]
        ids = np.repeat(self.clip_ids, steps)
        state = self.motion.lib.state(ids, times.reshape(-1), with_bodies=False)
        return up_z(state.root_quat).reshape(n, steps)

    def metrics(self, length: np.ndarray) -> dict[str, Any]:
        """``clip_fraction``: mean over episodes of steps survived / window steps; with at least one
        episode whose reference window turns over, ``rotation_episodes`` (their number) and
        ``rotation_completed_rate`` (the share of them in which the policy turned over too)."""
        window = self.window_steps()
        out: dict[str, Any] = {"clip_fraction": float(np.mean(np.minimum(length / window, 1.0)))}
        steps = int(window.max())
        ref_valid = np.arange(steps)[None, :] < window[:, None]
        turns = full_rotation(self.reference_up(steps), ref_valid)
        out["rotation_episodes"] = int(turns.sum())
        if turns.any() and self.up:
            done = full_rotation(np.stack(self.up, 1), np.stack(self.active, 1))
            out["rotation_completed_rate"] = float(done[turns].mean())
        return out
