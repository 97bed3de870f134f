"""Batched forward kinematics of a MuJoCo body tree, in numpy (N copies at once).

Supports a free joint on the first body and hinges anchored at body origins, which is what our
humanoid uses. Exact to float rounding against mj_kinematics / mj_objectVelocity / mj_comPos,
and reads the current qpos, never MjData.xpos (which mj_step leaves one integration behind).
Quaternions are (w, x, y, z).

Batched over bodies as well as envs: every body's joint rotation (its fixed frame and up to three
hinges) is composed for all bodies at once, then the tree is walked level by level (the humanoid
is five levels deep), so a call is a few dozen numpy operations whatever the body count; on
the small batches of a control step the per-operation overhead, not the arithmetic, is the cost.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from imitate.utils import rotations as rot

MAX_HINGES = 3  # hinges per body (a 3-DoF joint is three hinges in one body)
_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


class TreeKinematics:
    """Batched forward kinematics of the humanoid tree, read from a compiled MjModel.

    Supports what our model uses: one free joint on the root, hinges anchored at body origins.
    """

    def __init__(self, model: mujoco.MjModel):
        self.nbody = model.nbody - 1  # world excluded; index b here = MuJoCo body b + 1
        self.parent = model.body_parentid[1:] - 1  # (B,), -1 = world
        self.body_pos = model.body_pos[1:].copy()  # (B, 3) in parent frame
        self.body_quat = model.body_quat[1:].copy()  # (B, 4)
        self.body_mass = model.body_mass[1:].copy()  # (B,) kg
        self.body_ipos = model.body_ipos[1:].copy()  # (B, 3) centre of mass in the body frame
        self.hinges: list[list[tuple[int, np.ndarray, int]]] = [[] for _ in range(self.nbody)]
        for j in range(model.njnt):
            b = model.jnt_bodyid[j] - 1
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
                if b != 0:
                    raise ValueError("Kinematics expects the free joint on the first body")
                continue
            if model.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE or np.any(model.jnt_pos[j] != 0):
                raise ValueError("Kinematics supports hinges anchored at the body origin only")
            if b == 0:
                raise ValueError("Kinematics expects no hinge on the free root body")
            self.hinges[b].append((model.jnt_qposadr[j], model.jnt_axis[j].copy(), model.jnt_dofadr[j]))
        if any(len(h) > MAX_HINGES for h in self.hinges):
            raise ValueError(f"Kinematics supports at most {MAX_HINGES} hinges per body")
        if self.parent[0] != -1 or np.any(self.parent[1:] < 0) or np.any(self.parent[1:] >= np.arange(1, self.nbody)):
            raise ValueError("Kinematics expects one tree under the first body, parents before children")
        # hinge slot k of every body (B, 3): qpos / dof address (-1: no hinge there) and axis
        self._adr = np.full((self.nbody, MAX_HINGES), -1)
        self._dof = np.full((self.nbody, MAX_HINGES), -1)
        self._axis = np.zeros((self.nbody, MAX_HINGES, 3))
        for b, hinges in enumerate(self.hinges):
            for k, (adr, axis, dof) in enumerate(hinges):
                self._adr[b, k], self._dof[b, k], self._axis[b, k] = adr, dof, axis
        self._has = self._adr >= 0
        depth = np.zeros(self.nbody, dtype=int)
        for b in range(1, self.nbody):
            depth[b] = depth[self.parent[b]] + 1
        self._levels = [np.nonzero(depth == d)[0] for d in range(1, depth.max() + 1)]  # below the root
        # geoms for ground-distance queries, grouped by body (for one reduceat per query)
        self.geom_body = model.geom_bodyid - 1
        geoms = np.nonzero(self.geom_body >= 0)[0]
        self.geoms = geoms[np.argsort(self.geom_body[geoms], kind="stable")]
        self.geom_type = model.geom_type[self.geoms]
        self.geom_size = model.geom_size[self.geoms]
        self.geom_pos = model.geom_pos[self.geoms]
        self.geom_quat = model.geom_quat[self.geoms]
        self.geom_of_body = self.geom_body[self.geoms]
        self._geom_rot = rot.quat_to_matrix(self.geom_quat)  # (G, 3, 3) geom frame in the body frame
        self._geom_bodies, self._geom_starts = np.unique(self.geom_of_body, return_index=True)

    def _joint_rotations(self, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each body's rotation in its parent's frame (N, B, 4): fixed frame ⊗ hinge 1 ⊗ 2 ⊗ 3,
        and the partial products before each hinge (N, B, 3, 4), whose frames carry the hinge axes."""
        n = qpos.shape[0]
        hinge = np.zeros((n, self.nbody, MAX_HINGES, 4))
        hinge[..., 0] = 1.0  # no hinge in a slot: the identity
        hinge[:, self._has] = rot.quat_from_axis_angle(self._axis[self._has], qpos[:, self._adr[self._has]])
        before = np.empty((n, self.nbody, MAX_HINGES, 4))
        q = np.broadcast_to(self.body_quat, (n, self.nbody, 4))
        for k in range(MAX_HINGES):
            before[:, :, k] = q
            q = rot.quat_mul(q, hinge[:, :, k])
        return q, before

    def forward(self, qpos: np.ndarray, qvel: np.ndarray | None = None):
        """qpos (N, nq), qvel (N, nv) -> body pos (N,B,3), quat (N,B,4) and, with qvel,
        linear velocity of each body origin (N,B,3) and angular velocity (N,B,3), world frame."""
        n = qpos.shape[0]
        local, before = self._joint_rotations(qpos)
        pos = np.empty((n, self.nbody, 3))
        quat = np.empty((n, self.nbody, 4))
        pos[:, 0] = qpos[:, 0:3]
        quat[:, 0] = rot.quat_normalize(qpos[:, 3:7])
        lin: Any = None
        ang: Any = None
        if qvel is not None:
            lin, ang = np.empty((n, self.nbody, 3)), np.empty((n, self.nbody, 3))
            lin[:, 0] = qvel[:, 0:3]
            ang[:, 0] = rot.quat_rotate(quat[:, 0], qvel[:, 3:6])
            rate = np.zeros((n, self.nbody, MAX_HINGES))
            rate[:, self._has] = qvel[:, self._dof[self._has]]
            axes = rot.quat_rotate(before, np.broadcast_to(self._axis, before.shape[:-1] + (3,)))
            spin = np.einsum("nbkc,nbk->nbc", axes, rate)  # (N, B, 3) joint angular velocity, parent frame
        for bodies in self._levels:
            p = self.parent[bodies]
            qp = quat[:, p]
            pos[:, bodies] = pos[:, p] + rot.quat_rotate(qp, np.broadcast_to(self.body_pos[bodies], (n, len(p), 3)))
            quat[:, bodies] = rot.quat_mul(qp, local[:, bodies])
            if qvel is not None:
                lin[:, bodies] = lin[:, p] + rot.cross(ang[:, p], pos[:, bodies] - pos[:, p])
                ang[:, bodies] = ang[:, p] + rot.quat_rotate(qp, spin[:, bodies])
        return pos, quat, lin, ang

    def center_of_mass(
        self, pos: np.ndarray, quat: np.ndarray, lin: np.ndarray | None = None, ang: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Whole-body centre of mass (N, 3) (MuJoCo's subtree_com of the root) from ``forward``'s
        body poses, and with its velocities the centre of mass's velocity (N, 3), else None."""
        offset = rot.quat_rotate(quat, np.broadcast_to(self.body_ipos, pos.shape))  # body origin -> its COM
        w = self.body_mass / self.body_mass.sum()
        com = np.einsum("b,nbc->nc", w, pos + offset)
        if lin is None or ang is None:
            return com, None
        return com, np.einsum("b,nbc->nc", w, lin + rot.cross(ang, offset))

    def lowest_points(self, body_pos: np.ndarray, body_quat: np.ndarray) -> np.ndarray:
        """(N, B) height of the lowest point of each body's collision geoms (inf if none)."""
        b = self.geom_of_body
        w, x, y, z = np.moveaxis(body_quat[:, b], -1, 0)
        up = np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1)  # world-z row
        gz = body_pos[:, b, 2] + np.einsum("ngc,gc->ng", up, self.geom_pos)
        r = np.einsum("ngc,gcd->ngd", up, self._geom_rot)  # (N, G, 3): world-z row of the geom frame
        size = self.geom_size
        t = self.geom_type
        extent = np.where(
            t == mujoco.mjtGeom.mjGEOM_SPHERE,
            size[:, 0],
            np.where(
                t == mujoco.mjtGeom.mjGEOM_CAPSULE,
                np.abs(r[..., 2]) * size[:, 1] + size[:, 0],
                np.sum(np.abs(r) * size, -1),
            ),
        )
        out = np.full(body_pos.shape[:2], np.inf)
        out[:, self._geom_bodies] = np.minimum.reduceat(gz - extent, self._geom_starts, axis=1)
        return out
