"""Embodiment data by a uniform random policy: the agent's own (observation, action) episodes
that BCO(0) (Torabi et al. 2018) learns its inverse dynamics model from before it sees any
demonstration, and that IIDM fits its forward model on (``algos/bco.py``, ``algos/iidm.py``).

Every episode is kept, whether it succeeds or not: the data should show what actions do, not how
the task is solved.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from imitate.data.dataset import Demonstrations
from imitate.oracles.collect import ACTIONS_NOTE, run_first_episodes
from imitate.utils.progress import progress_bar

BATCH = 256  # env copies stepped at once


def random_action_episodes(
    task: Any, num_episodes: int, seed: int = 0, cfg: Any = None, progress: bool = False
) -> Demonstrations:
    """``num_episodes`` whole episodes of ``task`` (a registry entry; ``cfg``: a run config or the
    task's options) under actions drawn uniformly from [-1, 1] at every step, seeded by ``seed``."""
    options = getattr(cfg, "task_options", cfg)
    rng = np.random.default_rng(seed)
    obs: list[np.ndarray] = []
    actions: list[np.ndarray] = []
    layout = None
    with progress_bar(num_episodes, f"{task.name} random actions", unit="ep", enabled=progress) as bar:
        while len(obs) < num_episodes:
            n = min(BATCH, num_episodes - len(obs))
            env_seed = int(rng.integers(2**31))
            env = task.make_env(n, seed=env_seed, cfg=cfg)
            act = lambda o, n=n, dim=env.act_dim: rng.uniform(-1.0, 1.0, (n, dim))  # noqa: E731
            o, a, _ = run_first_episodes(env, act, env.max_episode_steps, seed=env_seed, successes_only=False)
            obs += [x.astype(np.float32) for x in o]
            actions += [x.astype(np.float32) for x in a]
            layout = getattr(env, "obs_layout", {}).get("policy")
            bar.update(n)
    extras = dataclasses.asdict(options) if dataclasses.is_dataclass(options) and not isinstance(options, type) else {}
    if layout and len(layout) > 1:  # the sensor groups, for a world model of the same data
        extras["obs_layout"] = [[name, size] for name, size in layout]
    return Demonstrations.from_episodes(
        obs,
        actions,
        task=task.name,
        source="random actions",
        policy="uniform in [-1, 1] at every step",
        seed=seed,
        actions_note=ACTIONS_NOTE,
        **extras,
    )
