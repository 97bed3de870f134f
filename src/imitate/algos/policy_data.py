"""Data sets rolled out from a policy, for tasks without an oracle (the DeepMind Control tasks;
docs/datasets.md#policy-data-sets-the-deepmind-control-tasks): uniform random actions in
[-1, 1], or a trained on-policy run's policy at its latest checkpoint or one of its snapshots.

Every episode is one env copy's first episode; the copies of a chunk of ``num_envs`` episodes
step as one batched env, so no Python loop runs over episodes. Observations and actions are
both stored (``actions[t]`` is the action sent after ``obs[t]``, the last one repeated), and the
metadata name the task, its options, the policy and its skill level: the mean return of these
episodes in the task's reward.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from imitate.config import ConfigError
from imitate.data.dataset import Demonstrations
from imitate.oracles import collect
from imitate.oracles.collect import ACTIONS_NOTE, Act, FirstEpisodes, random_actions

RANDOM = "random"
MAX_ENVS = 1000  # batched copies per chunk of episodes (--num-envs): AIME's 1000 episodes in one batch
LATEST = "latest"
ACTION_MEANING = "motor commands in [-1, 1], passed to the env as they are"
# an episode of these tasks always ends at the time limit: a truncation, as the format's Minari
# mapping writes it (truncations=True, terminations=False at each episode's last step)
EPISODE_END = "truncation"


@dataclass(frozen=True)
class PolicySpec:
    """What ``--policy`` names: ``random``, or a run directory with a checkpoint step (None: latest)."""

    run_dir: str | None
    step: int | None = None

    @property
    def is_random(self) -> bool:
        return self.run_dir is None


def parse_policy(text: str) -> PolicySpec:
    """``random``, ``RUN_DIR``, ``RUN_DIR@STEP`` or ``RUN_DIR@latest``; one line if malformed."""
    if text == RANDOM:
        return PolicySpec(None)
    if text.startswith("mix:"):
        raise ConfigError(f"--policy {text}: a mixture of data sets is --mix A.npz,B.npz,... (docs/datasets.md)")
    path, at, step = text.rpartition("@")
    if not at:
        path, step = text, LATEST
    if not path:
        raise ConfigError(f"--policy {text!r}: expected random, RUN_DIR, RUN_DIR@STEP or RUN_DIR@latest")
    if step == LATEST:
        return PolicySpec(path)
    if not step.isdigit():
        raise ConfigError(f"--policy {text}: the step after '@' must be an env step count or 'latest', got {step!r}")
    return PolicySpec(path, int(step))


def snapshot_checkpoint(run: Any, step: int | None) -> Path:
    """The checkpoint of ``run`` at ``step`` (None: ``latest.pt``); one line naming the steps it has."""
    if step is None:
        return run.checkpoint_path
    snapshots = run.snapshots()
    if step in snapshots:
        return snapshots[step]
    kept = ", ".join(str(s) for s in snapshots) or "none (train with snapshot_every=N to keep some)"
    raise ConfigError(f"--policy {run.dir}@{step}: the run has no snapshot at step {step}; its snapshots: {kept}")


def policy_actions(model: Any, deterministic: bool, generator: torch.Generator) -> Act:
    """A run's actor-critic as ``Act``: its mean action, or a draw from its Gaussian (clipped to [-1, 1])."""
    return lambda obs: model.act(torch.from_numpy(obs).float(), deterministic, generator).numpy()


def time_limit_rollout(task: Any, *args: Any) -> tuple[FirstEpisodes, dict[str, Any]]:
    """``collect.roll_out(task, *args)``, refused in one line unless every episode ended by the
    time limit (policy data sets are time-limit episodes)."""
    merged, layout = collect.roll_out(task, *args)
    if not merged.truncated.all():
        ended = "did not end" if not merged.ended.all() else "ended by termination"
        raise ConfigError(f"task {task.name!r}: some episodes {ended}; policy data sets expect time-limit episodes")
    return merged, layout


def episodes_to_demos(task: Any, options: Any, rollout: FirstEpisodes, layout: dict, **metadata: Any) -> Demonstrations:
    """The rollout as demonstrations with the metadata every policy data set carries."""
    policy_layout = [[name, size] for name, size in layout["policy"]]
    obs_names = [f"{name}_{i}" for name, size in policy_layout for i in range(size)]
    returns = rollout.returns
    return Demonstrations.from_episodes(
        rollout.obs,
        rollout.actions,
        task=task.name,
        source="policy",
        **metadata,
        skill_level=float(returns.mean()),
        skill_level_meaning="mean episode return of these episodes in the task's reward",
        episode_returns=returns.tolist(),
        obs_names=obs_names,
        obs_layout=policy_layout,
        **dataclasses.asdict(options),
        episode_end=EPISODE_END,
        actions_note=ACTIONS_NOTE,
        action_meaning=ACTION_MEANING,
    )


def random_data(
    task: Any, options: Any, episodes: int, seed: int = 0, num_envs: int = MAX_ENVS, progress: bool = False
) -> Demonstrations:
    """Episodes of uniform random actions in [-1, 1] (AIME's random data sets)."""
    rng = np.random.default_rng(seed)
    make_act = lambda env: random_actions(env.act_dim, rng)  # noqa: E731
    rollout, layout = time_limit_rollout(
        task, options, make_act, episodes, seed, num_envs, progress, f"{task.name} random"
    )
    return episodes_to_demos(task, options, rollout, layout, policy=RANDOM, seed=seed, num_envs=min(num_envs, episodes))


def run_policy_data(
    task: Any,
    run: Any,
    cfg: Any,
    checkpoint: Path,
    episodes: int,
    seed: int = 0,
    deterministic: bool = False,
    num_envs: int = MAX_ENVS,
    progress: bool = False,
) -> Demonstrations:
    """Episodes of a PPO-based run's policy (``cfg``: its config) from ``checkpoint``: a draw from
    its Gaussian at every step by default, its mean action with ``deterministic``."""
    from imitate.algos.ppo import load_policy_state

    model, state = load_policy_state(run, task, cfg, checkpoint)
    act = policy_actions(model, deterministic, torch.Generator().manual_seed(seed))
    options = cfg.task_options
    desc = f"{task.name} {run.algo}@{state['global_step']}"
    rollout, layout = time_limit_rollout(task, options, lambda env: act, episodes, seed, num_envs, progress, desc)
    return episodes_to_demos(
        task,
        options,
        rollout,
        layout,
        policy=f"{run.dir}@{int(state['global_step'])}",
        policy_run=str(run.dir),
        policy_algo=run.algo,
        checkpoint=str(checkpoint),
        checkpoint_step=int(state["global_step"]),
        deterministic=deterministic,
        seed=seed,
        num_envs=min(num_envs, episodes),
    )
