"""The maze and Push-T as single-env gymnasium environments (for SB3 and other gymnasium users).

Importing this module registers ``imitate/Maze-v0`` and ``imitate/PushT-v0``. Without importing
it first, gymnasium's own ``module:id`` form loads it on demand::

    import gymnasium as gym
    env = gym.make("imitate.tasks.gym_register:imitate/PushT-v0")

Each is a thin :class:`gymnasium.Env` around a ``num_envs=1`` batched env: float32 ``Box`` spaces,
actions in [-1, 1]² (absolute targets, as in the batched env), ``reset(seed=...)`` reseeds the
env's generator, ``step`` returns gymnasium's 5-tuple with ``terminated`` (task success) apart
from ``truncated`` (the env's own step cap). The batched env resets itself when an episode ends;
the wrapper hands back the episode's true last observation (``final_obs``) and the caller resets
as gymnasium expects. ``info`` carries ``is_success`` (SB3's key) and any task extras
(Push-T: ``coverage``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch


class ImitateGymEnv(gym.Env):
    """A ``num_envs=1`` imitate VecEnv as a gymnasium Env (subclasses set the env and spaces)."""

    metadata = {"render_modes": []}

    def __init__(self, make_env, obs_low: np.ndarray, obs_high: np.ndarray):
        self._env = make_env(1, 0)
        self.observation_space = gym.spaces.Box(
            obs_low.astype(np.float32), obs_high.astype(np.float32), dtype=np.float32
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(self._env.act_dim,), dtype=np.float32)
        self._low, self._high = self.observation_space.low, self.observation_space.high

    def _np(self, obs: torch.Tensor) -> np.ndarray:
        return np.clip(obs[0].detach().cpu().numpy().astype(np.float32), self._low, self._high)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None and not hasattr(self, "_seeded"):
            # First reset without a seed: draw one from gymnasium's RNG so runs still differ.
            seed = int(self.np_random.integers(2**31))
        self._seeded = True
        obs = self._env.reset(seed=seed)
        return self._np(obs), {}

    def step(self, action):
        a = torch.as_tensor(np.asarray(action, dtype=np.float32).reshape(1, -1))
        r = self._env.step(a)
        info: dict[str, Any] = {"is_success": bool(r.success[0])}
        info.update({k: float(v[0]) for k, v in r.extras.items()})
        return (self._np(r.final_obs), float(r.reward[0]), bool(r.terminated[0]), bool(r.truncated[0]), info)


class MazeGymEnv(ImitateGymEnv):
    """NEAR's 2-D maze: obs (x, y) in [0, 512]², sparse reward 1 on reaching the goal."""

    def __init__(self):
        from imitate.tasks.maze import ARENA_SIZE, MazeEnv

        super().__init__(lambda n, s: MazeEnv(n, seed=s), np.zeros(2), np.full(2, ARENA_SIZE))


class PushTGymEnv(ImitateGymEnv):
    """Push-T: obs (pusher x, y, block x, y, sin θ, cos θ), reward clip(coverage / 0.95, 0, 1)."""

    def __init__(self):
        from imitate.tasks.pusht import WORKSPACE, PushTEnv

        super().__init__(
            lambda n, s: PushTEnv(n, seed=s),
            np.array([0.0, 0.0, 0.0, 0.0, -1.0, -1.0]),
            np.array([WORKSPACE] * 4 + [1.0, 1.0]),
        )


def _register() -> None:
    from imitate.tasks.maze import MAX_EPISODE_STEPS as MAZE_STEPS
    from imitate.tasks.pusht import MAX_EPISODE_STEPS as PUSHT_STEPS

    for env_id, cls, steps in (
        ("imitate/Maze-v0", "MazeGymEnv", MAZE_STEPS),
        ("imitate/PushT-v0", "PushTGymEnv", PUSHT_STEPS),
    ):
        if env_id not in gym.registry:
            # max_episode_steps equals the env's own cap, so the TimeLimit gymnasium adds agrees
            # with it and tools that read spec.max_episode_steps see the right horizon.
            gym.register(id=env_id, entry_point=f"{__name__}:{cls}", max_episode_steps=steps)


_register()
