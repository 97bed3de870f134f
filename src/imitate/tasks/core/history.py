"""A batched env whose observation is the last ``k`` frames (``data.history`` has the layout).

Wraps any VecEnv. At reset, and for a copy whose episode just ended (auto-reset), the new
episode's first frame fills all ``k`` slots; ``final_obs`` is the history that ends on the old
episode's last frame, taken before that reset.
"""

from __future__ import annotations

from typing import Any

import torch

from imitate.tasks.core.vecenv import StepResult, VecEnv


class HistoryEnv:
    def __init__(self, env: VecEnv, k: int):
        if k < 1:
            raise ValueError(f"history must be at least 1, got {k}")
        self.env, self.k = env, k
        self.frame_dim = env.obs_dim
        self.obs_dim = k * env.obs_dim
        self._frames: torch.Tensor | None = None  # (N, k, D)

    def __getattr__(self, name: str) -> Any:  # num_envs, act_dim, style_dim, device, ...
        return getattr(self.env, name)

    def reset(self, seed: int | None = None) -> torch.Tensor:
        first = self.env.reset(seed=seed)
        self._frames = first[:, None, :].repeat(1, self.k, 1)
        return self._frames.reshape(len(first), -1).clone()

    def step(self, action: torch.Tensor) -> StepResult:
        assert self._frames is not None, "reset() first"
        step = self.env.step(action)
        shifted = self._frames[:, 1:]
        final = torch.cat([shifted, step.final_obs[:, None]], dim=1)
        frames = torch.cat([shifted, step.obs[:, None]], dim=1)
        done = step.done
        if done.any():
            frames[done] = step.obs[done][:, None, :].repeat(1, self.k, 1)
        self._frames = frames
        n = len(frames)
        step.obs, step.final_obs = frames.reshape(n, -1).clone(), final.reshape(n, -1)
        return step


def with_history(env: VecEnv, k: int) -> VecEnv:
    """``env`` itself for one frame, else wrapped."""
    return env if k == 1 else HistoryEnv(env, k)
