"""What AIME's imitation-from-observation baselines share (BCO, ``algos/bco.py``; IIDM,
``algos/iidm.py``): two data sets, a two-stage fit and the evaluation.

- **Embodiment data**: the agent's own (observation, action) episodes, ``embodiment=PATH`` or,
  when empty, random-action episodes generated once into the run (``embodiment.npz``). A seeded
  ``holdout`` fraction of whole episodes measures the dynamics model and is never trained on.
- **Demonstrations**: the expert's observations, ``demos=PATH`` or oracle episodes generated into
  the run. Their actions are dropped as they are read (``observation_only``): nothing that trains
  can see them. Only the evaluation reads them back, to report how far the labels or the policy's
  actions are from the expert's where a data set records them.
- **Fit** (``EmbodimentFit``, two stages of the offline loop): the dynamics model on the training
  transitions, then the policy (a ``bc_common.BCFit``) on the demonstrations with the model frozen.
  The checkpoint holds both; the policy is where BC keeps it, so BC's loading and rollouts serve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from imitate.algos.bc_common import BCFit, BuildPolicy, evaluate_bc_run
from imitate.algos.bco_config import EmbodimentConfig
from imitate.algos.demos import run_demos
from imitate.algos.dynamics import DynamicsFit, DynamicsModel, build_dynamics
from imitate.algos.offline import OfflineMethod, Stage, train_run
from imitate.data.dataset import Demonstrations
from imitate.data.demo_checks import check_demo_sizes, load_demos_for
from imitate.data.history import stack_history
from imitate.data.sequences import episode_starts, split_episodes
from imitate.utils.errors import CheckpointError
from imitate.utils.run import Run

EMBODIMENT_FILE = "embodiment.npz"


def run_embodiment(task, cfg: EmbodimentConfig, run: Run) -> Demonstrations:
    """The run's embodiment data: the given file, or random-action episodes generated once into the run."""
    if cfg.embodiment:
        return load_demos_for(task, cfg, source=cfg.embodiment)
    path = run.dir / EMBODIMENT_FILE
    if path.is_file():
        return Demonstrations.load(path, task=task.name)
    from imitate.oracles.random_actions import random_action_episodes

    data = random_action_episodes(task, cfg.embodiment_episodes, seed=cfg.seed + 1, cfg=cfg, progress=cfg.progress)
    data.save(path)
    return data


def observation_only(demos: Demonstrations) -> Demonstrations:
    """The demonstrations without their actions."""
    return Demonstrations(demos.obs, demos.episode_ends, None, demos.metadata)


def successor_rows(episode_ends: np.ndarray, episodes: np.ndarray | None = None) -> np.ndarray:
    """Rows t whose next row t + 1 is in the same episode (of ``episodes``; default all)."""
    starts = episode_starts(episode_ends)
    chosen = range(len(episode_ends)) if episodes is None else episodes
    rows = [np.arange(starts[e], episode_ends[e] - 1) for e in chosen]
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)


def transitions(data: Demonstrations, rows: np.ndarray, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(o_t, a_t, o_t+1) at ``rows``: actions[t] is the action sent after obs[t] (``data/dataset.py``)."""
    assert data.actions is not None
    take = lambda a, r: torch.from_numpy(a[r]).to(device)  # noqa: E731
    return take(data.obs, rows), take(data.actions, rows), take(data.obs, rows + 1)


class EmbodimentData:
    """A run's two data sets, checked against the task, as tensors on ``cfg.device``."""

    def __init__(self, task, algo_name: str, cfg: EmbodimentConfig, run: Run, env, model_name: str):
        self.device = torch.device(cfg.device)
        self.recorded = run_demos(task, cfg, run)  # read back by the evaluation only
        demos = observation_only(self.recorded)
        check_demo_sizes(demos, env.obs_dim, env.act_dim, cfg.demos or str(run.dir), task.name)
        where = cfg.embodiment or str(run.dir / EMBODIMENT_FILE)
        embodiment = run_embodiment(task, cfg, run)
        needed_by = f"{algo_name}'s {model_name}"
        check_demo_sizes(embodiment, env.obs_dim, env.act_dim, where, task.name, need_actions=True, needed_by=needed_by)
        train, heldout = split_episodes(embodiment.num_episodes, cfg.holdout, cfg.seed)
        self.train = transitions(embodiment, successor_rows(embodiment.episode_ends, train), self.device)
        self.heldout = transitions(embodiment, successor_rows(embodiment.episode_ends, heldout), self.device)
        self.demo_rows = successor_rows(demos.episode_ends)
        obs = torch.from_numpy(demos.obs).to(self.device)
        rows = torch.from_numpy(self.demo_rows).to(self.device)
        self.demo_history = stack_history(obs, demos.episode_ends.tolist(), cfg.history)[rows]
        self.demo_obs, self.demo_next = obs[rows], obs[rows + 1]

    def demo_actions(self) -> torch.Tensor | None:
        """The actions the demonstration file records at the demo pairs, if any (evaluation only)."""
        if self.recorded.actions is None:
            return None
        return torch.from_numpy(self.recorded.actions[self.demo_rows]).to(self.device)


class EmbodimentFit(OfflineMethod):
    """Stage 1: ``kind`` of dynamics model on the agent's transitions (``model_*`` options);
    stage 2: the policy of ``policy_fit`` on the demonstrations (BC's options)."""

    kind: type[DynamicsModel] = DynamicsModel
    model_name = "dynamics model"
    model_prefix = "dynamics"
    # (fit, algo_name, cfg, env) -> the stage-2 BCFit
    policy_fit: Callable[[EmbodimentFit, str, Any, Any], BCFit]

    def __init__(self, task, algo_name: str, cfg: EmbodimentConfig, run: Run, env):
        self.desc, self.device = algo_name, torch.device(cfg.device)
        self.model_iterations = cfg.model_iterations
        self.data_set = EmbodimentData(task, algo_name, cfg, run, env, self.model_name)
        torch.manual_seed(cfg.seed)  # weight init: the same seed, the same model
        self.model = build_dynamics(self.kind, cfg, env.obs_dim, env.act_dim).to(self.device)
        self.dynamics = DynamicsFit(self.model, self.data_set.train, cfg, self.model_prefix)
        self.policy_stage = type(self).policy_fit(self, algo_name, cfg, env)

    def stages(self, cfg: Any) -> list[Stage]:
        return [
            Stage(self.dynamics, cfg.model_iterations, cfg.model_batch_size),
            Stage(self.policy_stage, cfg.iterations, cfg.batch_size),
        ]

    def load_state_dict(self, state: dict) -> None:
        self.dynamics.load_state_dict(state["dynamics"])
        self.policy_stage.load_state_dict(state)

    def state_dict(self) -> dict:
        return {**self.policy_stage.state_dict(), "dynamics": self.dynamics.state_dict()}

    def frozen_model(self) -> DynamicsModel:
        """The dynamics model, fitted and frozen: what stage 2 uses."""
        return self.model.eval().requires_grad_(False)

    def summary(self, iteration: int, running: dict[str, float]) -> dict:
        return {
            **self.policy_stage.summary(iteration, running),
            "model_iterations": min(iteration, self.model_iterations),
            "embodiment_train_transitions": int(len(self.data_set.train[0])),
            "embodiment_heldout_transitions": int(len(self.data_set.heldout[0])),
        }


def train_embodiment_run(
    task, algo_name: str, cfg: EmbodimentConfig, run: Run | None, state: dict | None, fit: type[EmbodimentFit]
) -> tuple[Run, dict]:
    """A BCO or IIDM run of the offline loop; ``resume=RUN_DIR`` continues exactly, in either stage."""
    env = task.make_env(1, seed=cfg.seed, cfg=cfg)
    return train_run(task, algo_name, cfg, run, state, lambda run_: fit(task, algo_name, cfg, run_, env))


def load_dynamics(run: Run, cfg: EmbodimentConfig, kind: type[DynamicsModel], obs_dim: int, act_dim: int):
    """The dynamics model of a BCO or IIDM run's checkpoint, frozen."""
    state = run.load_checkpoint(run.task, run.algo)
    model = build_dynamics(kind, cfg, obs_dim, act_dim)
    try:
        model.load_state_dict(state["dynamics"]["model"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{run.checkpoint_path}: no usable dynamics model ({str(exc).splitlines()[0]})") from None
    return model.to(cfg.device).eval().requires_grad_(False)


@torch.no_grad()
def evaluate_embodiment_run(
    run: Run,
    task,
    cfg: EmbodimentConfig,
    episodes: int,
    build: BuildPolicy,
    kind: type[DynamicsModel],
    model_name: str,
    video: bool = False,
) -> tuple[dict[str, Any], EmbodimentData, DynamicsModel, Any]:
    """BC's evaluation (rollouts in the env: return, success rate, trajectory plot), the
    normalised score when ``expert_return`` is given, and the policy's action error on the
    demonstrations where they record actions. Returns the data, the model and the policy for the
    method's own metrics."""
    metrics, policy, _ = evaluate_bc_run(run, task, cfg, episodes, build, video)
    if cfg.expert_return > 0:
        metrics["normalised_score"] = 100.0 * metrics["return"] / cfg.expert_return
    env = task.make_env(1, seed=cfg.seed, cfg=cfg)
    data = EmbodimentData(task, run.algo, cfg, run, env, model_name)
    model = load_dynamics(run, cfg, kind, env.obs_dim, env.act_dim)
    expert = data.demo_actions()
    if expert is not None:  # a diagnostic only: these actions never reach training
        metrics["demo_policy_action_mse"] = mse(policy.act(data.demo_history), expert)
        metrics["demo_action_var"] = variance(expert)
    return metrics, data, model, policy


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean())


def variance(x: torch.Tensor) -> float:
    """The mean squared error of predicting every row by the mean row."""
    return mse(x, x.mean(0, keepdim=True))
