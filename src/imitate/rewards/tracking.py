"""The DeepMimic reward plug-in: the humanoid tracking task's own reward, with its terms logged.

The terms themselves are task terms (``tasks/humanoid/rewards.py``): the env computes them
against the reference clip every step, and this plug-in hands them to PPO.
"""

from __future__ import annotations

import torch

from imitate.rewards.base import TaskReward
from imitate.rewards.compose import ComposedReward
from imitate.tasks.core.vecenv import StepResult


class TrackingReward(TaskReward):
    """Reward plug-in for PPO: the env's tracking reward, with its terms exposed as `last_terms`
    (PPO logs them as reward/<term>). Nothing to learn."""

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        self.last_terms = {k[len("reward/") :]: v for k, v in step.extras.items() if k.startswith("reward/")}
        self.last_terms["tracking"] = step.reward
        return step.reward


def make_tracking_reward(task, cfg, env) -> ComposedReward:
    """Reward factory of the `deepmimic` algorithm (registry.py): the tracking term alone."""
    return ComposedReward({"tracking": (1.0, TrackingReward())})
