"""Batched forward kinematics of a MuJoCo body tree, in numpy (N copies at once).

Supports a free joint on the first body, hinges (anchored anywhere in their body) and slides, with
MuJoCo's reference positions (``qpos0``): our humanoid (free root, hinges at body origins) and
dm_control's planar walker and cheetah (slide and hinge roots, anchored knees). Exact to float
rounding against mj_kinematics / mj_objectVelocity, and reads the current qpos, never MjData.xpos
(which mj_step leaves one integration behind). Quaternions are (w, x, y, z).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from imitate.utils import rotations as rot


@dataclass(frozen=True)
class _Joint:
    slide: bool  # else a hinge
    qpos_adr: int
    dof_adr: int
    axis: np.ndarray  # in the body frame
    ref: float  # qpos0: the coordinate at which the body sits at its declared pose
    anchor: np.ndarray | None  # hinge anchor in the body frame; None at the body origin
    moves_origin: bool  # the body origin is not on this hinge's axis (an anchor, or a slide after it)


class TreeKinematics:
    """Batched forward kinematics of a body tree, read from a compiled MjModel (module docstring)."""

    def __init__(self, model: mujoco.MjModel):
        self.nbody = model.nbody - 1  # world excluded; index b here = MuJoCo body b + 1
        self.parent = model.body_parentid[1:] - 1  # (B,), -1 = world
        self.body_pos = model.body_pos[1:].copy()  # (B, 3) in parent frame
        self.body_quat = model.body_quat[1:].copy()  # (B, 4)
        self.free_root = False
        self.joints: list[list[_Joint]] = [[] for _ in range(self.nbody)]
        hinge, slide = int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)
        for j in range(model.njnt):
            b = model.jnt_bodyid[j] - 1
            kind = int(model.jnt_type[j])
            if kind == int(mujoco.mjtJoint.mjJNT_FREE):
                if b != 0 or model.body_jntnum[1] != 1:
                    raise ValueError("Kinematics expects a free joint only as the first body's one joint")
                self.free_root = True
                continue
            if kind not in (hinge, slide):
                raise ValueError("Kinematics supports free, hinge and slide joints only")
            anchor = model.jnt_pos[j].copy() if kind == hinge and np.any(model.jnt_pos[j] != 0) else None
            # the origin leaves this hinge's axis if the hinge is anchored off it or a slide of this body follows
            slide_after = any(
                model.jnt_type[k] == slide for k in range(j + 1, model.njnt) if model.jnt_bodyid[k] == b + 1
            )
            self.joints[b].append(
                _Joint(
                    slide=kind == slide,
                    qpos_adr=int(model.jnt_qposadr[j]),
                    dof_adr=int(model.jnt_dofadr[j]),
                    axis=model.jnt_axis[j].copy(),
                    ref=float(model.qpos0[model.jnt_qposadr[j]]),
                    anchor=anchor,
                    moves_origin=kind == hinge and (anchor is not None or slide_after),
                )
            )
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
        for b in range(self.nbody):  # fixed loop over the bodies, each op batched over N
            p = self.parent[b]
            if b == 0 and self.free_root:
                pos[:, b] = qpos[:, 0:3]
                quat[:, b] = rot.quat_normalize(qpos[:, 3:7])
                if qvel is not None:
                    lin[:, b] = qvel[:, 0:3]
                    ang[:, b] = rot.quat_rotate(quat[:, b], qvel[:, 3:6])
                continue
            if p < 0:
                x = np.broadcast_to(self.body_pos[b], (n, 3))
                q = np.broadcast_to(self.body_quat[b], (n, 4))
                w = np.zeros((n, 3)) if qvel is not None else None
            else:
                x = pos[:, p] + rot.quat_rotate(quat[:, p], np.broadcast_to(self.body_pos[b], (n, 3)))
                q = rot.quat_mul(quat[:, p], np.broadcast_to(self.body_quat[b], (n, 4)))
                w = ang[:, p].copy() if qvel is not None else None
            slid: list[np.ndarray] = []  # world slide velocities
            swept: list[tuple[np.ndarray, np.ndarray]] = []  # (world hinge angular velocity, world anchor)
            for j in self.joints[b]:
                angle = qpos[:, j.qpos_adr] if j.ref == 0.0 else qpos[:, j.qpos_adr] - j.ref
                if j.slide:
                    axis = rot.quat_rotate(q, np.broadcast_to(j.axis, (n, 3)))
                    x = x + axis * angle[:, None]
                    if qvel is not None:
                        slid.append(axis * qvel[:, j.dof_adr : j.dof_adr + 1])
                    continue
                anchor = x if j.anchor is None else x + rot.quat_rotate(q, np.broadcast_to(j.anchor, (n, 3)))
                if qvel is not None:
                    wj = rot.quat_rotate(q, np.broadcast_to(j.axis, (n, 3))) * qvel[:, j.dof_adr : j.dof_adr + 1]
                    w += wj
                    if j.moves_origin:
                        swept.append((wj, anchor))
                q = rot.quat_mul(q, rot.quat_from_axis_angle(j.axis, angle))
                if j.anchor is not None:
                    x = anchor - rot.quat_rotate(q, np.broadcast_to(j.anchor, (n, 3)))
            pos[:, b], quat[:, b] = x, q
            if qvel is not None:
                v = np.zeros((n, 3)) if p < 0 else lin[:, p] + rot.cross(ang[:, p], x - pos[:, p])
                for s in slid:
                    v = v + s
                for wj, anchor in swept:
                    v = v + rot.cross(wj, x - anchor)
                lin[:, b], ang[:, b] = v, w
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
