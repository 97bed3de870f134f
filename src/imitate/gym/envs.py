"""Our batched envs behind gymnasium's ``Env`` and ``VectorEnv`` APIs (numpy in, numpy out).

Both build the task through the registry (``get_task(task).make_env``) with the task's options
from the keyword arguments (``n_dim=4``, ``clip=humanoid3d_run``), checked as ``imitate train``
checks them. Spaces: actions ``Box(-1, 1, (act_dim,))`` float32 (what every task's action term
takes; out-of-range actions are clipped by the env); observations ``Box(-inf, inf, (obs_dim,))``
float32, as gymnasium's own MuJoCo envs declare them: the tasks declare no observation bounds, and
``check_env`` says so with its one "infinity" warning.

- ``ImitateEnv``: a ``num_envs=1`` batched env. ``reset(seed=s)`` reseeds the env's generators
  (the first ``reset()`` without a seed draws one from gymnasium's RNG); ``step`` returns
  ``terminated`` (the task ended the episode: success or failure) apart from ``truncated`` (the
  env's own horizon). The batched env resets itself when an episode ends; the wrapper returns the
  episode's true last observation and the caller resets, as gymnasium expects.
- ``ImitateVectorEnv``: ``num_envs`` copies stepped in one call, with gymnasium's
  ``AutoresetMode.SAME_STEP`` (``metadata["autoreset_mode"]``): a copy whose episode ended returns
  the first observation of its next episode; the last one is in ``info["final_obs"]`` (an object
  array, set where ``info["_final_obs"]``) and that step's info in ``info["final_info"]``. One seed
  seeds the whole batch (the copies draw from one generator), so copy ``i`` is not the single env
  seeded with ``seed + i``; ``reset`` takes an int or None.

``info`` carries ``is_success`` (SB3's key) and the task's extras (Push-T: ``coverage``; the
humanoid: its tracking errors), as floats for ``ImitateEnv`` and as arrays with ``_key`` masks
for ``ImitateVectorEnv``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector.utils import batch_space

from imitate.config import apply_overrides
from imitate.gym import gym_id
from imitate.registry import get_task


def make_task_env(task: str, num_envs: int, device: Any, options: dict[str, Any]) -> Any:
    """The task's batched env with ``options`` applied to its default options (checked)."""
    entry = get_task(task)
    opts = apply_overrides(entry.default_options(), options, f"gym.make({gym_id(task)!r})")
    opts.validate()
    return entry.make_env(num_envs, seed=0, device=device, cfg=opts)


def _spaces(env: Any) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    obs = gym.spaces.Box(-np.inf, np.inf, shape=(env.obs_dim,), dtype=np.float32)
    act = gym.spaces.Box(-1.0, 1.0, shape=(env.act_dim,), dtype=np.float32)
    return obs, act


def _numpy(x: torch.Tensor, dtype: Any = np.float32) -> np.ndarray:
    """A fresh numpy copy (never a view of the env's tensors, which later steps may change)."""
    return np.array(x.detach().cpu().numpy(), dtype=dtype, copy=True)


def _check_reset_options(options: dict[str, Any] | None) -> None:
    if options:
        raise ValueError(f"reset(options=...) is not supported ({', '.join(options)}); pass task options to gym.make")


class ImitateEnv(gym.Env):
    """One copy of a registry task as a gymnasium Env (see the module docstring)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, task: str, device: str = "cpu", **options: Any):
        self.task = task
        self._env = make_task_env(task, 1, device, options)
        self.observation_space, self.action_space = _spaces(self._env)
        self.max_episode_steps = int(self._env.max_episode_steps)
        self._seeded = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        _check_reset_options(options)
        if seed is None and not self._seeded:  # runs still differ without a seed
            seed = int(self.np_random.integers(2**31))
        self._seeded = True
        return _numpy(self._env.reset(seed=seed)[0]), {}

    def step(self, action):
        a = torch.as_tensor(np.asarray(action, dtype=np.float32).reshape(1, -1), device=self._env.device)
        r = self._env.step(a)
        info: dict[str, Any] = {"is_success": bool(r.success[0])}
        info.update({k: float(v[0]) for k, v in r.extras.items()})
        return _numpy(r.final_obs[0]), float(r.reward[0]), bool(r.terminated[0]), bool(r.truncated[0]), info

    def close(self) -> None:
        self._env.close()


class ImitateVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of a registry task as one gymnasium VectorEnv (see the module docstring)."""

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, task: str, num_envs: int = 1, device: str = "cpu", **options: Any):
        self.task, self.num_envs = task, int(num_envs)
        self._env = make_task_env(task, self.num_envs, device, options)
        self.single_observation_space, self.single_action_space = _spaces(self._env)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.max_episode_steps = int(self._env.max_episode_steps)
        self._seeded = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None and not isinstance(seed, int | np.integer):
            raise ValueError(f"seed must be one int for the whole batch (or None), got {seed!r}")
        super().reset(seed=seed)
        _check_reset_options(options)
        if seed is None and not self._seeded:
            seed = int(self.np_random.integers(2**31))
        self._seeded = True
        return _numpy(self._env.reset(seed=None if seed is None else int(seed))), {}

    def step(self, actions):
        n = self.num_envs
        a = np.asarray(actions, dtype=np.float32).reshape(n, self._env.act_dim)
        r = self._env.step(torch.as_tensor(a, device=self._env.device))
        done = _numpy(r.done, bool)
        # SAME_STEP, as gymnasium's SyncVectorEnv lays it out: the top level holds the step's
        # info for the copies still running; a finished copy's is under final_info.
        step_info = {"is_success": _numpy(r.success, bool), **{k: _numpy(v, None) for k, v in r.extras.items()}}
        info: dict[str, Any] = {}
        for key, value in step_info.items():
            info[key], info[f"_{key}"] = value, ~done
        if done.any():
            final_obs = np.full(n, None, dtype=object)
            last = _numpy(r.final_obs)
            for i in np.flatnonzero(done):
                final_obs[i] = last[i]
            final_info: dict[str, Any] = {}
            for key, value in step_info.items():
                final_info[key], final_info[f"_{key}"] = value.copy(), done.copy()
            info.update(final_obs=final_obs, _final_obs=done.copy(), final_info=final_info, _final_info=done.copy())
        return (
            _numpy(r.obs),
            _numpy(r.reward),
            _numpy(r.terminated, bool),
            _numpy(r.truncated, bool),
            info,
        )

    def close_extras(self, **kwargs: Any) -> None:
        self._env.close()
