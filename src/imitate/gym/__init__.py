"""Every registered task as a gymnasium id, ``imitate/<Task>-v0``, registered on ``import imitate``.

The ids come from ``registry.TASKS``, so a task added there appears here with no further code.
Name rule (``gym_id``): the task name split at ``-`` with each word capitalised (``block-push`` →
``BlockPush``, ``humanoid-walk`` → ``HumanoidWalk``); a name whose words are not hyphenated
takes its spelling from ``SPELLING`` (``pusht`` → ``PushT``).

gymnasium 1.x has no plugin entry point (the ``gymnasium.envs`` entry-point group of gym 0.26
was removed in 1.0), so a package registers its ids when it is imported, as ``ale_py`` does:
``import imitate`` (or ``gym.register_envs(imitate)``, or the ``"imitate:imitate/PushT-v0"``
form of ``gym.make``, which imports it on demand). Registering imports neither torch nor a task
module: the entry points are ``module:attr`` strings loaded by ``gym.make`` (``gym/envs.py``).

Each id has both entry points:

- ``gym.make(id, **options)`` → ``ImitateEnv``, one env copy behind ``gymnasium.Env``;
- ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point", **options)`` →
  ``ImitateVectorEnv``, our batched env behind ``gymnasium.vector.VectorEnv`` (numpy in and out,
  same-step autoreset).

Keyword arguments are the task's options (``gym.make("imitate/Particle-v0", n_dim=4)``), plus
``device``. ``spec.max_episode_steps`` is left unset: the horizon can depend on the options (a
clip's length) and is only known once the env is built, and the env truncates at its own horizon
(``env.unwrapped.max_episode_steps``), so gymnasium adds no ``TimeLimit`` wrapper.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "imitate"
SPELLING = {"pusht": "PushT"}  # task names that are one word but read as two
ENV_ENTRY = "imitate.gym.envs:ImitateEnv"
VECTOR_ENTRY = "imitate.gym.envs:ImitateVectorEnv"


def gym_id(task: str) -> str:
    """The gymnasium id of a registry task: ``block-push`` → ``imitate/BlockPush-v0``."""
    name = SPELLING.get(task) or "".join(word[:1].upper() + word[1:] for word in task.split("-"))
    return f"{NAMESPACE}/{name}-v0"


def gym_ids() -> dict[str, str]:
    """{gymnasium id: task name} for every task in the registry."""
    from imitate.registry import TASKS

    return {gym_id(name): name for name in TASKS}


def register_envs() -> list[str]:
    """Register every task's id with gymnasium (again: a no-op); returns the ids."""
    import gymnasium as gym

    ids = gym_ids()
    for env_id, task in ids.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=ENV_ENTRY,
                vector_entry_point=VECTOR_ENTRY,
                kwargs={"task": task},
            )
    return list(ids)


def env_spec(task: str, options: dict[str, Any]) -> Any:
    """The task's ``EnvSpec`` with ``options`` as its keyword arguments: ``gym.make`` of it
    builds the task with those options (Minari datasets record it for ``recover_environment``)."""
    import dataclasses

    import gymnasium as gym

    register_envs()
    return dataclasses.replace(gym.spec(gym_id(task)), kwargs={"task": task, **options})
