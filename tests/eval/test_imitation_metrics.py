"""NEAR's motion metrics on the imitation humanoid: each episode is compared with the clip window
it started from, in heading-frame root-relative coordinates."""

import numpy as np
import torch

from imitate.eval import motion_metrics as mm
from imitate.eval.humanoid import rollout_imitation
from imitate.tasks.humanoid.common import clip_states_qpos
from imitate.tasks.humanoid.imitation import HumanoidEnv, motion_library
from imitate.tasks.humanoid.options import HumanoidOptions


class StandStill:
    """A policy that always holds the default pose (zero action)."""

    def act(
        self, obs: torch.Tensor, deterministic: bool = True, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        return torch.zeros(obs.shape[0], 28)


def test_the_reference_window_starts_at_the_reset_state():
    env = HumanoidEnv(6, seed=0, options=HumanoidOptions(motion="walk"))
    env.reset(seed=3)
    qpos, body = clip_states_qpos(motion_library(env), env.buffers["clip_ids"], env.buffers["time_s"])
    sim_side = mm.root_relative(env.sim.body_pos(), root_quat=env.sim.qpos[:, 3:7])
    clip_side = mm.root_relative(body, root_quat=qpos[:, 3:7])
    np.testing.assert_allclose(sim_side, clip_side, atol=1e-6)  # random yaw and origin drop out


def test_rollout_reports_near_metrics_top_k_beside_all_episodes():
    env = HumanoidEnv(5, seed=0, options=HumanoidOptions(motion="walk", episode_seconds=1.0))
    metrics = rollout_imitation(StandStill(), env, seed=1)
    for key in ("pose_error_dtw_m", "root_speed_m_s", "root_jerk_m_s3", "sparc_root_vel_axes", "distance_m"):
        assert np.isfinite(metrics[f"motion_{key}"]) and np.isfinite(metrics[f"motion_top5_{key}"])
    assert metrics["motion_episodes"] == 5 and 0.0 <= metrics["fall_rate"] <= 1.0
    assert metrics["motion_pose_error_dtw_m"] > 0  # standing still is not walking
    assert 0.5 < metrics["motion_clip_root_speed_m_s"] < 1.5  # the walk clips' own speed (m/s)
