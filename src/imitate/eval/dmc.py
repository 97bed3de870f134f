"""What a video of DeepMind Control evaluation episodes draws: the qpos of the first few envs at
every step, kept only when ``imitate eval --video`` asks (``TaskEntry.video_recorder``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

VIDEO_EPISODES = 2  # episodes side by side in the video (MuJoCo renders about 10 frames a second)


class DmcVideoRecorder:
    """A rollout observer (``eval.rollouts.RolloutObserver``): before each step, one array copy of
    the first ``episodes`` envs' joint positions and whether their episode still runs."""

    def __init__(self, env, episodes: int = VIDEO_EPISODES) -> None:
        self.sim = env.sim  # a DmcSim (through any history wrapper)
        self.k = min(episodes, env.num_envs)
        self.qpos: list[np.ndarray] = []  # per step (k, nq)
        self.alive: list[np.ndarray] = []  # per step (k,)

    def before_step(self, active: torch.Tensor) -> None:
        self.qpos.append(self.sim.qpos[: self.k].copy())
        self.alive.append(active[: self.k].cpu().numpy().copy())  # the rollout updates it in place

    def after_step(self, step, active: torch.Tensor) -> None:
        pass

    def episodes(self) -> list[np.ndarray]:
        """Each recorded episode's qpos (T_i, nq): the state each of its actions was taken in."""
        qpos, alive = np.stack(self.qpos, 1), np.stack(self.alive, 1)  # (k, T, ...)
        return [qpos[i, : int(alive[i].sum())] for i in range(self.k)]

    def fps(self) -> float:
        """Real time: one frame per env step of ``action_repeat`` dm_control control steps."""
        sim = self.sim
        return 1.0 / (sim.model.opt.timestep * sim.control_substeps * sim.action_repeat)

    def write_video(self, path: Path, title: str = "policy") -> dict[str, Any]:
        from imitate.viz.dmc import write_dmc_video

        path, renderer = write_dmc_video(self.sim.domain, self.episodes(), path, self.fps(), title=title)
        return {"video": str(path), "video_renderer": renderer, "video_episodes": self.k}
