"""Batched quaternion / rotation helpers (numpy). Quaternions are (w, x, y, z) everywhere here.

All functions take arrays with arbitrary leading batch dimensions: quaternions (..., 4),
vectors (..., 3), matrices (..., 3, 3). ``quat_angle`` and ``wrap_angle`` also take torch
tensors (the tracking reward's errors) and return the same type; torch is imported only then, so
this module stays importable without it.
"""

from __future__ import annotations

import numpy as np

AXES = {"x": 0, "y": 1, "z": 2}


def quat_normalize(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def quat_conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a ⊗ b (apply b first, then a)."""
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a × b over the last axis: np.cross's arithmetic without its per-call axis bookkeeping,
    which dominates on the small batches of a control step."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4)."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * cross(u, v)
    return v + w * t + cross(u, t)


def quat_from_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """axis (..., 3) unit, angle (...) rad -> (..., 4)."""
    half = 0.5 * np.asarray(angle)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def quat_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """Rotation vector (axis * angle, angle in [0, π]) of unit quaternions (..., 4) -> (..., 3)."""
    q = np.where(q[..., :1] < 0, -q, q)  # shortest rotation
    s = np.linalg.norm(q[..., 1:], axis=-1)
    angle = 2.0 * np.arctan2(s, q[..., 0])
    scale = np.where(s > 1e-9, angle / np.maximum(s, 1e-12), 2.0)  # small-angle limit: 2
    return q[..., 1:] * scale[..., None]


def quat_slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation along the shorter arc; t (...) in [0, 1]. Returns unit quaternions."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0, -b, b)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin = np.sin(theta)
    small = sin < 1e-6
    safe = np.where(small, 1.0, sin)
    wa = np.where(small, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    wb = np.where(small, t, np.sin(t * theta) / safe)
    return quat_normalize(wa * a + wb * b)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def euler_to_quat(angles: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic Euler angles (..., 3) about `order` (e.g. "zyx": first about z, then the new y,
    then the new x) -> quaternion R_a(θ0) R_b(θ1) R_c(θ2). This is how MuJoCo composes a chain
    of hinge joints in one body."""
    q = None
    for k, ax in enumerate(order):
        axis = np.zeros(3)
        axis[AXES[ax]] = 1.0
        qk = quat_from_axis_angle(axis, angles[..., k])
        q = qk if q is None else quat_mul(q, qk)
    assert q is not None  # the order string is non-empty
    return q


def quat_to_euler(q: np.ndarray, order: str) -> np.ndarray:
    """Inverse of `euler_to_quat` for Tait-Bryan orders (three distinct axes).

    The middle angle lies in [-π/2, π/2]; the outer two in (-π, π]. Singular (gimbal lock) when
    the middle angle is ±π/2, which is why each joint's order is chosen to keep it away."""
    i, j, k = (AXES[a] for a in order)
    s = 1.0 if (i, j, k) in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) else -1.0
    m = quat_to_matrix(q)
    b = np.arcsin(np.clip(s * m[..., i, k], -1.0, 1.0))
    a = np.arctan2(-s * m[..., j, k], m[..., k, k])
    c = np.arctan2(-s * m[..., i, j], m[..., i, i])
    return np.stack([a, b, c], axis=-1)


def unwrap_angles(angles: np.ndarray, axis: int = 0) -> np.ndarray:
    """Remove 2π jumps along time so that finite differences and lerp stay meaningful."""
    return np.unwrap(angles, axis=axis)


def heading_quat(q: np.ndarray) -> np.ndarray:
    """Yaw-only quaternion (rotation about world +z) of the body's +x axis heading (Z-up world)."""
    fwd = quat_rotate(q, np.broadcast_to(np.array([1.0, 0.0, 0.0]), q.shape[:-1] + (3,)))
    yaw = np.arctan2(fwd[..., 1], fwd[..., 0])
    return quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), yaw)


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def wrap_angle(x):
    """Angles (rad) to (-π, π]; numpy array or torch tensor."""
    if _is_torch(x):
        import torch

        return torch.atan2(torch.sin(x), torch.cos(x))
    return np.arctan2(np.sin(x), np.cos(x))


def quat_angle(a, b):
    """Geodesic angle (...) in [0, π] between unit quaternions a and b: the angle of a⁻¹ ⊗ b;
    numpy arrays or torch tensors.

    atan2 form (not acos of the dot) so it is accurate near 0 and has no singularity anywhere,
    upside down included; q and -q give the same angle."""
    aw, ax, ay, az = (a[..., k] for k in range(4))
    bw, bx, by, bz = (b[..., k] for k in range(4))
    dw = aw * bw + ax * bx + ay * by + az * bz  # a⁻¹ ⊗ b, term by term
    dv = (
        aw * bx - ax * bw - ay * bz + az * by,
        aw * by + ax * bz - ay * bw - az * bx,
        aw * bz - ax * by + ay * bx - az * bw,
    )
    if _is_torch(a):
        import torch

        return 2.0 * torch.atan2(torch.stack(dv, dim=-1).norm(dim=-1), dw.abs())
    return 2.0 * np.arctan2(np.linalg.norm(np.stack(dv, axis=-1), axis=-1), np.abs(dw))
