"""Observation history: the last ``k`` frames side by side, oldest first, the first frame of an
episode tiled until there are ``k`` (as IBC does at reset).

The same layout is built from stored demonstrations (``stack_history``) and from a running env
(``envs.history.HistoryEnv``), so a policy sees in evaluation exactly what it was trained on.
"""

from __future__ import annotations

import torch


def stack_history(obs: torch.Tensor, episode_ends: torch.Tensor | list[int], k: int) -> torch.Tensor:
    """(T, D) frames of back-to-back episodes → (T, k·D): row t holds frames t−k+1 … t of its
    episode, the episode's first frame repeated where t−j falls before it."""
    if k == 1:
        return obs
    ends = torch.as_tensor(episode_ends, dtype=torch.long, device=obs.device)
    starts = torch.cat([ends.new_zeros(1), ends[:-1]])
    row_start = torch.repeat_interleave(starts, ends - starts)  # (T,) first index of each row's episode
    t = torch.arange(len(obs), device=obs.device)
    lags = torch.arange(k - 1, -1, -1, device=obs.device)  # oldest first
    index = torch.maximum(t[:, None] - lags[None, :], row_start[:, None])  # (T, k)
    return obs[index].reshape(len(obs), k * obs.shape[1])
