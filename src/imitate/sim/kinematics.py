"""Batched forward kinematics of a MuJoCo body tree, in numpy (N copies at once).

Supports a free joint on the first body, hinges (anchored anywhere in their body) and slides, with
MuJoCo's reference positions (``qpos0``): our humanoid (free root, hinges at body origins) and
dm_control's planar walker and cheetah (slide and hinge roots, anchored knees). Exact to float
rounding against mj_kinematics / mj_objectVelocity / mj_comPos, and reads the current qpos, never
MjData.xpos (which mj_step leaves one integration behind). Quaternions are (w, x, y, z).

Batched over bodies as well as envs: joint slot k (a body's k-th joint) of every body is applied
to all bodies at once, giving each body's pose in its parent's frame, then the tree is walked
level by level (the humanoid is five levels deep), so a call is a few dozen numpy operations
whatever the body count; on the small batches of a control step the per-operation overhead, not
the arithmetic, is the cost. A model whose joints never move a body's origin (hinges at body
origins, no slides: the humanoid) skips the translation terms altogether.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from imitate.utils import rotations as rot


class TreeKinematics:
    """Batched forward kinematics of a body tree, read from a compiled MjModel (module docstring)."""

    def __init__(self, model: mujoco.MjModel):
        self.nbody = model.nbody - 1  # world excluded; index b here = MuJoCo body b + 1
        self.parent = model.body_parentid[1:] - 1  # (B,), -1 = world
        self.body_pos = model.body_pos[1:].copy()  # (B, 3) in parent frame
        self.body_quat = model.body_quat[1:].copy()  # (B, 4)
        self.body_mass = model.body_mass[1:].copy()  # (B,) kg
        self.body_ipos = model.body_ipos[1:].copy()  # (B, 3) centre of mass in the body frame
        if np.any(self.parent >= np.arange(self.nbody)):
            raise ValueError("Kinematics expects parents before their children")
        self.free_root = False
        hinge, slide = int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)
        joints: list[list[int]] = [[] for _ in range(self.nbody)]  # each body's joints, in order
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
            joints[b].append(j)
        # joint slot k of every body (B, K): its k-th joint's qpos / dof address (-1: none), kind,
        # axis and anchor in the body frame, and qpos0 (where the body sits at its declared pose)
        k_max = max(1, max((len(js) for js in joints), default=0))
        self._adr = np.full((self.nbody, k_max), -1)
        self._dof = np.full((self.nbody, k_max), -1)
        self._slide = np.zeros((self.nbody, k_max), dtype=bool)
        self._axis = np.zeros((self.nbody, k_max, 3))
        self._anchor = np.zeros((self.nbody, k_max, 3))  # hinges only; zero: at the body origin
        self._ref = np.zeros((self.nbody, k_max))
        for b, js in enumerate(joints):
            for k, j in enumerate(js):
                self._adr[b, k], self._dof[b, k] = model.jnt_qposadr[j], model.jnt_dofadr[j]
                self._slide[b, k] = model.jnt_type[j] == slide
                self._axis[b, k], self._ref[b, k] = model.jnt_axis[j], model.qpos0[model.jnt_qposadr[j]]
                if not self._slide[b, k]:
                    self._anchor[b, k] = model.jnt_pos[j]
        has = self._adr >= 0
        hinges = has & ~self._slide
        anchored = hinges & np.any(self._anchor != 0, axis=-1)
        # per slot, the bodies whose joint there is a hinge / a slide / a hinge anchored off the origin
        self._slot_hinges = [np.nonzero(hinges[:, k])[0] for k in range(k_max)]
        self._slot_slides = [np.nonzero(self._slide[:, k])[0] for k in range(k_max)]
        self._slot_anchored = [np.nonzero(anchored[:, k])[0] for k in range(k_max)]
        # does any joint move a body's origin in its parent's frame? (else the origin is body_pos)
        self._translates = bool(self._slide.any() or anchored.any())
        # the joints as one list, body by body (slot order within a body), so one reduceat sums each
        # body's joints: hinges onto its angular velocity; slides, and the hinges that sweep the
        # origin about their anchor (anchored ones, and those followed in their body by a joint that
        # moves the origin off their axis), onto its origin's velocity
        self._jb, self._jk = np.nonzero(has)
        self._jbodies, self._jstarts = np.unique(self._jb, return_index=True)
        moves = self._slide | anchored
        moved_later = np.flip(np.cumsum(np.flip(moves, 1), 1), 1) - moves  # later joints of the body that do
        self._jhinge = hinges[self._jb, self._jk][:, None]  # (J, 1)
        self._jslide = self._slide[self._jb, self._jk][:, None]
        self._sweeps = np.nonzero((hinges & (anchored | (moved_later > 0)))[self._jb, self._jk])[0]
        depth = np.zeros(self.nbody, dtype=int)
        for b in range(self.nbody):
            depth[b] = 0 if self.parent[b] < 0 else depth[self.parent[b]] + 1
        self._roots = np.array([b for b in np.nonzero(depth == 0)[0] if not (b == 0 and self.free_root)], dtype=int)
        self._levels = [np.nonzero(depth == d)[0] for d in range(1, depth.max() + 1)]  # below the roots
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

    def _joint_frames(self, qpos: np.ndarray) -> tuple[np.ndarray, Any, np.ndarray, Any]:
        """Each body's pose in its parent's frame after its joints, as MuJoCo composes them (fixed
        frame, then each joint in order): rotation (N, B, 4); origin (N, B, 3), or None where no
        joint moves it (it is ``body_pos``); the rotation before each slot (N, B, K, 4), whose frame
        carries that joint's axis; and, with the origin, each slot's hinge anchor (N, B, K, 3)."""
        n, k_max = qpos.shape[0], self._adr.shape[1]
        # each joint's coordinate from its reference position (empty slots read a value never used)
        value = qpos[:, np.maximum(self._adr, 0)] - self._ref if self._jb.size else np.zeros((n,) + self._ref.shape)
        q = np.repeat(self.body_quat[None], n, axis=0)
        before = np.empty((n, self.nbody, k_max, 4))
        x: Any = np.repeat(self.body_pos[None], n, axis=0) if self._translates else None
        anchors: Any = np.empty((n, self.nbody, k_max, 3)) if self._translates else None
        for k in range(k_max):  # slot k of all bodies at once
            before[:, :, k] = q
            h, a = self._slot_hinges[k], self._slot_anchored[k]
            if x is not None:
                s = self._slot_slides[k]
                if s.size:
                    x[:, s] += rot.quat_rotate(q[:, s], self._axis[s, k]) * value[:, s, k, None]
                anchors[:, :, k] = x  # zero anchors: the origin itself
                if a.size:
                    anchors[:, a, k] += rot.quat_rotate(q[:, a], self._anchor[a, k])
            if h.size:
                q[:, h] = rot.quat_mul(q[:, h], rot.quat_from_axis_angle(self._axis[h, k], value[:, h, k]))
            if x is not None and a.size:  # the hinge turned the origin about its anchor
                x[:, a] = anchors[:, a, k] - rot.quat_rotate(q[:, a], self._anchor[a, k])
        return q, x, before, anchors

    def forward(self, qpos: np.ndarray, qvel: np.ndarray | None = None):
        """qpos (N, nq), qvel (N, nv) -> body pos (N,B,3), quat (N,B,4) and, with qvel,
        linear velocity of each body origin (N,B,3) and angular velocity (N,B,3), world frame."""
        n = qpos.shape[0]
        local, origin, before, anchors = self._joint_frames(qpos)
        if origin is None:
            origin = np.broadcast_to(self.body_pos, (n, self.nbody, 3))
        pos = np.empty((n, self.nbody, 3))
        quat = np.empty((n, self.nbody, 4))
        lin: Any = None
        ang: Any = None
        if qvel is not None:
            lin, ang = np.empty((n, self.nbody, 3)), np.empty((n, self.nbody, 3))
            spin, drift = self._joint_velocities(qvel, before, origin, anchors)
        if self.free_root:
            pos[:, 0] = qpos[:, 0:3]
            quat[:, 0] = rot.quat_normalize(qpos[:, 3:7])
            if qvel is not None:
                lin[:, 0] = qvel[:, 0:3]
                ang[:, 0] = rot.quat_rotate(quat[:, 0], qvel[:, 3:6])
        roots = self._roots  # children of the world, which is at rest at the origin
        pos[:, roots], quat[:, roots] = origin[:, roots], local[:, roots]
        if qvel is not None:
            ang[:, roots] = spin[:, roots]
            lin[:, roots] = 0.0 if drift is None else drift[:, roots]
        for bodies in self._levels:
            p = self.parent[bodies]
            qp = quat[:, p]
            pos[:, bodies] = pos[:, p] + rot.quat_rotate(qp, origin[:, bodies])
            quat[:, bodies] = rot.quat_mul(qp, local[:, bodies])
            if qvel is not None:
                lin[:, bodies] = lin[:, p] + rot.cross(ang[:, p], pos[:, bodies] - pos[:, p])
                if drift is not None:
                    lin[:, bodies] += rot.quat_rotate(qp, drift[:, bodies])
                ang[:, bodies] = ang[:, p] + rot.quat_rotate(qp, spin[:, bodies])
        return pos, quat, lin, ang

    def _joint_velocities(
        self, qvel: np.ndarray, before: np.ndarray, origin: np.ndarray, anchors: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Each body's own joints' angular velocity (N, B, 3) and, where joints move its origin, the
        origin's velocity (N, B, 3, else None), both in the parent's frame with the parent at rest."""
        n, jb, jk = qvel.shape[0], self._jb, self._jk
        axes = rot.quat_rotate(before[:, jb, jk], self._axis[jb, jk])  # (N, J, 3) in the parent frame
        dof = axes * qvel[:, self._dof[jb, jk], None]  # each joint's angular (hinge) / linear (slide) velocity
        spin = np.zeros((n, self.nbody, 3))
        if jb.size:
            spin[:, self._jbodies] = np.add.reduceat(dof * self._jhinge, self._jstarts, axis=1)
        if anchors is None:
            return spin, None
        sw = self._sweeps
        moved = dof * self._jslide
        moved[:, sw] += rot.cross(dof[:, sw], origin[:, jb[sw]] - anchors[:, jb[sw], jk[sw]])
        drift = np.zeros((n, self.nbody, 3))
        drift[:, self._jbodies] = np.add.reduceat(moved, self._jstarts, axis=1)
        return spin, drift

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
