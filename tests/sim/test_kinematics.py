"""Batched forward kinematics: the centre of mass and the geoms' lowest points against MuJoCo."""

import mujoco
import numpy as np

from imitate.data.motion import humanoid_model as hm
from imitate.sim.kinematics import TreeKinematics
from tests.sim.test_humanoid_model import _random_states


def test_center_of_mass_and_its_velocity_equal_mujoco():
    m = hm.load_model()
    d = mujoco.MjData(m)
    qpos, qvel = _random_states(6, seed=4)
    kin = TreeKinematics(m)
    pos, quat, lin, ang = kin.forward(qpos, qvel)
    com, com_vel = kin.center_of_mass(pos, quat, lin, ang)
    assert kin.center_of_mass(pos, quat)[1] is None
    for i in range(len(qpos)):
        d.qpos[:], d.qvel[:] = qpos[i], qvel[i]
        mujoco.mj_forward(m, d)
        mujoco.mj_subtreeVel(m, d)
        np.testing.assert_allclose(com[i], d.subtree_com[1], atol=1e-12)  # body 1: the root, whole body
        np.testing.assert_allclose(com_vel[i], d.subtree_linvel[1], atol=1e-10)


def test_lowest_points_equal_mujoco_geom_extents():
    m = hm.load_model()
    d = mujoco.MjData(m)
    qpos, _ = _random_states(5, seed=5)
    kin = TreeKinematics(m)
    low = kin.lowest_points(*kin.forward(qpos)[:2])
    for i in range(len(qpos)):
        d.qpos[:] = qpos[i]
        mujoco.mj_kinematics(m, d)
        want = np.full(kin.nbody, np.inf)
        for g in range(m.ngeom):
            b = m.geom_bodyid[g] - 1
            if b < 0:
                continue
            r, size = d.geom_xmat[g].reshape(3, 3)[2], m.geom_size[g]  # world-z row of the geom frame
            if m.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE:
                extent = size[0]
            elif m.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE:
                extent = abs(r[2]) * size[1] + size[0]
            else:
                extent = np.abs(r) @ size
            want[b] = min(want[b], d.geom_xpos[g, 2] - extent)
        np.testing.assert_allclose(low[i], want, atol=1e-12)
