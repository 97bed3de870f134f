"""What every scripted oracle shares: run a batch of episodes with a batched controller, keep
the successful ones, and top up with further batches until enough exist."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from imitate.utils.progress import progress_bar

ACTIONS_NOTE = (
    "actions[t] is the action sent after obs[t]; the last action of each episode is "
    "repeated once so that actions has the same length as obs"
)


def run_first_episodes(
    env,
    act: Callable[[np.ndarray], np.ndarray],
    max_steps: int,
    seed: int | None = None,
    successes_only: bool = True,
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Step every env copy until its first episode ends; ``act(obs (n, d)) -> actions (n, a)``.
    The episodes start from ``env.reset(seed=seed)`` (None: the env's generators as they are).

    Returns obs (T_i + 1, d) and actions (T_i + 1, a) of each successful episode (every episode
    unless ``successes_only``; last action repeated), and the indices of those episodes in the batch."""
    n = env.num_envs
    obs = env.reset(seed=seed).numpy().astype(np.float64)
    traj, acts = [obs.copy()], []
    end = np.full(n, -1)  # step at which each copy's first episode ended
    success = np.zeros(n, dtype=bool)
    for t in range(max_steps):
        action = np.asarray(act(obs), dtype=np.float32)
        result = env.step(torch.from_numpy(action))
        acts.append(action)
        traj.append(result.final_obs.numpy().astype(np.float64))
        done = result.done.numpy() & (end < 0)
        end[done] = t + 1
        success[done] = result.success.numpy()[done]
        if (end >= 0).all():
            break
        obs = result.obs.numpy().astype(np.float64)
    traj_arr, act_arr = np.stack(traj), np.stack(acts)  # (T+1, n, d), (T, n, a)
    kept = np.flatnonzero(success) if successes_only else np.arange(n)
    obs_out = [traj_arr[: end[i] + 1, i] for i in kept]
    act_out = [np.concatenate([act_arr[: end[i], i], act_arr[end[i] - 1 : end[i], i]]) for i in kept]
    return obs_out, act_out, kept


def collect_successes(
    name: str,
    num_episodes: int,
    run_batch: Callable,
    rng: np.random.Generator,
    progress: bool = False,
    max_batch: int = 1024,
    slack: float = 1.15,
) -> tuple[list[np.ndarray], list[np.ndarray], int, int]:
    """Exactly ``num_episodes`` successful episodes from ``run_batch(n, rng) -> (obs, actions, ...)``;
    also returns how many episodes were launched and how many of them succeeded. Gives up (one-line
    error) if almost none succeed."""
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be at least 1, got {num_episodes}")
    obs: list[np.ndarray] = []
    actions: list[np.ndarray] = []
    launched = succeeded = 0
    with progress_bar(num_episodes, f"{name} oracle", unit="ep", enabled=progress) as bar:
        while len(obs) < num_episodes:
            need = num_episodes - len(obs)
            batch = min(max_batch, math.ceil(need * slack) + 4)
            o, a = run_batch(batch, rng)[:2]
            launched += batch
            succeeded += len(o)
            obs += o[:need]
            actions += a[:need]
            bar.update(min(need, len(o)))
            if len(obs) < num_episodes and launched >= 10 * num_episodes + 100:
                raise RuntimeError(f"{name} oracle: only {succeeded} of {launched} launched episodes succeeded")
    return obs, actions, launched, succeeded
