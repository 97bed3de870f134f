"""Any gymnasium continuous-control task as an ``imitate`` :class:`~imitate.tasks.core.vecenv.VecEnv`.

:class:`GymVecEnv` wraps a ``gymnasium.vector.SyncVectorEnv`` so that every gymnasium task with a
flat ``Box`` observation and a bounded ``Box`` action space (Pendulum, MountainCarContinuous,
the MuJoCo suite, ...) runs unchanged under our PPO, our evaluation and our reward modules. Its
purpose is to be a *reference point*: it lets us check our PPO against other implementations
(``benchmarks/ppo_vs_sb3.py``) and against published numbers on standard tasks. It is not a fast
path: the copies are stepped one after the other in Python on numpy arrays and converted to and
from torch every step, so throughput is that of gymnasium itself (thousands of steps per second),
far below the batched torch tasks such as :class:`~imitate.tasks.maze.MazeEnv`.

Conventions (those of :mod:`imitate.tasks.core.vecenv`):

* observations, rewards and flags are torch tensors (float32 / bool) on ``device``;
* actions come in ``[-1, 1]`` and are rescaled linearly to the task's ``[low, high]`` bounds
  (out-of-range actions are clipped first);
* auto-reset: a copy whose episode ended returns the first observation of its next episode as
  ``obs`` and the true last observation of the finished episode as ``final_obs``. gymnasium 1.x
  vector envs reset on the *next* ``step`` call by default, which would hand us a dummy
  transition; we ask for ``AutoresetMode.SAME_STEP`` where the real last observation sits in
  ``info["final_obs"]``;
* a step that is both terminated and truncated (the task ends exactly at the time limit) is
  reported as terminated only, so that PPO does not bootstrap it (as SB3 does);
* ``success`` is False unless the task's ``info`` reports ``is_success`` or ``success``;
* ``transition`` is ``(obs_t, obs_t+1)`` with ``obs_t+1`` taken before any reset, so the style
  feature is the raw observation (``style_dim == obs_dim``);
* ``max_episode_steps`` is the registered time limit (or ``max_episode_steps=`` passed through
  to ``gymnasium.make``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from imitate.tasks.core.vecenv import StepResult

_SUCCESS_KEYS = ("is_success", "success")


def _info_flag(info: dict[str, Any], key: str, n: int) -> np.ndarray:
    """The boolean per-env array ``info[key]``, False where the env did not report it."""
    if key not in info:
        return np.zeros(n, dtype=bool)
    values = np.asarray(info[key]).reshape(n, -1)[:, 0].astype(bool)
    mask = np.asarray(info.get(f"_{key}", np.ones(n, dtype=bool)), dtype=bool)
    return values & mask


class GymVecEnv:
    """``num_envs`` copies of the gymnasium task ``env_id`` behind the ``VecEnv`` protocol.

    Args:
        env_id: a registered gymnasium id, e.g. ``"Pendulum-v1"``.
        num_envs: number of copies stepped per call.
        seed: seed of the first ``reset`` when it is called without one; copy ``i`` gets
            ``seed + i`` (gymnasium's convention).
        device: where the returned tensors live.
        **make_kwargs: passed to ``gymnasium.make`` (e.g. ``max_episode_steps=500``).
    """

    def __init__(
        self, env_id: str, num_envs: int, seed: int = 0, *, device: str | torch.device = "cpu", **make_kwargs: Any
    ):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.env_id, self.num_envs, self.seed = env_id, num_envs, seed
        self.device = torch.device(device)
        fns = [lambda: gym.make(env_id, **make_kwargs) for _ in range(num_envs)]
        mode = getattr(gym.vector, "AutoresetMode", None)
        if mode is None:  # gymnasium 1.0.x only has next-step autoreset
            raise RuntimeError(f"GymVecEnv needs gymnasium >= 1.1 (AutoresetMode.SAME_STEP); found {gym.__version__}")
        self.vec = gym.vector.SyncVectorEnv(fns, autoreset_mode=mode.SAME_STEP)

        obs_space, act_space = self.vec.single_observation_space, self.vec.single_action_space
        if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
            raise ValueError(f"{env_id}: GymVecEnv needs a flat Box observation space, got {obs_space}")
        if not isinstance(act_space, gym.spaces.Box) or len(act_space.shape) != 1:
            raise ValueError(f"{env_id}: GymVecEnv needs a flat Box action space, got {act_space}")
        if not (np.all(np.isfinite(act_space.low)) and np.all(np.isfinite(act_space.high))):
            raise ValueError(f"{env_id}: action bounds must be finite to rescale [-1, 1] onto them")
        self.obs_dim = int(obs_space.shape[0])
        self.act_dim = int(act_space.shape[0])
        self.style_dim = self.obs_dim
        self._low = torch.as_tensor(act_space.low, dtype=torch.float64)
        self._high = torch.as_tensor(act_space.high, dtype=torch.float64)
        self._act_dtype = act_space.dtype

        spec = self.vec.envs[0].spec
        limit = make_kwargs.get("max_episode_steps") or (spec.max_episode_steps if spec else None)
        if limit is None:
            raise ValueError(f"{env_id} has no registered time limit; pass max_episode_steps=...")
        self.max_episode_steps = int(limit)
        self._obs: torch.Tensor | None = None
        self._seeded = False

    # -- conversions ---------------------------------------------------------------------------
    def _tensor(self, array: Any, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=dtype, device=self.device)

    def _to_env_action(self, action: torch.Tensor) -> np.ndarray:
        a = action.detach().to("cpu", torch.float64).reshape(self.num_envs, self.act_dim).clamp(-1.0, 1.0)
        scaled = self._low + (a + 1.0) * 0.5 * (self._high - self._low)
        return scaled.numpy().astype(self._act_dtype)

    # -- protocol ------------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> torch.Tensor:
        """Reset every copy; ``seed=None`` uses the constructor's seed the first time only."""
        if seed is None and not self._seeded:
            seed = self.seed
        obs, _ = self.vec.reset(seed=seed)
        self._seeded = True
        self._obs = self._tensor(obs)
        return self._obs

    def step(self, action: torch.Tensor) -> StepResult:
        if self._obs is None:
            self.reset()
        n = self.num_envs
        obs, reward, terminated, truncated, info = self.vec.step(self._to_env_action(action))
        # A step can be both (the task ends exactly at the time limit): it is a termination, and
        # must not be bootstrapped, so it is not reported as a truncation.
        truncated = np.logical_and(truncated, np.logical_not(terminated))
        done = np.logical_or(terminated, truncated)
        final_obs = np.array(obs, dtype=np.float64, copy=True)
        success = np.zeros(n, dtype=bool)
        for key in _SUCCESS_KEYS:  # copies still running report in the top-level info
            success |= _info_flag(info, key, n) & ~done
        if done.any():  # SAME_STEP: the finished episode's last obs and info sit under final_*
            final_info = info.get("final_info", {})
            for key in _SUCCESS_KEYS:
                success |= _info_flag(final_info, key, n) & done
            for i in np.flatnonzero(done):
                final_obs[i] = info["final_obs"][i]
        prev = self._obs
        assert prev is not None, "reset() before step()"
        next_obs = self._tensor(obs)
        final = self._tensor(final_obs)
        self._obs = next_obs
        return StepResult(
            obs=next_obs,
            reward=self._tensor(reward),
            terminated=self._tensor(terminated, torch.bool),
            truncated=self._tensor(truncated, torch.bool),
            final_obs=final,
            success=self._tensor(success, torch.bool),
            transition=torch.cat([prev, final], dim=-1),
        )

    def close(self) -> None:
        self.vec.close()

    def __repr__(self) -> str:
        return f"GymVecEnv({self.env_id!r}, num_envs={self.num_envs}, obs_dim={self.obs_dim}, act_dim={self.act_dim})"
