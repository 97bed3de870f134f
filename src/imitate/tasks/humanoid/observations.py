"""Observations of the humanoid tracking task, and the 105-d style observation (NEAR's, docs/tasks.md).

Batched torch functions (quaternions (w, x, y, z) everywhere). The tracking observation is
yaw-invariant: velocities are expressed in the *heading frame* (the root's yaw only, Z-up) and
the root orientation is given relative to that heading, so a policy sees the same numbers
whichever way the character faces in the world. The reference's yaw and position, which the
rewards do care about, enter only through the optional target block (`target_features`).

Tracking observation layout (the policy group's terms in tracking.py, 97 numbers + 5 with the
target block):
  0:3    root linear velocity, heading frame (m/s)
  3:6    root angular velocity, heading frame (rad/s)
  6:34   joint angles minus the default pose (rad), `model.JOINT_NAMES` order
  34:62  joint velocities (rad/s)
  62:66  root orientation relative to its heading, q_h⁻¹ ⊗ q, sign fixed so w ≥ 0
  66:94  previous action (policy units, [-1, 1])
  94     root height (m)
  95:97  phase: (sin 2πφ, cos 2πφ) for looping clips, (sin πφ, cos πφ) for one-shot clips
         (so φ = 0 and φ = 1 differ)
  97:102 [target block] reference root position minus ours in our heading frame (3, m) and the
         reference heading relative to ours (sin, cos)
"""

from __future__ import annotations

import math

import torch

from imitate.data.motion import humanoid_model as hm


# -- quaternion helpers (torch, (..., 4) w,x,y,z) --------------------------------------------
def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a ⊗ b (apply b first, then a)."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        dim=-1,
    )


def quat_conj(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[..., :1], -q[..., 1:]], dim=-1)


def quat_rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4)."""
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * torch.cross(u, v, dim=-1)
    return v + w * t + torch.cross(u, t, dim=-1)


def yaw_quat(yaw: torch.Tensor) -> torch.Tensor:
    """Rotation about world +z by yaw (...) rad -> (..., 4)."""
    half = 0.5 * yaw
    zero = torch.zeros_like(half)
    return torch.stack([torch.cos(half), zero, zero, torch.sin(half)], dim=-1)


def heading_yaw(q: torch.Tensor) -> torch.Tensor:
    """Yaw (...) of the body's +x axis projected on the ground (undefined only when +x is vertical)."""
    fwd = quat_rotate(q, torch.tensor([1.0, 0.0, 0.0], dtype=q.dtype, device=q.device).expand(q.shape[:-1] + (3,)))
    return torch.atan2(fwd[..., 1], fwd[..., 0])


def axis_quat(axis: str, angle: torch.Tensor) -> torch.Tensor:
    """Rotation by angle (...) rad about the frame axis ``axis`` ('x', 'y' or 'z') -> (..., 4)."""
    half = 0.5 * angle
    parts = [torch.cos(half)] + [torch.sin(half) if a == axis else torch.zeros_like(half) for a in "xyz"]
    return torch.stack(parts, dim=-1)


def euler_to_quat(angles: torch.Tensor, order: str) -> torch.Tensor:
    """Intrinsic hinge chain angles (..., 3) in `order` -> R_a(θ0) R_b(θ1) R_c(θ2) as (..., 4)."""
    q = axis_quat(order[0], angles[..., 0])
    for k in (1, 2):
        q = quat_mul(q, axis_quat(order[k], angles[..., k]))
    return q


def tangent_normal(q: torch.Tensor) -> torch.Tensor:
    """The rotated x (tangent) and z (normal) axes (..., 6): a continuous 6-d rotation code."""
    shape = q.shape[:-1] + (3,)
    x = quat_rotate(q, torch.tensor([1.0, 0.0, 0.0], dtype=q.dtype, device=q.device).expand(shape))
    z = quat_rotate(q, torch.tensor([0.0, 0.0, 1.0], dtype=q.dtype, device=q.device).expand(shape))
    return torch.cat([x, z], dim=-1)


# -- observations ------------------------------------------------------------------------------
# Each function reads a state dict (tracking.py's ``state_dict``: root_pos, root_quat, lin_vel,
# ang_vel world frame, joint_pos, joint_vel, body_pos) of the envs being observed; the heading
# frame is computed once per dict and kept in it.
TRACKING_OBS_DIM = 97
TARGET_OBS_DIM = 5
STYLE_OBS_DIM = 105
State = dict[str, torch.Tensor]


def heading_yaw_of(s: State) -> torch.Tensor:
    """(N,) heading yaw (rad) of the root, memoised in ``s``."""
    if "heading_yaw" not in s:
        s["heading_yaw"] = heading_yaw(s["root_quat"])
    return s["heading_yaw"]


def heading_inverse(s: State) -> torch.Tensor:
    """(N, 4) q_h⁻¹: turns world vectors into the root's heading frame; memoised in ``s``."""
    if "heading_inv" not in s:
        s["heading_inv"] = quat_conj(yaw_quat(heading_yaw_of(s)))
    return s["heading_inv"]


def root_vel_heading(s: State) -> torch.Tensor:
    """(N, 6) root linear (m/s) then angular (rad/s) velocity in the heading frame."""
    qh_inv = heading_inverse(s)
    return torch.cat([quat_rotate(qh_inv, s["lin_vel"]), quat_rotate(qh_inv, s["ang_vel"])], dim=-1)


def root_rot_heading(s: State) -> torch.Tensor:
    """(N, 4) root orientation relative to its heading, q_h⁻¹ ⊗ q, sign fixed so w ≥ 0."""
    rel = quat_mul(heading_inverse(s), s["root_quat"])
    return torch.where(rel[:, :1] < 0, -rel, rel)


def phase_features(phase: torch.Tensor, loop: bool) -> torch.Tensor:
    """(N,) φ -> (N, 2): a full circle for looping clips, a half circle for one-shot clips."""
    angle = (2.0 * math.pi if loop else math.pi) * phase
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1)


def target_features(s: State, ref_root_pos: torch.Tensor, ref_root_quat: torch.Tensor) -> torch.Tensor:
    """(N, 5): where the reference root is (our heading frame, m) and how its heading differs
    (sin, cos)."""
    d = quat_rotate(heading_inverse(s), ref_root_pos - s["root_pos"])
    dyaw = heading_yaw(ref_root_quat) - heading_yaw_of(s)
    return torch.cat([d, torch.sin(dyaw)[:, None], torch.cos(dyaw)[:, None]], dim=-1)


_THREE_DOF = [g for g in hm.JOINT_GROUPS if g in hm.EULER_ORDERS]
_ONE_DOF = [g for g in hm.JOINT_GROUPS if g not in hm.EULER_ORDERS]
_EE_IDX = [hm.BODY_NAMES.index(n) for n in hm.END_EFFECTORS]


def style_obs(s: State) -> torch.Tensor:
    """(N, 105) style observation of NEAR and AMP: root height (1), root rotation
    tangent+normal in the heading frame (6), root linear and angular velocity in the heading frame
    (3+3), 3-DoF joints as tangent+normal (8×6) and 1-DoF angles (4), joint velocities (28),
    hands and feet relative to the root in the heading frame (4×3)."""
    root_pos, root_quat, joint_pos = s["root_pos"], s["root_quat"], s["joint_pos"]
    qh_inv = heading_inverse(s)
    joints = [tangent_normal(euler_to_quat(joint_pos[:, hm.JOINT_SLICES[g]], hm.EULER_ORDERS[g])) for g in _THREE_DOF]
    ones = [joint_pos[:, hm.JOINT_SLICES[g]] for g in _ONE_DOF]
    ee = s["body_pos"][:, _EE_IDX] - root_pos[:, None]  # (N, 4, 3)
    ee = quat_rotate(qh_inv[:, None].expand(-1, len(_EE_IDX), -1), ee).reshape(len(root_pos), -1)
    return torch.cat(
        [
            root_pos[:, 2:3],
            tangent_normal(quat_mul(qh_inv, root_quat)),
            quat_rotate(qh_inv, s["lin_vel"]),
            quat_rotate(qh_inv, s["ang_vel"]),
            *joints,
            *ones,
            s["joint_vel"],
            ee,
        ],
        dim=-1,
    )
