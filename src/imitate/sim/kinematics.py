"""Batched forward kinematics of a MuJoCo body tree, in numpy (N copies at once).

Supports a free joint on the first body and hinges anchored at body origins, which is what our
humanoid uses. Exact to float rounding against mj_kinematics / mj_objectVelocity, and reads the
current qpos, never MjData.xpos (which mj_step leaves one integration behind). Quaternions are
(w, x, y, z).
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from imitate.utils import rotations as rot


class TreeKinematics:
    """Batched forward kinematics of the humanoid tree, read from a compiled MjModel.

    Supports what our model uses: one free joint on the root, hinges anchored at body origins.
    """

    def __init__(self, model: mujoco.MjModel):
        self.nbody = model.nbody - 1  # world excluded; index b here = MuJoCo body b + 1
        self.parent = model.body_parentid[1:] - 1  # (B,), -1 = world
        self.body_pos = model.body_pos[1:].copy()  # (B, 3) in parent frame
        self.body_quat = model.body_quat[1:].copy()  # (B, 4)
        self.hinges: list[list[tuple[int, np.ndarray, int]]] = [[] for _ in range(self.nbody)]
        for j in range(model.njnt):
            b = model.jnt_bodyid[j] - 1
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
                if b != 0:
                    raise ValueError("Kinematics expects the free joint on the first body")
                continue
            if model.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE or np.any(model.jnt_pos[j] != 0):
                raise ValueError("Kinematics supports hinges anchored at the body origin only")
            self.hinges[b].append((model.jnt_qposadr[j], model.jnt_axis[j].copy(), model.jnt_dofadr[j]))
        # geoms for ground-distance queries
        self.geom_body = model.geom_bodyid - 1
        keep = self.geom_body >= 0
        self.geoms = np.nonzero(keep)[0]
        self.geom_type = model.geom_type[self.geoms]
        self.geom_size = model.geom_size[self.geoms]
        self.geom_pos = model.geom_pos[self.geoms]
        self.geom_quat = model.geom_quat[self.geoms]
        self.geom_of_body = self.geom_body[self.geoms]

    def forward(self, qpos: np.ndarray, qvel: np.ndarray | None = None):
        """qpos (N, nq), qvel (N, nv) -> body pos (N,B,3), quat (N,B,4) and, with qvel,
        linear velocity of each body origin (N,B,3) and angular velocity (N,B,3), world frame."""
        n = qpos.shape[0]
        pos = np.empty((n, self.nbody, 3))
        quat = np.empty((n, self.nbody, 4))
        lin: Any = np.empty((n, self.nbody, 3)) if qvel is not None else None
        ang: Any = np.empty((n, self.nbody, 3)) if qvel is not None else None
        for b in range(self.nbody):  # fixed loop over 15 bodies, each op batched over N
            p = self.parent[b]
            if p < 0:
                pos[:, b] = qpos[:, 0:3]
                q = rot.quat_normalize(qpos[:, 3:7])
                if qvel is not None:
                    lin[:, b] = qvel[:, 0:3]
                    ang[:, b] = rot.quat_rotate(q, qvel[:, 3:6])
            else:
                pos[:, b] = pos[:, p] + rot.quat_rotate(quat[:, p], np.broadcast_to(self.body_pos[b], (n, 3)))
                q = rot.quat_mul(quat[:, p], np.broadcast_to(self.body_quat[b], (n, 4)))
                if qvel is not None:
                    lin[:, b] = lin[:, p] + rot.cross(ang[:, p], pos[:, b] - pos[:, p])
                    w = ang[:, p].copy()
            for adr, axis, dof in self.hinges[b]:
                if qvel is not None:
                    w += rot.quat_rotate(q, np.broadcast_to(axis, (n, 3))) * qvel[:, dof : dof + 1]
                q = rot.quat_mul(q, rot.quat_from_axis_angle(axis, qpos[:, adr]))
            if qvel is not None and p >= 0:
                ang[:, b] = w
            quat[:, b] = q
        return pos, quat, lin, ang

    def lowest_points(self, body_pos: np.ndarray, body_quat: np.ndarray) -> np.ndarray:
        """(N, B) height of the lowest point of each body's collision geoms (inf if none)."""
        b = self.geom_of_body
        gq = rot.quat_mul(body_quat[:, b], np.broadcast_to(self.geom_quat, body_quat[:, b].shape))
        gz = (
            body_pos[:, b, 2]
            + rot.quat_rotate(body_quat[:, b], np.broadcast_to(self.geom_pos, gq.shape[:-1] + (3,)))[..., 2]
        )
        r = rot.quat_to_matrix(gq)[..., 2, :]  # (N, G, 3): world-z row of the geom frame
        size = self.geom_size
        sphere = size[:, 0]
        capsule = np.abs(r[..., 2]) * size[:, 1] + size[:, 0]
        box = np.sum(np.abs(r) * size, axis=-1)
        t = self.geom_type
        extent = np.where(
            t == mujoco.mjtGeom.mjGEOM_SPHERE, sphere, np.where(t == mujoco.mjtGeom.mjGEOM_CAPSULE, capsule, box)
        )
        low = gz - extent  # (N, G)
        out = np.full(body_pos.shape[:2], np.inf)
        for g in range(len(b)):  # 15 geoms
            out[:, b[g]] = np.minimum(out[:, b[g]], low[:, g])
        return out
