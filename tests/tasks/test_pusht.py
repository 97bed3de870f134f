"""Push-T: coverage, exact save/restore, PD tracking, contact, scripted expert, CLI data."""

import math

import numpy as np
import pytest
import torch

from imitate.data.dataset import Demonstrations
from imitate.oracles.pusht import expert_success_rate, pusht_oracle
from imitate.tasks.core.vecenv import VecEnv
from imitate.tasks.pusht import (
    GOAL_POSE,
    MAX_EPISODE_STEPS,
    PUSHER_RADIUS,
    T_AREA,
    PushTEnv,
    coverage,
    inside_t,
    obs_angle,
    place,
    target_to_action,
    to_local,
)


def test_protocol_and_shapes():
    env = PushTEnv(256, seed=0)
    assert isinstance(env, VecEnv)
    obs = env.reset()
    assert obs.shape == (256, 6) and obs.dtype == torch.float32
    r = env.step(torch.zeros(256, 2))
    assert r.transition.shape == (256, 12)
    assert r.reward.shape == r.success.shape == (256,)
    theta = torch.from_numpy(np.arctan2(np.sin(env.sim.qpos[:, 4]), np.cos(env.sim.qpos[:, 4]))).float()
    assert torch.allclose(obs_angle(r.obs), theta, atol=1e-5)


def test_coverage_at_goal_and_far():
    goal = torch.tensor([GOAL_POSE], dtype=torch.float64)
    assert coverage(goal).item() == pytest.approx(1.0)
    far = torch.tensor([[100.0, 100.0, 0.0], [400.0, 400.0, 1.0]], dtype=torch.float64)
    assert (coverage(far) == 0.0).all()
    # A shift by d uncovers strips along the edges facing the shift: d·120 of area along a body
    # axis, d·240/√2 along the world x axis (diagonal in the goal's frame, rotated by π/4).
    c, s = math.cos(GOAL_POSE[2]), math.sin(GOAL_POSE[2])
    for d in (1.0, 3.0):
        along = torch.tensor([[GOAL_POSE[0] + d * c, GOAL_POSE[1] + d * s, GOAL_POSE[2]]], dtype=torch.float64)
        assert coverage(along).item() == pytest.approx(1 - d * 120.0 / T_AREA, abs=0.005)
        world_x = torch.tensor([[GOAL_POSE[0] + d, GOAL_POSE[1], GOAL_POSE[2]]], dtype=torch.float64)
        assert coverage(world_x).item() == pytest.approx(1 - d * 240.0 / math.sqrt(2) / T_AREA, abs=0.005)
    turned = torch.tensor([[GOAL_POSE[0], GOAL_POSE[1], GOAL_POSE[2] + math.pi / 2]], dtype=torch.float64)
    assert coverage(turned).item() < 0.5


def test_success_terminates_with_full_reward():
    env = PushTEnv(2, seed=0)
    place(env, 0, (40.0, 40.0), GOAL_POSE)
    place(env, 1, (40.0, 40.0), (100.0, 400.0, 0.0))
    still = target_to_action(torch.tensor([[40.0, 40.0], [40.0, 40.0]]))
    r = env.step(still)
    assert r.success.tolist() == [True, False] and r.terminated.tolist() == [True, False]
    assert r.reward[0].item() == pytest.approx(1.0) and r.reward[1].item() == pytest.approx(0.0)
    assert r.extras["coverage"][0].item() > 0.95


def test_state_save_restore_is_exact():
    env = PushTEnv(16, seed=3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        env.step(torch.rand(16, 2, generator=gen) * 2 - 1)
    saved = env.get_state()
    actions = [torch.rand(16, 2, generator=gen) * 2 - 1 for _ in range(MAX_EPISODE_STEPS + 5)]
    first = [env.step(a) for a in actions]  # crosses at least one auto-reset (the step cap)
    env.set_state(saved)
    second = [env.step(a) for a in actions]
    for a, b in zip(first, second):
        assert torch.equal(a.obs, b.obs) and torch.equal(a.reward, b.reward)
        assert torch.equal(a.done, b.done)
    assert any(r.truncated.any() for r in first)


def test_pusher_tracks_pd_target():
    env = PushTEnv(1, seed=0)
    place(env, 0, (100.0, 100.0), (400.0, 400.0, 0.0))
    target = torch.tensor([[250.0, 180.0]])
    errs = []
    for _ in range(10):
        env.step(target_to_action(target))
        errs.append(float(np.linalg.norm(env.sim.qpos[0, :2] - target[0].numpy())))
    # Critically damped (kp 100, kv 20): after 0.1 s the error is (1 + 10·0.1)e^-1 ≈ 74% of 170.
    assert errs[0] == pytest.approx(np.hypot(150, 80) * 2 * math.exp(-1), rel=0.05)
    assert errs[-1] < 0.5 and all(b <= a + 1e-6 for a, b in zip(errs, errs[1:]))


def test_block_moves_when_pushed_and_not_through_pusher():
    env = PushTEnv(2, seed=0)
    place(env, 0, (256.0, 150.0), (256.0, 256.0, 0.0))  # under the bar's middle: straight push
    place(env, 1, (306.0, 150.0), (256.0, 256.0, 0.0))  # under the bar's right end: turns CCW
    for k in range(12):
        target = torch.tensor([[256.0, 160.0 + 15 * k], [306.0, 160.0 + 15 * k]])
        env.step(target_to_action(target))
        pose = torch.from_numpy(env.sim.qpos[:, 2:5].copy())
        local = to_local(torch.from_numpy(env.sim.qpos[:, None, :2].copy()), pose)
        # The pusher centre never gets within its radius (minus a little contact softness) of the T.
        assert not inside_t(local, pad=PUSHER_RADIUS - 2.0).any()
    q = env.sim.qpos
    assert q[0, 3] - 256.0 > 60.0 and abs(q[0, 2] - 256.0) < 1.0 and abs(q[0, 4]) < 0.02
    assert q[1, 4] > 0.3  # pushed off-centre: rotates counter-clockwise
    # Released, the block stops (floor drag).
    for _ in range(5):
        env.step(target_to_action(torch.tensor([[30.0, 30.0], [30.0, 30.0]])))
    assert np.abs(env.sim.qvel[:, 2:4]).max() < 1.0


def test_expert_success_rate():
    assert expert_success_rate(20, seed=0) >= 0.9


def test_oracle_keeps_successes_and_metadata():
    demos = pusht_oracle(4, seed=1)
    assert demos.num_episodes == 4 and demos.obs.shape[1] == 6
    assert 0.9 <= demos.metadata["launch_success_rate"] <= 1.0
    for ep in demos.episodes():
        pose = torch.tensor([[ep[-1, 2], ep[-1, 3], math.atan2(ep[-1, 4], ep[-1, 5])]], dtype=torch.float64)
        assert coverage(pose).item() > 0.95 and len(ep) <= MAX_EPISODE_STEPS + 1


def test_cli_data_writes_valid_file(tmp_path):
    from imitate.cli import main

    out = tmp_path / "pusht.npz"
    main(["data", "pusht", "--episodes", "5", "--out", str(out), "--no-progress"])
    demos = Demonstrations.load(out)
    assert demos.num_episodes == 5 and demos.task == "pusht"
    assert demos.actions is not None and np.abs(demos.actions).max() <= 1.0


def test_state_tiles_for_planning():
    """A planner copies each env's state into many planning envs (CEM's tile_state)."""
    from imitate.algos.cem import tile_state

    env = PushTEnv(2, seed=0)
    env.step(torch.zeros(2, 2))
    plan = PushTEnv(6, seed=1)
    plan.set_state(tile_state(env.get_state(), 2, 3))
    assert np.array_equal(plan.sim.state[:3], np.repeat(env.sim.state[:1], 3, axis=0))
    a = torch.rand(2, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1
    real = env.step(a)
    sim = plan.step(a.repeat_interleave(3, dim=0))
    assert torch.equal(sim.obs[::3], real.obs)


def test_coverage_metrics_read_the_block_pose_from_observations():
    """Final and best coverage of any evaluation's episodes, also from history-stacked observations."""
    from imitate.registry import TASKS

    task = TASKS["pusht"]
    episodes = task.run_oracle(4, seed=3).episodes()
    whole = task.episode_outcomes(episodes)
    assert whole["final_coverage"] > 0.95  # the expert ends on the goal
    assert whole["max_coverage"] >= whole["final_coverage"]
    first = task.episode_outcomes([e[:1] for e in episodes])
    assert first["final_coverage"] < 0.5 and first["max_coverage"] == first["final_coverage"]
    # the expert episodes cut where their coverage is highest before the end, then backed away: best > final
    backed = [np.concatenate([e, e[:1]]) for e in episodes]
    out = task.episode_outcomes(backed)
    assert out["max_coverage"] == pytest.approx(whole["max_coverage"]) and out["final_coverage"] < 0.5
    stacked = [np.concatenate([e[:1].repeat(len(e), 0), e], axis=1) for e in episodes]  # history=2-like rows
    assert task.episode_outcomes(stacked) == whole
