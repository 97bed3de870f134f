"""PPO's task reward and its success bonus (the PPO counterpart of NEAR's absorbing success)."""

import torch

from imitate.algos.on_policy import make_task_reward
from imitate.algos.ppo_config import TaskPPOConfig
from imitate.rewards.base import TaskReward
from imitate.tasks.core.vecenv import StepResult


def _step(terminated, truncated, success, reward):
    n = len(reward)
    t = lambda xs: torch.tensor(xs, dtype=torch.bool)  # noqa: E731
    return StepResult(
        obs=torch.zeros(n, 2),
        reward=torch.tensor(reward),
        terminated=t(terminated),
        truncated=t(truncated),
        final_obs=torch.zeros(n, 2),
        success=t(success),
        transition=torch.zeros(n, 4),
    )


def test_bonus_paid_exactly_on_success_terminations():
    # env 0: success termination; 1: failure termination; 2: success flag on a time-limit cut; 3: running
    step = _step(
        [True, True, False, False], [False, False, True, False], [True, False, True, False], [1.0, 0.0, 0.0, 0.25]
    )
    reward = TaskReward(success_bonus=99.0)(torch.zeros(4, 2), torch.zeros(4, 1), step)
    assert reward.tolist() == [100.0, 0.0, 0.0, 0.25]


def test_bonus_logged_as_term_and_off_by_default():
    step = _step([True, False], [False, False], [True, False], [1.0, 0.0])
    module = TaskReward(success_bonus=2.0)
    module(torch.zeros(2, 2), torch.zeros(2, 1), step)
    assert module.last_terms["success_bonus"].tolist() == [2.0, 0.0]
    plain = make_task_reward(None, TaskPPOConfig(), None)
    assert plain(torch.zeros(2, 2), torch.zeros(2, 1), step).tolist() == [1.0, 0.0]
    assert "success_bonus" not in plain.last_terms
    assert make_task_reward(None, TaskPPOConfig(success_bonus=3.0), None).part("task").success_bonus == 3.0
