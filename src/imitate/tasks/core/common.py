"""Term functions that many tasks share."""

from __future__ import annotations

import torch

from imitate.tasks.core.env import TaskEnv


def time_limit(env: TaskEnv) -> torch.Tensor:
    """(N,) bool: the episode has run ``env.max_episode_steps`` steps (declare it ``time_out``)."""
    return env.steps >= env.max_episode_steps


def last_action(env: TaskEnv, ids) -> torch.Tensor:
    """(M, act_dim) the action applied in the last step (zero after a reset)."""
    return env.action[ids].clone()
