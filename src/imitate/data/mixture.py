"""A mixture of data sets in equal shares (AIME's walker-mix: random data and several skill
levels; docs/datasets.md#mixtures): each share is a seeded draw of whole episodes, without
replacement, from one source file, kept in the file's order.

Mixing files rather than policies keeps every source reproducible on its own and reused as it
is: a level's data set is made once, used alone, and mixed without a second rollout. The
sources must be alike: one task, the same task options, observation layout and sizes, and all
with actions or none.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imitate.data.dataset import Demonstrations, check_task
from imitate.utils.errors import DatasetError

SOURCE = "mix"
# metadata every source shares and the mixture keeps: what the numbers mean, not where they came from
SHARED_KEYS = ("obs_names", "obs_layout", "episode_end", "actions_note", "action_meaning")


def mix(
    sources: list[tuple[str, Demonstrations]],
    task: str,
    episodes: int | None = None,
    seed: int = 0,
    option_keys: tuple[str, ...] = (),
) -> Demonstrations:
    """``episodes`` episodes (default: as many as the smallest source allows), an equal share
    from each ``(where, demos)`` source; ``option_keys``: the task options they must agree on."""
    if len(sources) < 2:
        raise DatasetError(f"--mix needs at least two data sets, got {len(sources)}")
    for where, demos in sources:
        check_task(demos.metadata, task, where)
    _check_alike(sources, option_keys)
    k = len(sources)
    fewest = min(demos.num_episodes for _, demos in sources)
    episodes = k * fewest if episodes is None else episodes
    if episodes < k or episodes % k:
        raise DatasetError(f"--episodes {episodes}: a mixture of {k} data sets needs a multiple of {k} episodes")
    share = episodes // k
    rng = np.random.default_rng(seed)
    obs: list[np.ndarray] = []
    actions: list[np.ndarray] | None = [] if sources[0][1].actions is not None else None
    components: list[dict[str, Any]] = []
    component_of: list[int] = []
    returns: list[float] | None = []
    for i, (where, demos) in enumerate(sources):
        if demos.num_episodes < share:
            raise DatasetError(f"{where}: has {demos.num_episodes} episodes, the mixture takes {share} from each")
        chosen = np.sort(rng.choice(demos.num_episodes, size=share, replace=False))
        split_obs = demos.episodes()
        obs += [split_obs[e] for e in chosen]
        if actions is not None:
            split = demos.action_episodes()
            assert split is not None  # _check_alike: all have actions
            actions += [split[e] for e in chosen]
        recorded = demos.metadata.get("episode_returns")
        if recorded is not None and returns is not None and len(recorded) == demos.num_episodes:
            returns += [float(recorded[e]) for e in chosen]
        else:
            returns = None  # some source records no per-episode returns
        component_of += [i] * share
        components.append(
            {
                "file": where,
                "source": demos.metadata.get("source"),
                "policy": demos.metadata.get("policy"),
                "skill_level": demos.metadata.get("skill_level"),
                "episodes": int(demos.num_episodes),
                "taken": chosen.tolist(),
            }
        )
    first = sources[0][1].metadata
    extra: dict[str, Any] = {key: first[key] for key in (*option_keys, *SHARED_KEYS) if key in first}
    if returns is not None:
        extra.update(
            skill_level=float(np.mean(returns)),
            skill_level_meaning="mean episode return of these episodes in the task's reward",
            episode_returns=returns,
        )
    return Demonstrations.from_episodes(
        obs,
        actions,
        task=task,
        source=SOURCE,
        policy=SOURCE,
        seed=seed,
        components=components,
        episode_component=component_of,
        **extra,
    )


def _check_alike(sources: list[tuple[str, Demonstrations]], option_keys: tuple[str, ...]) -> None:
    """One line for the first source that differs from the first in what the mixture needs alike."""
    first_where, first = sources[0]

    def signature(demos: Demonstrations) -> dict[str, Any]:
        return {
            "observation size": demos.obs.shape[1],
            "actions": "none" if demos.actions is None else f"{demos.actions.shape[1]} numbers",
            "obs_layout": demos.metadata.get("obs_layout"),
            **{key: demos.metadata.get(key) for key in option_keys},
        }

    expected = signature(first)
    for where, demos in sources[1:]:
        for key, value in signature(demos).items():
            if value != expected[key]:
                raise DatasetError(
                    f"{where}: {key} {value}, but {first_where} has {expected[key]}; mix alike data sets"
                )
