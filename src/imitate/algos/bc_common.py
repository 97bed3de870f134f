"""What every behavioural-cloning method shares (IBC, MSE, MDN): normalisation, the policy
interface, the method the offline loop trains (``algos/offline.py``), and evaluation by
batched rollouts.

A method is a ``BCPolicy`` subclass with two methods on normalised tensors:
``loss(obs_n, act_n, generator) -> (loss, stats)`` and ``act_normalized(obs_n, generator)``.
Normalisation (IBC's): observations are z-scored; actions are mapped to [-1, 1] from
the dataset's min/max widened by 5% of the range on each side. The normaliser is a buffer of
the policy module, so the checkpoint alone rebuilds a working policy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from imitate.algos.bc_config import BCConfig
from imitate.algos.demos import run_demos
from imitate.algos.offline import OfflineMethod, minibatches, train_run
from imitate.data.history import stack_history
from imitate.utils.numerics import backward_step
from imitate.utils.run import CheckpointError, Run
from imitate.utils.running_stats import column_mean_std

ACTION_MARGIN = 0.05  # widen the action bounds by this fraction of the range on each side


class BCNormalizer(nn.Module):
    """Observation z-scoring and action min/max → [-1, 1]; fitted once on the demonstrations."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor
    act_low: torch.Tensor
    act_high: torch.Tensor

    def __init__(self, obs_dim: int, act_dim: int):
        super().__init__()
        self.register_buffer("obs_mean", torch.zeros(obs_dim))
        self.register_buffer("obs_std", torch.ones(obs_dim))
        self.register_buffer("act_low", -torch.ones(act_dim))
        self.register_buffer("act_high", torch.ones(act_dim))

    @torch.no_grad()
    def fit(self, obs: torch.Tensor, actions: torch.Tensor) -> None:
        mean, std = column_mean_std(obs)
        self.obs_mean.copy_(mean)
        self.obs_std.copy_(std)
        low, high = actions.min(0).values, actions.max(0).values
        span = (high - low).clamp_min(1e-3)  # a constant action dimension still gets a box
        self.act_low.copy_(low - ACTION_MARGIN * span)
        self.act_high.copy_(high + ACTION_MARGIN * span)

    def obs(self, obs: torch.Tensor) -> torch.Tensor:
        return (obs - self.obs_mean) / self.obs_std

    def action(self, action: torch.Tensor) -> torch.Tensor:
        return 2.0 * (action - self.act_low) / (self.act_high - self.act_low) - 1.0

    def unaction(self, action_n: torch.Tensor) -> torch.Tensor:
        return self.act_low + (action_n + 1.0) * 0.5 * (self.act_high - self.act_low)


class BCPolicy(nn.Module):
    """A cloned policy: a normaliser plus a method-specific model; ``act`` speaks env units."""

    loss_name = "bc_loss"  # how a non-finite loss is named in the error

    def __init__(self, obs_dim: int, act_dim: int):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.normalizer = BCNormalizer(obs_dim, act_dim)

    def loss(
        self, obs_n: torch.Tensor, act_n: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def act_normalized(self, obs_n: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    def act(
        self, obs: torch.Tensor, deterministic: bool = True, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """(N, obs_dim) env observations → (N, act_dim) env actions, clipped to [-1, 1]."""
        action_n = self.act_normalized(self.normalizer.obs(obs), generator)
        return self.normalizer.unaction(action_n).clamp(-1.0, 1.0)


def learning_rate(cfg: BCConfig, iteration: int) -> float:
    """The learning rate at ``iteration``: cosine from lr to lr * lr_decay over the run, or IBC's
    exponential decay lr * lr_decay_rate ** (iteration / lr_decay_steps) (tf.keras'
    ExponentialDecay, not a staircase: it meets the ×0.99-per-100-steps values at every 100th step)."""
    if cfg.lr_schedule == "exponential":
        return cfg.lr * cfg.lr_decay_rate ** (iteration / cfg.lr_decay_steps)
    frac = min(1.0, iteration / cfg.iterations)
    return cfg.lr * (cfg.lr_decay + (1 - cfg.lr_decay) * 0.5 * (1 + math.cos(math.pi * frac)))


class BCTrainer:
    """AdamW with a decaying learning rate (``learning_rate``); one ``step`` per minibatch of normalised pairs."""

    def __init__(self, policy: BCPolicy, cfg: BCConfig):
        self.policy, self.cfg = policy, cfg
        self.optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.iteration = 0

    def step(self, obs_n: torch.Tensor, act_n: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.cfg, self.iteration)
        self.policy.train()
        loss, stats = self.policy.loss(obs_n, act_n, generator)
        backward_step(loss, self.optimizer, self.policy.parameters(), self.policy.loss_name)
        self.iteration += 1
        return {"loss": loss.item(), **stats}

    def fit(
        self,
        obs_n: torch.Tensor,
        act_n: torch.Tensor,
        generator: torch.Generator,
        until: int | None = None,
        callback: Callable[[int, dict], None] | None = None,
    ) -> dict[str, float]:
        """Minibatch steps on (M, O) / (M, A) normalised pairs until ``until`` (default
        cfg.iterations), without a run: the offline loop's minibatches (``algos/offline.py``)."""
        until = self.cfg.iterations if until is None else until
        stats: dict[str, float] = {}
        for iteration, stats in minibatches(
            (obs_n, act_n), self.cfg.batch_size, generator, self.step, self.iteration, until
        ):
            if callback is not None:
                callback(iteration, stats)
        return stats

    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "iteration": self.iteration,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration = state["iteration"]


# -- runs -------------------------------------------------------------------------------------
BuildPolicy = Callable[[Any, int, int], BCPolicy]  # (cfg, obs_dim, act_dim) -> policy


def policy_env(task, num_envs: int, cfg: Any, seed: int, device: str = "cpu"):
    """The task's env as a BC policy of ``cfg`` sees it: with its observation history."""
    from imitate.tasks.core.history import with_history

    return with_history(task.make_env(num_envs, seed=seed, cfg=cfg, device=device), getattr(cfg, "history", 1))


def load_policy(run: Run, task, cfg: Any, build: BuildPolicy, env=None) -> BCPolicy:
    """The trained policy of a BC run, checked against the task's sizes; ``env`` is a
    ``policy_env`` (made here when not given)."""
    env = env or policy_env(task, 1, cfg, seed=cfg.seed)
    state = run.load_checkpoint(run.task, run.algo)
    policy = build(cfg, env.obs_dim, env.act_dim)
    try:
        policy.load_state_dict(state["trainer"]["policy"])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(
            f"{run.checkpoint_path}: policy does not fit task {run.task!r} ({str(exc).splitlines()[0]})"
        ) from None
    return policy.to(env.device).eval()


class BCFit(OfflineMethod):
    """A BC policy on (observation history, action) pairs for the offline loop
    (``algos/offline.py``); its checkpoint part is the trainer (policy with its normaliser,
    optimiser, iteration). ``on_demos`` reads the pairs from the run's demonstrations; BCO gives
    pairs its inverse dynamics model labelled (``algos/bco.py``)."""

    prefix, shown = "bc", "loss"  # logged: bc/loss, bc/info_nce, bc/true_action_top1, bc/grad_penalty

    def __init__(
        self,
        algo_name: str,
        cfg: BCConfig,
        obs_dim: int,
        act_dim: int,
        build: BuildPolicy,
        obs: torch.Tensor,
        actions: torch.Tensor | None,
    ):
        """``obs``: (M, history · obs_dim) on ``cfg.device``; ``actions``: (M, act_dim), or None
        until a subclass supplies them when its fit begins."""
        self.desc, self.device = algo_name, torch.device(cfg.device)
        self.obs, self.actions = obs, actions
        torch.manual_seed(cfg.seed)  # weight init: runs with the same seed are repeatable
        self.policy = build(cfg, obs_dim * cfg.history, act_dim).to(self.device)
        self.trainer = BCTrainer(self.policy, cfg)

    @classmethod
    def on_demos(cls, task, algo_name: str, cfg: BCConfig, run: Run, env, build: BuildPolicy) -> BCFit:
        """BC on the run's demonstrations (given or oracle), their actions the targets."""
        from imitate.data.demo_checks import check_demo_sizes

        demos = run_demos(task, cfg, run)
        check_demo_sizes(demos, env.obs_dim, env.act_dim, cfg.demos or str(run.dir), task.name, need_actions=True)
        device = torch.device(cfg.device)
        obs = stack_history(torch.from_numpy(demos.obs).to(device), demos.episode_ends.tolist(), cfg.history)
        actions = torch.from_numpy(demos.actions).to(device)
        return cls(algo_name, cfg, env.obs_dim, env.act_dim, build, obs, actions)

    def targets(self) -> torch.Tensor:
        assert self.actions is not None, "BCFit without actions"
        return self.actions

    def start(self) -> None:
        self.policy.normalizer.fit(self.obs, self.targets())

    def load_state_dict(self, state: dict) -> None:
        self.trainer.load_state_dict(state["trainer"])

    def state_dict(self) -> dict:
        return {"trainer": self.trainer.state_dict()}

    def data(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy.normalizer.obs(self.obs), self.policy.normalizer.action(self.targets())

    def step(self, obs_n: torch.Tensor, act_n: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        return self.trainer.step(obs_n, act_n, generator)

    def summary(self, iteration: int, running: dict[str, float]) -> dict:
        return {
            "iterations": self.trainer.iteration,
            "final_loss": running.get("loss", float("nan")),
            "demo_pairs": int(len(self.obs)),
        }


def train_bc_run(
    task, algo_name: str, cfg: BCConfig, run: Run | None, state: dict | None, build: BuildPolicy
) -> tuple[Run, dict]:
    """Behavioural cloning as a run of the offline loop: demos (given or oracle, saved into the
    run) → trained policy; ``resume=RUN_DIR`` continues exactly where the last checkpoint left off."""
    env = task.make_env(1, seed=cfg.seed, cfg=cfg)  # raw frames: what the demos hold
    return train_run(
        task, algo_name, cfg, run, state, lambda run_: BCFit.on_demos(task, algo_name, cfg, run_, env, build)
    )


def rollout(policy: BCPolicy, env, seed: int, observer: Any = None):
    """One episode per env copy (``eval.rollouts.evaluate_policy``, ``observer`` seeing it); the
    trajectories hold the env's own observations, i.e. the newest frame of each history."""
    from imitate.eval.rollouts import evaluate_policy

    result = evaluate_policy(policy, env, seed=seed, observer=observer)
    frame = getattr(env, "frame_dim", env.obs_dim)
    result.trajectories = [t[:, -frame:] for t in result.trajectories]
    return result


def evaluate_bc_run(
    run: Run, task, cfg: Any, episodes: int, build: BuildPolicy, video: bool = False
) -> tuple[dict, BCPolicy, Any]:
    """Roll the policy out for one episode in each of ``episodes`` env copies; trajectory plot,
    the task's metrics of those episodes and, with ``video``, its video of them.

    Returns (metrics, policy, EvalResult) so a method can add its own plots."""
    from imitate.algos.demos import demo_trajectories
    from imitate.eval.rollouts import episode_extras

    env = policy_env(task, episodes, cfg, seed=cfg.seed + 10_000, device=cfg.device)
    policy = load_policy(run, task, cfg, build, env)
    started = time.time()
    recorder = task.make_video_recorder(env) if video else None  # what the task's video draws
    result = rollout(policy, env, seed=cfg.seed + 10_000, observer=recorder)
    metrics = {**result.metrics(), "eval_seconds": round(time.time() - started, 1)}
    metrics.update(episode_extras(task, cfg, result.trajectories, run.dir, video, f"{run.algo} policy", recorder))
    if task.plot:
        task.plot_trajectories(
            result.trajectories,
            demo_trajectories(run, cfg, task),
            run.plots_dir / "trajectories.png",
            title=f"{run.algo} policy",
        )
    return metrics, policy, result
