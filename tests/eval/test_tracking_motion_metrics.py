"""NEAR's motion metrics in DeepMimic's evaluation (eval/humanoid.py): the recorded reference is the
one the episode tracks, and the reference-side numbers are the clip's own over the same windows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imitate.data.motion import MotionLibrary, load_clip
from imitate.eval import motion_metrics as mm
from imitate.eval.humanoid import MotionRecorder, rollout_tracking
from imitate.tasks.humanoid.options import TrackingOptions
from imitate.tasks.humanoid.tracking import HumanoidTrackingEnv, motion


class ZeroPolicy:
    """The zero action: with action_mode=reference it replays the clip through the PD servos."""

    def __init__(self, act_dim: int):
        self.act_dim = act_dim

    def act(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return torch.zeros(obs.shape[0], self.act_dim)


@pytest.fixture()
def env():
    opts = TrackingOptions(rsi=False, episode_seconds=2.0, reset_origin_range_m=1.0, action_mode="reference")
    e = HumanoidTrackingEnv(3, seed=0, options=opts)
    yield e
    e.close()


def test_recorder_starts_on_the_reference_in_each_episode_frame(env):
    env.reset(seed=0)
    rec = MotionRecorder(env)
    rec.before_step(torch.ones(env.num_envs, dtype=torch.bool))
    # RSI puts the simulator exactly in the reference state, turned and moved into the episode frame
    np.testing.assert_allclose(rec.policy[0], rec.reference[0], atol=1e-6)
    assert np.ptp(rec.policy[0][:, 0, 0]) > 0.01  # the envs' frames differ (origins), yet they match


def test_tracking_rollout_reports_motion_metrics_beside_the_tracking_errors(env):
    out = rollout_tracking(ZeroPolicy(env.act_dim), env, seed=0, motion_metrics=True)
    m, rows = out["metrics"], out["motion_episodes"]
    assert len(rows) == env.num_envs
    for key in ("pose_error_dtw_m", "root_speed_m_s", "root_jerk_m_s3", "sparc_root_vel_axes", "distance_m"):
        assert np.isfinite(m[f"motion_{key}"]) and np.isfinite(m[f"motion_top{env.num_envs}_{key}"])
    assert m["motion_pose_error_dtw_m"] > 0  # the open-loop replay drifts off the clip
    assert 0.0 <= m["motion_fall_rate"] <= 1.0 and "tracking_error_root_pos_m" in m
    # the reference side: the clip itself from phase 0 over each episode's frames
    lib = MotionLibrary([load_clip("humanoid3d_walk")])
    dt_s = env.sim.dt_s
    expected = []
    for row in rows:
        times = np.arange(int(row["frames"])) * motion(env).step_s  # the reference's clock: one clip frame a step
        root = lib.state(np.zeros(len(times), dtype=np.int64), times, with_bodies=False).root_pos
        expected.append(float(mm.root_kinematics(root, dt_s)["root_speed_m_s"]))
    assert m["motion_clip_root_speed_m_s"] == pytest.approx(np.mean(expected), rel=1e-6)
    assert m["episode_length"] == pytest.approx(np.mean([r["frames"] for r in rows]))
