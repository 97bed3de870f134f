"""The batched environment protocol every task speaks.

An env steps ``num_envs`` copies at once with torch tensors. Finished copies reset themselves
(auto-reset) inside ``step``; the observation returned for them is the first one of the new
episode, and what the old episode ended on is kept in ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch


@dataclass
class StepResult:
    """What one batched ``step`` returns. All tensors have leading dimension N = num_envs.

    obs:         (N, obs_dim) observation to act on next (already reset where done).
    reward:      (N,) task reward of the transition.
    terminated:  (N,) bool, episode ended by the task (success, failure); no bootstrap.
    truncated:   (N,) bool, episode cut by the time limit; bootstrap from ``final_obs``.
    final_obs:   (N, obs_dim) observation the transition ended on, before any reset.
    success:     (N,) bool, the task counts this transition as a success.
    transition:  (N, 2 * style_dim) the feature pair (s_t, s_t+1) that style rewards
                 (NEAR, AMP) score; taken before any reset.
    extras:      anything task specific, for logging only.
    """

    obs: torch.Tensor
    reward: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    final_obs: torch.Tensor
    success: torch.Tensor
    transition: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def done(self) -> torch.Tensor:
        return self.terminated | self.truncated


@runtime_checkable
class VecEnv(Protocol):
    """A batch of ``num_envs`` environment copies stepped in one call."""

    num_envs: int
    obs_dim: int
    act_dim: int
    style_dim: int  # size of one style observation; transitions are 2 * style_dim
    max_episode_steps: int
    device: torch.device

    def reset(self, seed: int | None = None) -> torch.Tensor:
        """Reset every copy; returns (N, obs_dim)."""

    def step(self, action: torch.Tensor) -> StepResult:
        """Apply (N, act_dim) actions in [-1, 1]; finished copies auto-reset."""
