"""What every scripted oracle and rolled-out data set shares: run a batch of episodes with a
batched controller, keep the successful ones, and top up with further batches until enough exist;
or run a fixed number of first episodes in chunks of batched copies (``roll_out``), the one loop
behind random-action and policy data sets."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from imitate.utils.progress import progress_bar

ACTIONS_NOTE = (
    "actions[t] is the action sent after obs[t]; the last action of each episode is "
    "repeated once so that actions has the same length as obs"
)


@dataclass
class FirstEpisodes:
    """Every env copy's first episode: obs (L_i, d) and actions (L_i, a) (last action repeated),
    and per copy its return, whether the task counted it a success, whether the time limit
    ended it (truncation) rather than the task (termination), and whether it ended at all."""

    obs: list[np.ndarray]
    actions: list[np.ndarray]
    returns: np.ndarray
    success: np.ndarray
    truncated: np.ndarray
    ended: np.ndarray  # False: still running at the step cap

    @classmethod
    def concat(cls, parts: list[FirstEpisodes]) -> FirstEpisodes:
        """Batches one after another, as if they had been one."""
        flag = lambda key: np.concatenate([getattr(p, key) for p in parts])  # noqa: E731
        return cls(
            [e for p in parts for e in p.obs],
            [a for p in parts for a in p.actions],
            flag("returns"),
            flag("success"),
            flag("truncated"),
            flag("ended"),
        )


def first_episodes(
    env,
    act: Callable[[np.ndarray], np.ndarray],
    max_steps: int,
    seed: int | None = None,
    on_step: Callable[[int], None] | None = None,
) -> FirstEpisodes:
    """Step every env copy until its first episode ends; ``act(obs (n, d)) -> actions (n, a)``.
    The episodes start from ``env.reset(seed=seed)`` (None: the env's generators as they are);
    ``on_step(k)`` after each step, k the copies still in their first episode before it."""
    n = env.num_envs
    obs = env.reset(seed=seed).numpy().astype(np.float64)
    traj, acts = [obs.copy()], []
    end = np.full(n, -1)  # step at which each copy's first episode ended
    success, truncated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    returns = np.zeros(n)
    for t in range(max_steps):
        action = np.asarray(act(obs), dtype=np.float32)
        result = env.step(torch.from_numpy(action))
        acts.append(action)
        traj.append(result.final_obs.numpy().astype(np.float64))
        running = end < 0
        returns[running] += result.reward.numpy()[running]
        done = result.done.numpy() & running
        end[done] = t + 1
        success[done] = result.success.numpy()[done]
        truncated[done] = result.truncated.numpy()[done]
        if on_step is not None:
            on_step(int(running.sum()))
        if (end >= 0).all():
            break
        obs = result.obs.numpy().astype(np.float64)
    ended = end >= 0
    end[~ended] = len(acts)  # cut at the step cap: neither success nor truncation
    traj_arr, act_arr = np.stack(traj), np.stack(acts)  # (T+1, n, d), (T, n, a)
    obs_out = [traj_arr[: end[i] + 1, i] for i in range(n)]
    act_out = [np.concatenate([act_arr[: end[i], i], act_arr[end[i] - 1 : end[i], i]]) for i in range(n)]
    return FirstEpisodes(obs_out, act_out, returns, success, truncated, ended)


Act = Callable[[np.ndarray], np.ndarray]  # obs (n, d) -> actions (n, a)


def random_actions(act_dim: int, rng: np.random.Generator) -> Act:
    """Actions uniform in [-1, 1] at every step, drawn from ``rng``."""
    return lambda obs: rng.uniform(-1.0, 1.0, size=(len(obs), act_dim))


def chunk_seed(seed: int, chunk: int) -> int:
    """The env seed of chunk ``chunk`` of a rollout seeded ``seed``: its own stream per chunk."""
    return int(np.random.default_rng([seed, chunk]).integers(2**31))


def roll_out(
    task: Any,
    options: Any,
    make_act: Callable[[Any], Act],
    episodes: int,
    seed: int,
    num_envs: int,
    progress: bool = False,
    desc: str = "rollout",
) -> tuple[FirstEpisodes, dict[str, Any]]:
    """``episodes`` first episodes of ``task`` (a registry entry; ``options``: its options or a run
    config) in chunks of ``num_envs`` batched copies (``make_act(env)`` acts in each, chunk k's
    env seeded ``chunk_seed(seed, k)``), merged; also the observation layout the env records."""
    if num_envs < 1:
        raise ValueError(f"num_envs must be at least 1, got {num_envs}")
    parts: list[FirstEpisodes] = []
    layout: dict[str, Any] = {}
    bar = None
    try:
        for chunk in range(math.ceil(episodes / num_envs)):
            n = min(num_envs, episodes - chunk * num_envs)
            env = task.make_env(n, seed=chunk_seed(seed, chunk), cfg=options)
            steps = env.max_episode_steps
            bar = bar or progress_bar(episodes * steps, desc, unit="step", enabled=progress)
            parts.append(first_episodes(env, make_act(env), steps, seed=chunk_seed(seed, chunk), on_step=bar.update))
            layout = dict(getattr(env, "obs_layout", {}))
    finally:
        if bar is not None:
            bar.close()
    return FirstEpisodes.concat(parts), layout


def run_first_episodes(
    env,
    act: Callable[[np.ndarray], np.ndarray],
    max_steps: int,
    seed: int | None = None,
    successes_only: bool = True,
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """The successful ones of ``first_episodes`` (every one unless ``successes_only``): their obs
    (T_i + 1, d) and actions (T_i + 1, a) (last action repeated), and their indices in the batch.
    A copy whose episode has not ended within ``max_steps`` counts as unsuccessful."""
    episodes = first_episodes(env, act, max_steps, seed)
    kept = np.flatnonzero(episodes.success) if successes_only else np.arange(len(episodes.success))
    return [episodes.obs[i] for i in kept], [episodes.actions[i] for i in kept], kept


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
