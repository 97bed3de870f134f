"""Proximal Policy Optimisation for batched envs, with a pluggable reward.

Read top to bottom: collect a rollout of ``rollout_steps`` × ``num_envs`` transitions, ask the
reward module for rewards (and let it learn from the rollout), compute GAE advantages, then
``epochs`` passes of clipped-objective minibatch updates. Time-limit truncations bootstrap from
the value of the final observation; terminations do not.

Checkpoints are exact: besides the networks, optimiser and generator they hold the env's state
(``get_state``), the current observations and the per-env episode accumulators, so a resumed
run continues mid-episode as the uninterrupted one would. An env without ``get_state`` (gym
envs) is reset on resume instead, the only difference from an uninterrupted run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from imitate.algos.ppo_config import PPOConfig
from imitate.models.actor_critic import ActorCritic
from imitate.rewards.base import RewardModule
from imitate.rewards.compose import task_reward
from imitate.tasks.core.vecenv import StepResult, VecEnv
from imitate.utils.numerics import at_iteration, backward_step
from imitate.utils.progress import progress_bar


class RolloutObserver(Protocol):
    """What ``PPO.train`` tells an observer: each env step (before and after) and each iteration."""

    def before_step(self) -> None: ...

    def after_step(self, step: StepResult) -> None: ...

    def after_iteration(self, iteration: int, global_step: int) -> None: ...


@dataclass
class EpisodeStats:
    """Running per-env episode accumulators and what finished episodes reported."""

    returns: list[float]
    task_returns: list[float]
    lengths: list[int]
    successes: list[float]

    @classmethod
    def empty(cls) -> EpisodeStats:
        return cls([], [], [], [])

    def summary(self) -> dict[str, float]:
        if not self.lengths:
            return {}
        mean = lambda xs: float(sum(xs) / len(xs))  # noqa: E731
        return {
            "episode/return": mean(self.returns),
            "episode/task_return": mean(self.task_returns),
            "episode/length": mean(self.lengths),
            "episode/success_rate": mean(self.successes),
            "episode/count": float(len(self.lengths)),
        }


class PPO:
    def __init__(self, env: VecEnv, cfg: PPOConfig, reward: RewardModule | None = None):
        self.env, self.cfg = env, cfg
        self.reward = reward if reward is not None else task_reward(getattr(cfg, "success_bonus", 0.0))
        self.device = env.device
        self.generator = torch.Generator(device=self.device).manual_seed(cfg.seed)
        torch.manual_seed(cfg.seed)  # network initialisation
        self.model = ActorCritic(
            env.obs_dim, env.act_dim, cfg.hidden, cfg.activation, cfg.init_log_std, cfg.learn_log_std
        ).to(self.device)
        if not cfg.norm_obs:
            self.model.obs_norm.frozen = True
        if not cfg.norm_value:
            self.model.value_norm.frozen = True
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(params, lr=cfg.lr, eps=1e-5)
        self.iteration = 0
        self.global_step = 0
        self.rollout: dict[str, torch.Tensor] | None = None  # obs and episode accumulators between rollouts
        self.batch_size = cfg.num_envs * cfg.rollout_steps
        self.num_iterations = max(1, math.ceil(cfg.total_steps / self.batch_size))

    # -- checkpointing -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "reward": self.reward.state_dict(),
            "iteration": self.iteration,
            "global_step": self.global_step,
            "generator": self.generator.get_state(),
            "obs_dim": self.env.obs_dim,
            "act_dim": self.env.act_dim,
        }
        if self.rollout is not None and hasattr(self.env, "get_state"):
            state["rollout"] = {k: v.clone() for k, v in self.rollout.items()}
            state["env"] = self.env.get_state()
        return state

    def load_state_dict(self, state: dict) -> None:
        if (state["obs_dim"], state["act_dim"]) != (self.env.obs_dim, self.env.act_dim):
            raise ValueError(
                f"checkpoint has obs/act dims {state['obs_dim']}/{state['act_dim']}, "
                f"the env has {self.env.obs_dim}/{self.env.act_dim}"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.reward.load_state_dict(state["reward"])
        self.iteration, self.global_step = state["iteration"], state["global_step"]
        self.generator.set_state(state["generator"])
        same_envs = "rollout" in state and len(state["rollout"]["obs"]) == self.cfg.num_envs
        if same_envs and hasattr(self.env, "set_state"):  # else (num_envs= changed) new episodes
            self.env.set_state(state["env"])  # raises here, before the run is touched, if it does not fit
            self.rollout = {k: v.to(self.device) for k, v in state["rollout"].items()}

    def _start_rollouts(self) -> dict[str, torch.Tensor]:
        """Fresh episodes in every env (a new run, or a resumed one whose env cannot be restored)."""
        N = self.cfg.num_envs
        return {
            "obs": self.env.reset(seed=self.cfg.seed + self.iteration),
            "ep_return": torch.zeros(N, device=self.device),
            "ep_task": torch.zeros(N, device=self.device),
            "ep_len": torch.zeros(N, dtype=torch.long, device=self.device),
        }

    # -- training ------------------------------------------------------------------------------
    def train(
        self,
        log: Callable[[int, dict[str, float]], None] | None = None,
        checkpoint: Callable[[dict], None] | None = None,
        snapshot: Callable[[dict], object] | None = None,
        observer: RolloutObserver | None = None,
    ) -> dict[str, float]:
        """Train until ``total_steps``; returns the last iteration's statistics. ``snapshot`` gets
        the state after the first iteration past each multiple of ``snapshot_every`` env steps;
        ``observer`` sees every env step and every iteration's end (a training video); it changes
        nothing."""
        cfg, env, model = self.cfg, self.env, self.model
        T, N = cfg.rollout_steps, cfg.num_envs
        if self.rollout is None:
            self.rollout = self._start_rollouts()
        r = self.rollout
        obs, ep_return, ep_task, ep_len = r["obs"], r["ep_return"], r["ep_task"], r["ep_len"]
        stats: dict[str, float] = {}
        bar = progress_bar(
            total=self.num_iterations * self.batch_size,
            initial=self.global_step,
            desc="ppo",
            unit="step",
            enabled=cfg.progress,
        )
        while self.iteration < self.num_iterations:
            if cfg.anneal_lr:
                frac = 1.0 - self.iteration / self.num_iterations
                self.optimizer.param_groups[0]["lr"] = frac * cfg.lr
            buf_raw = torch.zeros(T, N, env.obs_dim, device=self.device)
            buf_obs = torch.zeros(T, N, env.obs_dim, device=self.device)  # normalised
            buf_act = torch.zeros(T, N, env.act_dim, device=self.device)
            buf_logp = torch.zeros(T, N, device=self.device)
            buf_val = torch.zeros(T, N, device=self.device)
            buf_rew = torch.zeros(T, N, device=self.device)
            buf_done = torch.zeros(T, N, device=self.device)
            transitions = []
            episodes = EpisodeStats.empty()
            term_sums: dict[str, torch.Tensor] = {}  # stays on device: no per-step sync
            with torch.no_grad():
                for t in range(T):
                    obs_n = model.normalize_obs(obs)
                    dist = model.distribution(obs_n)
                    action = dist.mean + dist.stddev * torch.randn(
                        dist.mean.shape, generator=self.generator, device=self.device
                    )
                    if observer is not None:
                        observer.before_step()
                    step = env.step(action.clamp(-1.0, 1.0))
                    if observer is not None:
                        observer.after_step(step)
                    reward = self.reward(obs, action, step)
                    ep_return += reward  # before the truncation bootstrap: not part of the return
                    for key, value in getattr(self.reward, "last_terms", {}).items():
                        term_sums[key] = term_sums.get(key, 0.0) + value.float().mean() / T
                    if step.truncated.any():  # bootstrap through time limits
                        final_v = model.value(model.normalize_obs(step.final_obs))
                        reward = reward + cfg.gamma * final_v * step.truncated.float()
                    buf_raw[t], buf_obs[t], buf_act[t] = obs, obs_n, action
                    buf_logp[t] = dist.log_prob(action).sum(-1)
                    buf_val[t] = model.value(obs_n)
                    buf_rew[t], buf_done[t] = reward, step.done.float()
                    transitions.append(step.transition)
                    ep_task += step.reward
                    ep_len += 1
                    done = step.done
                    if done.any():
                        episodes.returns += ep_return[done].tolist()
                        episodes.task_returns += ep_task[done].tolist()
                        episodes.lengths += ep_len[done].tolist()
                        episodes.successes += step.success[done].float().tolist()
                        ep_return[done], ep_task[done], ep_len[done] = 0.0, 0.0, 0
                    obs = step.obs
                next_value = model.value(model.normalize_obs(obs))
                advantages = self._gae(buf_rew, buf_val, buf_done, next_value)
                returns = advantages + buf_val
            with at_iteration(self.iteration + 1):
                reward_stats = self.reward.update(torch.cat(transitions))
                model.value_norm.update(returns.reshape(-1, 1))
                losses = self._update(buf_obs, buf_act, buf_logp, buf_val, advantages, returns)
            model.obs_norm.update(buf_raw.reshape(-1, env.obs_dim))  # used from the next rollout on
            self.rollout = {"obs": obs, "ep_return": ep_return, "ep_task": ep_task, "ep_len": ep_len}
            self.iteration += 1
            self.global_step += self.batch_size
            stats = {
                **episodes.summary(),
                **losses,
                **reward_stats,
                **{f"reward/{k}": float(v) for k, v in term_sums.items()},
                "policy/action_std": float(model.log_std.detach().exp().mean()),
                "policy/learning_rate": float(self.optimizer.param_groups[0]["lr"]),
            }
            if log is not None:
                log(self.global_step, stats)
            if observer is not None:
                observer.after_iteration(self.iteration, self.global_step)
            if checkpoint is not None and (
                self.iteration % cfg.checkpoint_every == 0 or self.iteration == self.num_iterations
            ):
                checkpoint(self.state_dict())
            if snapshot is not None and self._snapshot_due():
                snapshot(self.state_dict())
            bar.update(self.batch_size)
            if "episode/success_rate" in stats:
                bar.set_postfix(success=f"{stats['episode/success_rate']:.2f}", ret=f"{stats['episode/return']:.2f}")
        bar.close()
        return stats

    def _snapshot_due(self) -> bool:
        every = self.cfg.snapshot_every
        return every > 0 and self.global_step // every > (self.global_step - self.batch_size) // every

    def _gae(self, rewards, values, dones, next_value):  # all (T, N) except next_value (N,)
        cfg = self.cfg
        advantages = torch.zeros_like(rewards)
        last = torch.zeros_like(next_value)
        for t in reversed(range(rewards.shape[0])):
            nonterminal = 1.0 - dones[t]
            following = next_value if t == rewards.shape[0] - 1 else values[t + 1]
            delta = rewards[t] + cfg.gamma * following * nonterminal - values[t]
            last = delta + cfg.gamma * cfg.gae_lambda * nonterminal * last
            advantages[t] = last
        return advantages

    def _update(self, obs_n, actions, old_logp, old_values, advantages, returns) -> dict[str, float]:
        cfg, model = self.cfg, self.model
        obs_n = obs_n.reshape(-1, obs_n.shape[-1])
        actions = actions.reshape(-1, actions.shape[-1])
        old_logp, advantages = old_logp.reshape(-1), advantages.reshape(-1)
        target_n = model.value_norm.normalize(returns.reshape(-1, 1))[:, 0]
        old_v_n = model.value_norm.normalize(old_values.reshape(-1, 1))[:, 0]
        mb_size = self.batch_size // cfg.minibatches
        sums = {
            "loss/policy": 0.0,
            "loss/value": 0.0,
            "loss/entropy": 0.0,
            "loss/approx_kl": 0.0,
            "loss/clip_frac": 0.0,
        }
        count = 0
        for _ in range(cfg.epochs):
            order = torch.randperm(self.batch_size, generator=self.generator, device=self.device)
            for start in range(0, self.batch_size, mb_size):
                idx = order[start : start + mb_size]
                dist = model.distribution(obs_n[idx])
                logp = dist.log_prob(actions[idx]).sum(-1)
                log_ratio = logp - old_logp[idx]
                ratio = log_ratio.exp()
                adv = advantages[idx]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - cfg.clip_ratio, 1 + cfg.clip_ratio)).mean()
                v = model.value_normalized(obs_n[idx])
                value_loss = (v - target_n[idx]).pow(2)
                if cfg.value_clip > 0:
                    v_clipped = old_v_n[idx] + (v - old_v_n[idx]).clamp(-cfg.value_clip, cfg.value_clip)
                    value_loss = torch.max(value_loss, (v_clipped - target_n[idx]).pow(2))
                value_loss = 0.5 * value_loss.mean()
                entropy = dist.entropy().sum(-1).mean()
                loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy
                backward_step(loss, self.optimizer, model.parameters(), "ppo_loss", cfg.max_grad_norm)
                with torch.no_grad():
                    approx_kl = float(((ratio - 1) - log_ratio).mean())
                    sums["loss/policy"] += float(policy_loss)
                    sums["loss/value"] += float(value_loss)
                    sums["loss/entropy"] += float(entropy)
                    sums["loss/approx_kl"] += approx_kl
                    sums["loss/clip_frac"] += float(((ratio - 1).abs() > cfg.clip_ratio).float().mean())
                count += 1
                if cfg.kl_target > 0:
                    self._adapt_lr(approx_kl)
        return {k: v / count for k, v in sums.items()}

    def _adapt_lr(self, approx_kl: float) -> None:
        """rl_games's 'adaptive' rule: the step size follows the policy's KL change. The lr lives
        in the optimiser's state, so checkpoints and resume carry it."""
        group, target = self.optimizer.param_groups[0], self.cfg.kl_target
        if approx_kl > 2.0 * target:
            group["lr"] = max(group["lr"] / 1.5, 1e-6)
        elif approx_kl < 0.5 * target:
            group["lr"] = min(group["lr"] * 1.5, 1e-2)


def load_policy(run, task, cfg, path=None):
    """The trained actor-critic of a PPO-based run, in eval mode, checked against the task;
    ``path``: another checkpoint of the run (a snapshot) instead of ``latest.pt``."""
    return load_policy_state(run, task, cfg, path)[0]


def load_policy_state(run, task, cfg, path=None) -> tuple[ActorCritic, dict]:
    """``load_policy`` and the PPO state it came from (its ``global_step``, ...)."""
    from imitate.utils.run import CheckpointError, load_checkpoint

    path = run.checkpoint_path if path is None else path
    state = load_checkpoint(path, run.task, run.algo)
    ppo = PPO(task.make_env(1, seed=cfg.seed, cfg=cfg), cfg)
    try:
        ppo.model.load_state_dict(state["ppo"]["model"])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: policy does not fit task {run.task!r} ({str(exc).splitlines()[0]})") from None
    return ppo.model.eval(), state["ppo"]
