"""AIME phase 2 as a run: a frozen world model (phase 1, ``algos/world_model.py``) and the
expert's observation-only demonstrations → a policy, through the offline fit loop.

Each step takes ``batch_size`` windows of ``seq_len`` demonstrated observations. The world
model filters them from the zero state, but the action before each step is the policy's, drawn
(reparameterised) from π(· | s_{t-1}) on the state the filter reached so far; the loss is the
negative ELBO of the window under those actions (``RSSM.loss`` with ``policy``), and only the
policy's weights move. With ``idm_guidance`` (AIME-IDM) the actions come from the world model's
frozen inverse dynamics model q(a_{t-1} | s_{t-1}, o_t) instead, and the policy, as their prior,
is pulled to it by ``idm_weight`` × KL(q || π) per step. Any actions the demonstration file
holds are dropped when it is read.

Evaluation rolls the policy out in the task's env: at every step the posterior filters the
env's observation with the action sent before it, and the policy acts on the state (tanh of
its mean). It reports the return, the normalised score (return / expert return × 100) where an
expert return is known, and, for analysis only, how far the policy's actions along the
demonstrations are from the recorded ones when the file has them (AIME logs the same).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from imitate.algos.aime_config import EXPERT_RETURNS, AimeConfig
from imitate.algos.offline import OfflineMethod, train_run
from imitate.algos.world_model import Sequences, load_world_model
from imitate.models.aime_policy import TanhGaussianPolicy
from imitate.models.rssm import RSSM, gaussian_kl, sample
from imitate.utils.errors import CheckpointError
from imitate.utils.numerics import backward_step
from imitate.utils.run import Run

ALGO = "aime"


def build_policy(cfg: AimeConfig, model: RSSM) -> TanhGaussianPolicy:
    return TanhGaussianPolicy(
        model.deter_dim + model.stoch_dim,
        model.act_dim,
        cfg.policy_units,
        cfg.policy_layers,
        cfg.policy_activation,
        cfg.policy_min_std,
    )


def frozen_world_model(task, cfg: AimeConfig, data: Sequences) -> RSSM:
    """The run's world model, refused in one line unless it observes the demonstrations' layout
    and acts with the task's action size."""
    act_dim = task.make_env(1, seed=cfg.seed, cfg=cfg).act_dim
    return load_world_model(cfg.world_model, data.layout, act_dim).to(data.device)


class AimeFit(OfflineMethod):
    """The policy on windows of the demonstrations, for the offline loop (``algos/offline.py``);
    its checkpoint part is the policy with its config and the optimiser (the world model stays
    in its own run)."""

    desc, prefix, shown = "aime", "aime", "loss"

    def __init__(self, task, cfg: AimeConfig, run: Run):
        self.cfg = cfg
        self.data_set = Sequences(task, cfg, run, with_actions=False)
        self.device = self.data_set.device
        self.train_starts = self.data_set.train_starts(cfg.seq_len)
        self.model = frozen_world_model(task, cfg, self.data_set)
        if cfg.idm_guidance and self.model.idm is None:
            raise CheckpointError(f"world_model={cfg.world_model} has no IDM for idm_guidance (train it with idm=true)")
        torch.manual_seed(cfg.seed)  # weight init: the same seed, the same policy
        self.policy = build_policy(cfg, self.model).to(self.device)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.lr)
        self.obs_n = self.model.normalize(self.data_set.obs)  # the world model's normaliser

    def load_state_dict(self, state: dict) -> None:
        if state.get("policy_config") != self.policy.config:
            raise CheckpointError(
                f"the policy was built as {state.get('policy_config')}, this run builds {self.policy.config}"
            )
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])

    def state_dict(self) -> dict:
        return {
            "policy": self.policy.state_dict(),
            "policy_config": dict(self.policy.config),
            "optimizer": self.optimizer.state_dict(),
        }

    def data(self) -> tuple[torch.Tensor]:
        return (self.train_starts,)

    def step(self, starts: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        cfg = self.cfg
        idx = starts[:, None] + torch.arange(cfg.seq_len, device=self.device)
        action_kls: list[torch.Tensor] = []

        def act(feature: torch.Tensor, embed: torch.Tensor) -> torch.Tensor:
            if not cfg.idm_guidance:
                return self.policy.sample(feature, generator)
            # AIME-IDM: the (frozen) IDM's action posterior drives the model, the policy is its prior
            posterior = self.model.idm_dist(feature, embed)
            action_kls.append(gaussian_kl(posterior, self.policy.head(feature)))
            return torch.tanh(sample(posterior, generator))

        loss, stats = self.model.loss(
            self.obs_n[idx], None, generator=generator, beta_nll=cfg.beta_nll, policy=act, terms=cfg.aime_loss
        )
        if action_kls:
            action_kl = torch.stack(action_kls, dim=1)  # (B, T): KL of the tanh-Gaussians = of their bases
            loss = loss + cfg.idm_weight * action_kl.sum(1).mean()
            stats["loss"] = loss.item() / cfg.seq_len
            stats["action_kl"] = action_kl.mean().item()
        backward_step(loss, self.optimizer, self.policy.parameters(), "aime_loss", max_norm=cfg.grad_clip)
        return stats

    def summary(self, iteration: int, running: dict[str, float]) -> dict:
        return {
            "iterations": iteration,
            "final_loss": running.get("loss", float("nan")),
            "demo_episodes_used": len(self.data_set.train_episodes),
            "train_windows": len(self.train_starts),
        }


def train_aime_run(task, cfg: AimeConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    """Phase 2 as a run of the offline loop; ``resume=RUN_DIR`` continues exactly."""
    return train_run(task, ALGO, cfg, run, state, lambda run_: AimeFit(task, cfg, run_))


def load_aime_policy(run: Run, model: RSSM) -> TanhGaussianPolicy:
    """The trained policy of an AIME run, for ``model`` (its world model)."""
    state = run.load_checkpoint(run.task, ALGO)
    try:
        policy = TanhGaussianPolicy.from_config(state["policy_config"])
        policy.load_state_dict(state["policy"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{run.checkpoint_path}: no usable policy ({str(exc).splitlines()[0]})") from None
    if policy.config["in_dim"] != model.deter_dim + model.stoch_dim or policy.config["act_dim"] != model.act_dim:
        raise CheckpointError(f"{run.checkpoint_path}: the policy does not fit the run's world model")
    return policy.to(model.obs_mean.device).eval()


# -- evaluation ---------------------------------------------------------------------------------
class AimeAgent:
    """The policy acting on the world model's filtered state, one state per env copy: each
    ``act`` filters the new observation with the action sent before it (before the first, the
    policy's action at the zero state, as in training), then acts (``eval.rollouts.Policy``)."""

    def __init__(self, model: RSSM, policy: TanhGaussianPolicy, num_envs: int):
        self.model, self.policy = model, policy
        self.state = model.initial_state(num_envs)
        self.prev_action = policy.mode(self.state.feature)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = True, generator: torch.Generator | None = None):
        embed = self.model.embed(self.model.normalize(obs))
        self.state, _ = self.model.filter_step(self.state, self.prev_action, embed, generator, use_mean=deterministic)
        feature = self.state.feature
        self.prev_action = self.policy.mode(feature) if deterministic else self.policy.sample(feature, generator)
        return self.prev_action


@torch.no_grad()
def demo_action_mse(model: RSSM, policy: TanhGaussianPolicy, task, cfg: AimeConfig, run: Run) -> float | None:
    """Mean squared difference between the policy's (deterministic) actions along the
    demonstrations, filtered as in training, and the actions the file records (analysis only,
    never seen by training); None when the file has none. On the non-overlapping ``seq_len``
    windows of every demonstration."""
    from imitate.algos.demos import run_demos
    from imitate.data.sequences import previous_actions

    demos = run_demos(task, cfg, run)
    if demos.actions is None:
        return None
    data = Sequences(task, cfg, run, with_actions=False)
    starts = data.starts(data.train_episodes, cfg.seq_len, stride=cfg.seq_len)
    idx = starts[:, None] + torch.arange(cfg.seq_len, device=data.device)
    filtered = model.observe(
        model.normalize(data.obs[idx]), None, use_mean=True, policy=lambda feature, embed: policy.mode(feature)
    )
    prev = torch.from_numpy(previous_actions(demos.actions, demos.episode_ends)).to(data.device)[idx]
    # a window's first action precedes its first observation, which cannot show it: left out
    return ((filtered.actions[:, 1:] - prev[:, 1:]) ** 2).mean().item()


def evaluate_aime_run(run: Run, task, cfg: AimeConfig, episodes: int, video: bool = False) -> dict[str, Any]:
    """One episode in each of ``episodes`` env copies; return, success, the normalised score
    where an expert return is known, ``demo_action_mse``; the task's metrics of those episodes,
    its trajectory plot and, with ``video``, its video of them."""
    from imitate.algos.demos import demo_trajectories
    from imitate.eval.rollouts import episode_extras, evaluate_policy

    data = Sequences(task, cfg, run, with_actions=False)
    model = frozen_world_model(task, cfg, data)
    policy = load_aime_policy(run, model)
    env = task.make_env(episodes, seed=cfg.seed + 10_000, cfg=cfg, device=cfg.device)
    started = time.time()
    recorder = task.make_video_recorder(env) if video else None  # what the task's video draws
    result = evaluate_policy(AimeAgent(model, policy, episodes), env, seed=cfg.seed + 10_000, observer=recorder)
    metrics: dict[str, Any] = {**result.metrics(), "eval_seconds": round(time.time() - started, 1)}
    metrics.update(episode_extras(task, cfg, result.trajectories, run.dir, video, "aime policy", recorder))
    expert = cfg.expert_return or EXPERT_RETURNS.get(task.name, 0.0)
    if expert > 0:
        metrics.update(expert_return=expert, normalized_score=100.0 * result.mean_return / expert)
    mse = demo_action_mse(model, policy, task, cfg, run)
    if mse is not None:
        metrics["demo_action_mse"] = mse
    if task.plot:
        task.plot_trajectories(
            result.trajectories,
            demo_trajectories(run, cfg, task),
            run.plots_dir / "trajectories.png",
            title="aime policy",
        )
    return metrics
