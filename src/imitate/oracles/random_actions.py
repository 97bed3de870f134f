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
from imitate.oracles.collect import ACTIONS_NOTE, random_actions, roll_out

BATCH = 256  # env copies stepped at once


def random_action_episodes(
    task: Any, num_episodes: int, seed: int = 0, cfg: Any = None, progress: bool = False
) -> Demonstrations:
    """``num_episodes`` whole episodes of ``task`` (a registry entry; ``cfg``: a run config or the
    task's options) under actions drawn uniformly from [-1, 1] at every step, seeded by ``seed``:
    ``collect.roll_out``, as policy data sets are rolled out, but keeping episodes that end by
    termination too."""
    options = getattr(cfg, "task_options", cfg)
    rng = np.random.default_rng(seed)
    make_act = lambda env: random_actions(env.act_dim, rng)  # noqa: E731
    rollout, layouts = roll_out(task, cfg, make_act, num_episodes, seed, BATCH, progress, f"{task.name} random actions")
    extras = dataclasses.asdict(options) if dataclasses.is_dataclass(options) and not isinstance(options, type) else {}
    layout = layouts.get("policy")
    if layout and len(layout) > 1:  # the sensor groups, for a world model of the same data
        extras["obs_layout"] = [[name, size] for name, size in layout]
    return Demonstrations.from_episodes(
        [x.astype(np.float32) for x in rollout.obs],
        [x.astype(np.float32) for x in rollout.actions],
        task=task.name,
        source="random actions",
        policy="uniform in [-1, 1] at every step",
        seed=seed,
        actions_note=ACTIONS_NOTE,
        **extras,
    )
