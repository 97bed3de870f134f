"""Batched forward kinematics against MuJoCo's own, state by state: the humanoid (free root,
hinges at body origins), slide joints and anchored hinges (dm_control's planar walker and
cheetah), reference positions, the centre of mass and the geoms' lowest points."""

import mujoco
import numpy as np
import pytest

from imitate.data.motion import humanoid_model as hm
from imitate.sim.dmc import suite_model
from imitate.sim.kinematics import TreeKinematics
from imitate.utils import rotations as rot
from tests.sim.test_humanoid_model import _random_states


def _assert_matches_mujoco(model, qpos, qvel, vel_atol=1e-12):
    """Body poses and velocities of ``forward`` equal mj_forward's and mj_objectVelocity's, and
    the poses do not depend on whether velocities were asked for."""
    data = mujoco.MjData(model)
    pos, quat, lin, ang = TreeKinematics(model).forward(qpos, qvel)
    np.testing.assert_array_equal(TreeKinematics(model).forward(qpos)[0], pos)
    v = np.zeros(6)
    for i in range(len(qpos)):
        data.qpos[:], data.qvel[:] = qpos[i], qvel[i]
        mujoco.mj_forward(model, data)
        np.testing.assert_allclose(pos[i], data.xpos[1:], atol=1e-12)
        np.testing.assert_allclose(rot.quat_to_matrix(quat[i]).reshape(-1, 9), data.xmat[1:], atol=1e-12)
        for b in range(1, model.nbody):
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, b, v, 0)
            np.testing.assert_allclose(ang[i, b - 1], v[:3], atol=vel_atol)
            np.testing.assert_allclose(lin[i, b - 1], v[3:], atol=vel_atol)


def test_humanoid_matches_mujoco():
    _assert_matches_mujoco(hm.load_model(), *_random_states(6), vel_atol=1e-10)


@pytest.mark.parametrize("domain", ["walker", "cheetah"])
def test_planar_models_match_mujoco(domain):
    model = suite_model(domain)
    rng = np.random.default_rng(0)
    _assert_matches_mujoco(model, rng.uniform(-1.5, 1.5, (6, model.nq)), rng.normal(size=(6, model.nv)))


def test_reference_positions_and_unsupported_joints():
    """A slide's and a hinge's qpos0 (``ref``) is where the body sits at its declared pose; ball
    joints are refused."""
    xml = """<mujoco><worldbody><body name="a" pos="0 0 1">
      <joint type="slide" axis="1 0 0" ref="0.5"/><joint type="hinge" axis="0 1 0" ref="0.3" pos="0 0 0.2"/>
      <geom size="0.1" mass="1"/></body></worldbody></mujoco>"""
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    data.qpos[:] = [1.25, -0.4]
    mujoco.mj_forward(model, data)
    pos, quat, _, _ = TreeKinematics(model).forward(data.qpos[None].copy())
    np.testing.assert_allclose(pos[0], data.xpos[1:], atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(quat[0] * data.xquat[1:], -1)), 1.0, atol=1e-12)
    ball = mujoco.MjModel.from_xml_string(
        '<mujoco><worldbody><body><joint type="ball"/><geom size="0.1"/></body></worldbody></mujoco>'
    )
    with pytest.raises(ValueError, match="free, hinge and slide"):
        TreeKinematics(ball)


def test_two_trees_and_a_slide_after_a_hinge_match_mujoco():
    """Two trees under the world, batched level by level: a hinge then a slide in one body (the
    hinge sweeps the slid origin), an anchored hinge under it, and a hinge at the origin followed
    by an anchored one (which moves the origin off the first one's axis)."""
    xml = """<mujoco><worldbody>
      <body pos="0 0 1"><joint type="hinge" axis="0 0 1"/><joint type="slide" axis="1 0 0" ref="0.2"/>
        <geom size="0.1" mass="1"/>
        <body pos="0.3 0 0" euler="0 30 0"><joint type="hinge" axis="0 1 0" pos="0 0 -0.1" ref="0.4"/>
          <joint type="hinge" axis="1 0 0"/><geom size="0.1" mass="2"/></body></body>
      <body pos="1 1 0"><joint type="slide" axis="0 0 1"/><joint type="hinge" axis="0 0 1"/>
        <joint type="hinge" axis="0 1 0" pos="0.1 0 0"/><geom size="0.1" mass="3"/></body></worldbody></mujoco>"""
    model = mujoco.MjModel.from_xml_string(xml)
    rng = np.random.default_rng(1)
    _assert_matches_mujoco(model, rng.uniform(-1.5, 1.5, (4, model.nq)), rng.normal(size=(4, model.nv)))


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
