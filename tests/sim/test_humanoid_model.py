"""The MuJoCo humanoid: conversion against pybullet's own humanoid, batched sim (MujocoSim); its batched FK
against MuJoCo is in test_kinematics.py."""

import numpy as np
import pytest

from imitate.data.motion import humanoid_model as hm
from imitate.data.motion.clip import convert, find_clip, parse_frames
from imitate.sim.mujoco_c import BACKENDS, MujocoSim
from imitate.tasks.humanoid.common import ground_contact


def humanoid_sim(n, backend="rollout"):
    """n humanoids at the task's control rate (30 Hz, 4 physics steps)."""
    return MujocoSim(hm.load_model(), n, substeps=hm.SUBSTEPS, backend=backend)


def joints(sim):
    """Copies of qpos (N, 35) and qvel (N, 34)."""
    return sim.qpos.copy(), sim.qvel.copy()


def test_model_facts():
    m = hm.load_model()
    assert m.nq == 35 and m.nv == 34 and m.nu == 28 == hm.NUM_DOF
    assert m.body_subtreemass[1] == pytest.approx(45.0)  # URDF masses, 45 kg
    assert m.opt.timestep == pytest.approx(1 / hm.PHYSICS_HZ)
    np.testing.assert_allclose(m.actuator_gainprm[:, 0], hm.KP)
    np.testing.assert_allclose(-m.actuator_biasprm[:, 2], hm.KV)
    np.testing.assert_allclose(m.actuator_forcerange[:, 1], hm.TORQUE_LIMIT)
    assert len(hm.JOINT_NAMES) == 28 and hm.JOINT_NAMES[hm.JOINT_SLICES["right_knee"]] == ("right_knee",)


@pytest.fixture(scope="module")
def pybullet_humanoid():
    p = pytest.importorskip("pybullet")
    import pybullet_data

    cid = p.connect(p.DIRECT)
    p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=cid)
    h = p.loadURDF(
        "humanoid/humanoid.urdf", [0, 0, 0], globalScaling=0.25, flags=p.URDF_MAINTAIN_LINK_ORDER, physicsClientId=cid
    )
    yield p, cid, h
    p.disconnect(cid)


def _pybullet_body_positions(p, cid, h, frame):
    """Reset pybullet's humanoid from an ORIGINAL (Y-up) frame; body origins rotated to Z-up."""
    xyzw = lambda q: [q[1], q[2], q[3], q[0]]  # noqa: E731 — pybullet quaternions are x,y,z,w
    p.resetBasePositionAndOrientation(h, frame[1:4], xyzw(frame[4:8]), physicsClientId=cid)
    col = 8
    for name, dof in hm.FRAME_JOINTS:
        link = hm.PYBULLET_LINK[name]
        if dof == 3:
            p.resetJointStateMultiDof(h, link, xyzw(frame[col : col + 4]), [0, 0, 0], physicsClientId=cid)
        else:
            p.resetJointStateMultiDof(h, link, [frame[col]], [0], physicsClientId=cid)
        col += 4 if dof == 3 else 1
    out = []
    for name in hm.BODY_NAMES:
        link = hm.PYBULLET_LINK[name]
        if link < 0:
            pos = p.getBasePositionAndOrientation(h, physicsClientId=cid)[0]
        else:  # [4] = URDF link frame (= our body origin), not the COM
            pos = p.getLinkState(h, link, computeForwardKinematics=True, physicsClientId=cid)[4]
        out.append(hm.Y_TO_Z_ROT @ np.asarray(pos))
    return np.array(out)


# Largest body-position gap to pybullet's humanoid over every frame of each clip, as README.md and
# docs/humanoid.md state it (measured: walk 1.2 µm, cartwheel 2.0 µm, turn_left0 0.13 µm,
# backflip 8.9 mm: its file has quaternions up to 12 % off unit norm, which we normalise).
FK_TOLERANCE_M = {
    "humanoid3d_walk": 3e-6,
    "humanoid3d_cartwheel": 3e-6,
    "walker/turn_left0": 3e-6,
    "humanoid3d_backflip": 9e-3,
}


@pytest.mark.parametrize("name", list(FK_TOLERANCE_M))
def test_conversion_matches_pybullet_fk(pybullet_humanoid, name):
    p, cid, h = pybullet_humanoid
    text = find_clip(name).read_text()
    frames, _ = parse_frames(text)
    clip = convert(text, name)
    errs = [
        np.linalg.norm(_pybullet_body_positions(p, cid, h, frames[i]) - clip.body_pos[i], axis=-1).max()
        for i in range(len(frames))
    ]
    assert max(errs) < FK_TOLERANCE_M[name], (max(errs), int(np.argmax(errs)))
    assert clip.body_pos[..., 2].max() > 0.5  # a real pose, not everything at the origin


def test_walk_clip_facts():
    clip = convert(find_clip("humanoid3d_walk").read_text(), "walk")
    feet = clip.body_pos[:, hm.body_ids(hm.FEET), 2]
    assert 0.03 < feet.min() < 0.07  # ankles' lowest point ≈ 0.05 m
    d, _ = clip.cycle_offset()
    assert d[0] == pytest.approx(1.24, abs=0.01) and abs(d[1]) < 0.01  # walks along +x
    assert 0.8 < clip.root_pos[:, 2].mean() < 0.9


def _random_states(n, seed=0):
    rng = np.random.default_rng(seed)
    qpos = np.zeros((n, 35))
    qpos[:, :3] = rng.normal(size=(n, 3))
    q = rng.normal(size=(n, 4))
    qpos[:, 3:7] = q / np.linalg.norm(q, axis=1, keepdims=True)
    qpos[:, 7:] = rng.uniform(-1.5, 1.5, size=(n, 28))
    return qpos, rng.normal(size=(n, 34))


def test_set_get_state_round_trip_exact():
    sim = humanoid_sim(5)
    qpos, qvel = _random_states(5, seed=1)
    sim.set_joints(qpos, qvel, normalise_root=True)
    got_q, got_v = joints(sim)
    np.testing.assert_array_equal(got_q, qpos)
    np.testing.assert_array_equal(got_v, qvel)
    sim.set_joints(qpos[:2] * 0 + qpos[4], qvel[:2] * 0, env_ids=np.array([1, 3]), normalise_root=True)  # subset
    got_q, got_v = joints(sim)
    np.testing.assert_array_equal(got_q[[1, 3]], np.stack([qpos[4]] * 2))
    np.testing.assert_array_equal(got_q[[0, 2, 4]], qpos[[0, 2, 4]])
    assert np.all(got_v[[1, 3]] == 0)


def _standing_qpos(n):
    qpos = np.zeros((n, 35))
    qpos[:, 2] = 0.8815  # feet flat on the floor with all hinges at 0
    qpos[:, 3] = 1.0
    return qpos


@pytest.mark.parametrize("backend", BACKENDS)
def test_batched_step_equals_single_env_step(backend):
    n = 40  # >= 32: the thread pool is used
    rng = np.random.default_rng(2)
    qpos = _standing_qpos(n)
    qpos[:, 7:] = rng.uniform(-0.3, 0.3, size=(n, 28))
    ctrl = rng.uniform(-0.5, 0.5, size=(3, n, 28))
    sim = humanoid_sim(n, backend=backend)
    assert sim.nthread >= 1
    sim.set_joints(qpos, np.zeros((n, 34)))
    for c in ctrl:
        sim.step(c)
    batched = joints(sim)
    other = "threads" if backend == "rollout" else "rollout"
    for i in (0, 17, 39):
        for b in (backend, other):
            one = humanoid_sim(1, backend=b)
            one.set_joints(qpos[i : i + 1], np.zeros((1, 34)))
            for c in ctrl:
                one.step(c[i : i + 1])
            if b == backend:  # same code path: bit-exact
                np.testing.assert_array_equal(one.qpos[0], batched[0][i])
                np.testing.assert_array_equal(one.qvel[0], batched[1][i])
            else:  # the other backend: equal to rounding
                np.testing.assert_allclose(one.qpos[0], batched[0][i], atol=1e-9)
                np.testing.assert_allclose(one.qvel[0], batched[1][i], atol=1e-7)
    # and it moved: the controls did something
    assert np.abs(batched[0][:, 7:] - qpos[:, 7:]).max() > 0.05


def test_pd_hold_standing_is_stable():
    sim = humanoid_sim(2)
    qpos = _standing_qpos(2)
    walk = convert(find_clip("humanoid3d_walk").read_text(), "walk")
    qpos[1] = walk.qpos()[0]  # first walk frame: mid-stride, cannot balance forever
    sim.set_joints(qpos, np.zeros((2, 34)), normalise_root=True)
    target = qpos[:, 7:]
    heights, errs = [], []
    for _ in range(int(2.0 * hm.CONTROL_HZ)):
        assert not sim.step(target).any()
        q = sim.qpos.copy()
        assert np.isfinite(q).all()
        heights.append(q[:, 2])
        errs.append(np.abs(q[:, 7:] - target).max(axis=1))
    heights, errs = np.array(heights), np.array(errs)
    assert heights[:, 0].min() > 0.85 and errs[:, 0].max() < 0.05  # stands still for 2 s
    feet = sim.lowest_points()[0, hm.body_ids(hm.FEET)]
    assert np.all(np.abs(feet) < 0.01) and not ground_contact(sim)[0]
    one_s = hm.CONTROL_HZ
    assert heights[:one_s, 1].min() > 0.6 and errs[:one_s, 1].max() < 0.2  # walk pose holds 1 s


def test_ground_contact_detects_lying_body():
    sim = humanoid_sim(2)
    qpos = _standing_qpos(2)
    qpos[1, 2] = 0.1
    qpos[1, 3:7] = [np.cos(np.pi / 4), 0, np.sin(np.pi / 4), 0]  # lying on its front/back
    sim.set_joints(qpos, np.zeros((2, 34)), normalise_root=True)
    assert ground_contact(sim).tolist() == [False, True]
