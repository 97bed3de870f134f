"""Policy evaluation: run exactly one episode in each of ``episodes`` env copies, batched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from imitate.tasks.core.vecenv import VecEnv


class RolloutObserver(Protocol):
    """Sees every step of an evaluation rollout (``active``: the envs still in their episode)."""

    def before_step(self, active: torch.Tensor) -> None: ...

    def after_step(self, step, active: torch.Tensor) -> None: ...


class Policy(Protocol):
    """What a rollout acts with: the actor-critic and every BC policy (``act`` on raw observations)."""

    def act(
        self, obs: torch.Tensor, deterministic: bool = True, generator: torch.Generator | None = None
    ) -> torch.Tensor: ...


@dataclass
class EvalResult:
    success_rate: float
    mean_length: float
    mean_return: float  # task reward
    trajectories: list[np.ndarray]  # per episode (T_i, obs_dim), reset obs through final obs
    successes: np.ndarray  # (episodes,) bool

    def metrics(self) -> dict[str, float]:
        return {
            "success_rate": self.success_rate,
            "episode_length": self.mean_length,
            "return": self.mean_return,
            "episodes": int(len(self.successes)),
        }


class Observers:
    """Several rollout observers seen as one (a task's own and a video's recorder); None skipped."""

    def __init__(self, *observers: RolloutObserver | None) -> None:
        self.observers = [o for o in observers if o is not None]

    def before_step(self, active: torch.Tensor) -> None:
        for observer in self.observers:
            observer.before_step(active)

    def after_step(self, step, active: torch.Tensor) -> None:
        for observer in self.observers:
            observer.after_step(step, active)


@torch.no_grad()
def evaluate_policy(
    model: Policy, env: VecEnv, seed: int = 12345, deterministic: bool = True, observer: RolloutObserver | None = None
) -> EvalResult:
    """One episode per env copy; copies that finish are ignored afterwards (auto-reset).
    ``observer`` records task-specific data of the same rollout (the humanoid's motion metrics)."""
    n = env.num_envs
    obs = env.reset(seed=seed)
    generator = torch.Generator(device=env.device).manual_seed(seed)
    active = torch.ones(n, dtype=torch.bool, device=env.device)
    length = torch.zeros(n, dtype=torch.long, device=env.device)
    ret = torch.zeros(n, device=env.device)
    success = torch.zeros(n, dtype=torch.bool, device=env.device)
    path = [obs.clone()]
    for _ in range(env.max_episode_steps):
        if observer is not None:
            observer.before_step(active)
        step = env.step(model.act(obs, deterministic=deterministic, generator=generator))
        if observer is not None:
            observer.after_step(step, active)
        ret += step.reward * active
        length += active.long()
        success |= step.success & active
        path.append(torch.where(active[:, None], step.final_obs, path[-1]))
        active &= ~step.done
        obs = step.obs
        if not active.any():
            break
    stacked = torch.stack(path, 1).cpu().numpy()  # (N, T+1, obs_dim)
    trajs = [stacked[i, : int(length[i]) + 1] for i in range(n)]
    return EvalResult(
        float(success.float().mean()), float(length.float().mean()), float(ret.mean()), trajs, success.cpu().numpy()
    )


def episode_extras(
    task, cfg: Any, trajectories: list[np.ndarray], run_dir: Path, video: bool, title: str, recorder: Any = None
) -> dict[str, Any]:
    """What the task adds to any evaluation of its episodes, run with the run config ``cfg``: the
    metrics of the episodes alone (``TaskEntry.episode_outcomes``: block pushing's success at
    each tolerance, and the env's own) and, with ``video``, its video of them in
    ``RUN_DIR/videos/policy.mp4``: drawn by the ``recorder`` that observed the rollout where the
    task has one (``TaskEntry.make_video_recorder``: the dm_control tasks' qpos), else from the
    observations (``TaskEntry.write_video``)."""
    extras = task.episode_outcomes(trajectories, cfg)
    if video:
        path = Path(run_dir) / "videos" / "policy.mp4"
        if recorder is not None:
            extras.update(recorder.write_video(path, title=title))
        else:
            extras["video"] = str(task.write_video(trajectories, path, title=title))
    return extras
