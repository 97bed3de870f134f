"""Batched forward kinematics of slide joints and anchored hinges (dm_control's planar walker and
cheetah) against MuJoCo's own, state by state; the humanoid's free root is tested in
test_humanoid_model.py."""

import mujoco
import numpy as np
import pytest

from imitate.sim.dmc import suite_model
from imitate.sim.kinematics import TreeKinematics
from imitate.utils import rotations as rot


@pytest.mark.parametrize("domain", ["walker", "cheetah"])
def test_planar_models_match_mujoco(domain):
    model = suite_model(domain)
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    qpos, qvel = rng.uniform(-1.5, 1.5, (6, model.nq)), rng.normal(size=(6, model.nv))
    pos, quat, lin, ang = TreeKinematics(model).forward(qpos, qvel)
    only_pos = TreeKinematics(model).forward(qpos)
    np.testing.assert_array_equal(only_pos[0], pos)
    v = np.zeros(6)
    for i in range(len(qpos)):
        data.qpos[:], data.qvel[:] = qpos[i], qvel[i]
        mujoco.mj_forward(model, data)
        np.testing.assert_allclose(pos[i], data.xpos[1:], atol=1e-12)
        np.testing.assert_allclose(rot.quat_to_matrix(quat[i]).reshape(-1, 9), data.xmat[1:], atol=1e-12)
        for b in range(1, model.nbody):
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_XBODY, b, v, 0)
            np.testing.assert_allclose(ang[i, b - 1], v[:3], atol=1e-12)
            np.testing.assert_allclose(lin[i, b - 1], v[3:], atol=1e-12)


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
