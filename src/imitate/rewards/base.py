"""The reward plug-in protocol PPO talks to (docs/architecture.md#principles).

PPO knows nothing about NEAR, AMP or tracking: after each env step it hands the reward module
the step and gets back one reward per env; after each rollout it calls ``update`` so the module
can learn (AMP's discriminator) or adapt (NEAR's annealing). A method's reward is a weighted sum
of such modules (``rewards/compose.py``), itself one.
"""

from __future__ import annotations

from typing import Protocol

import torch

from imitate.tasks.core.vecenv import StepResult


class RewardModule(Protocol):
    last_terms: dict[str, torch.Tensor]  # this step's logged terms, by name (reward/<name>)

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        """Reward (N,) for the transition obs --action--> step. Also keeps ``last_terms``."""

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        """Learn from one rollout's (T*N, F) transition features; returns scalars to log."""

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


class TaskReward:
    """The env's own reward, the task part of every composed reward (``rewards/compose.py``).

    ``success_bonus`` (TaskPPOConfig) is added on transitions that end the episode by success
    (terminated & success), the PPO counterpart of NEAR's absorbing-success value (docs/near.md);
    it is logged as the term ``success_bonus``. A task whose reward has several terms reports each
    in ``step.extras`` as ``reward/<term>``; they are logged as ``task/<term>``."""

    def __init__(self, success_bonus: float = 0.0) -> None:
        self.success_bonus = float(success_bonus)
        self.last_terms: dict[str, torch.Tensor] = {}

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        self.last_terms = {"task": step.reward}
        env_terms = {k[len("reward/") :]: v for k, v in step.extras.items() if k.startswith("reward/")}
        if len(env_terms) > 1:  # one term is "task" itself
            self.last_terms.update({f"task/{k}": v for k, v in env_terms.items()})
        if not self.success_bonus:
            return step.reward
        bonus = self.success_bonus * (step.terminated & step.success).to(step.reward.dtype)
        self.last_terms["success_bonus"] = bonus
        return step.reward + bonus

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        return {}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass
