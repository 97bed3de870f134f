"""CEM model-predictive control scored by a learned NEAR energy (NEAR's planning baseline).

At every real step, for each of P real envs: sample ``samples`` action sequences of length
``horizon`` from a per-env Gaussian, roll all P·samples of them out in *one* batched copy of
the env started from the real envs' saved state (``get_state``/``set_state``), score each by
the summed energy of its predicted transition pairs (plus, optionally, the task reward), refit
the Gaussian to the top ``elite_frac``, repeat ``iterations`` times, then execute the mean's
first action. The mean is shifted by one step to warm-start the next plan.

The env is its own perfect model here (the planner reads the simulator), so this measures how
good the energy is as a planning objective, not model learning.

As a run, ``imitate train TASK cem energy=RUN_DIR`` records the config and the energy model it
uses; evaluation (at the end of ``train``, or ``imitate eval``) plans the episodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from imitate.algos.cem_config import CEMConfig
from imitate.config import ConfigError
from imitate.tasks.core.vecenv import VecEnv
from imitate.utils.run import Run

GLOBAL_STATE_KEYS = ("rng",)  # env state entries shared by all copies, never tiled


def tile_state(state: dict[str, Any], num_envs: int, repeats: int) -> dict[str, Any]:
    """Each env's state ``repeats`` times, consecutively: per-env tensors (leading dim
    ``num_envs``) are repeat-interleaved; global entries (``GLOBAL_STATE_KEYS``, scalars)
    are kept as they are."""
    out = {}
    for key, value in state.items():
        if (
            key not in GLOBAL_STATE_KEYS
            and isinstance(value, torch.Tensor)
            and value.ndim >= 1
            and value.shape[0] == num_envs
        ):
            out[key] = value.repeat_interleave(repeats, dim=0)
        else:
            out[key] = value
    return out


class CEMPlanner:
    """Batched cross-entropy-method planner over ``num_envs`` real envs.

    ``plan_env`` must hold ``num_envs * samples`` copies and have ``get_state``/``set_state``;
    ``score(transitions (B, F)) -> (B,)`` rates predicted pairs (higher is better).
    A sequence's score is Σ_h [w_energy·score + w_task·r_task]; once a candidate's episode ends
    inside the horizon, its last step's value is held for the remaining steps (the end is an
    absorbing state), so finishing early is neither free nor penalised by the missing terms.
    """

    def __init__(
        self,
        plan_env: VecEnv,
        score: Callable[[torch.Tensor], torch.Tensor],
        num_envs: int,
        horizon: int = 8,
        samples: int = 160,
        elite_frac: float = 0.1,
        iterations: int = 3,
        init_std: float = 0.5,
        min_std: float = 0.05,
        w_energy: float = 1.0,
        w_task: float = 0.0,
        seed: int = 0,
    ):
        if plan_env.num_envs != num_envs * samples:
            raise ValueError(
                f"planning env needs {num_envs}×{samples} = {num_envs * samples} copies, has {plan_env.num_envs}"
            )
        if not (hasattr(plan_env, "get_state") and hasattr(plan_env, "set_state")):
            raise ConfigError(f"{type(plan_env).__name__} cannot save/restore its state; CEM needs get_state/set_state")
        self.env, self.score = plan_env, score
        self.num_envs, self.horizon, self.samples = num_envs, horizon, samples
        self.num_elites = max(1, int(round(elite_frac * samples)))
        self.iterations, self.init_std, self.min_std = iterations, init_std, min_std
        self.w_energy, self.w_task = w_energy, w_task
        self.act_dim = plan_env.act_dim
        self.device = plan_env.device
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.mean = torch.zeros(num_envs, horizon, self.act_dim, device=self.device)  # (P, H, A)

    def reset(self, mask: torch.Tensor | None = None) -> None:
        """Forget the warm-start plan (of the envs in ``mask``; all by default)."""
        if mask is None:
            self.mean.zero_()
        else:
            self.mean[mask] = 0.0

    @torch.no_grad()
    def rollout_scores(self, start: dict[str, Any], actions: torch.Tensor) -> torch.Tensor:
        """Scores (P, S) of action sequences (P, S, H, A) from the tiled start state."""
        P, S, H, A = actions.shape
        self.env.set_state(start)
        total = torch.zeros(P * S, device=self.device)
        held = torch.zeros(P * S, device=self.device)
        alive = torch.ones(P * S, dtype=torch.bool, device=self.device)
        for h in range(H):
            step = self.env.step(actions[:, :, h].reshape(P * S, A))
            value = self.w_energy * self.score(step.transition).float()
            if self.w_task:
                value = value + self.w_task * step.reward.float()
            held = torch.where(alive, value, held)
            total += held
            alive &= ~step.done
        return total.reshape(P, S)

    @torch.no_grad()
    def plan(self, real_state: dict[str, Any]) -> torch.Tensor:
        """First actions (P, A) of the refined plans from the real envs' state."""
        P, S, H, A, K = self.num_envs, self.samples, self.horizon, self.act_dim, self.num_elites
        start = tile_state(real_state, P, S)
        mean = self.mean.clone()
        std = torch.full_like(mean, self.init_std)
        for _ in range(self.iterations):
            noise = torch.randn((P, S, H, A), generator=self.generator, device=self.device)
            actions = (mean[:, None] + std[:, None] * noise).clamp(-1.0, 1.0)  # (P, S, H, A)
            actions[:, 0] = mean.clamp(-1.0, 1.0)  # the current mean always competes
            scores = self.rollout_scores(start, actions)  # (P, S)
            elite_idx = scores.topk(K, dim=1).indices  # (P, K)
            elites = actions.gather(1, elite_idx[:, :, None, None].expand(P, K, H, A))  # (P, K, H, A)
            mean = elites.mean(1)
            std = elites.std(1, unbiased=False).clamp_min(self.min_std) if K > 1 else std.clamp_min(self.min_std)
        self.mean = torch.cat([mean[:, 1:], mean[:, -1:]], dim=1)  # warm start: shift by one step
        return mean[:, 0]


def energy_scorer(model, level: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """Energy E(pair, σ_level) (B,) of raw transition pairs, from a frozen NCSN."""
    return lambda transitions: model.energy(model.select(transitions), level)


def run_cem_episodes(task, cfg: CEMConfig, model, episodes: int, seed: int) -> dict[str, Any]:
    """Plan ``episodes`` episodes in parallel; success, length, time, and the trajectories."""
    real = task.make_env(episodes, seed=seed, device=cfg.device, cfg=cfg)
    plan_env = task.make_env(episodes * cfg.samples, seed=seed + 1, device=cfg.device, cfg=cfg)
    level = model.num_levels - 1 if cfg.level < 0 else cfg.level
    if not 0 <= level < model.num_levels:
        raise ConfigError(f"level {cfg.level} out of range 0..{model.num_levels - 1} (or -1 for the last)")
    planner = CEMPlanner(
        plan_env,
        energy_scorer(model, level),
        episodes,
        cfg.horizon,
        cfg.samples,
        cfg.elite_frac,
        cfg.iterations,
        cfg.init_std,
        cfg.min_std,
        cfg.w_energy,
        cfg.w_task,
        seed=seed,
    )
    max_steps = cfg.max_steps or real.max_episode_steps
    obs = real.reset(seed=seed)
    n = episodes
    active = torch.ones(n, dtype=torch.bool, device=real.device)
    success = torch.zeros(n, dtype=torch.bool, device=real.device)
    length = torch.zeros(n, dtype=torch.long, device=real.device)
    path = [obs.clone()]
    started = time.time()
    for _ in range(max_steps):
        action = planner.plan(real.get_state())
        step = real.step(action)
        length += active.long()
        success |= step.success & active
        path.append(torch.where(active[:, None], step.final_obs, path[-1]))
        active &= ~step.done
        if not active.any():
            break
    seconds = time.time() - started
    stacked = torch.stack(path, 1).cpu().numpy()  # (P, T+1, obs_dim)
    trajs = [stacked[i, : int(length[i]) + 1] for i in range(n)]
    return {
        "success_rate": float(success.float().mean()),
        "episode_length": float(length.float().mean()),
        "episodes": n,
        "plan_seconds": round(seconds, 1),
        "seconds_per_episode": round(seconds / n, 2),
        "energy_level": level,
        "energy_sigma": float(model.sigmas[level]),
        "trajectories": trajs,
    }


def _energy_model(task, cfg: CEMConfig):
    from imitate.algos.energy import load_energy_model

    env = task.make_env(1, seed=cfg.seed, cfg=cfg)
    if not (hasattr(env, "get_state") and hasattr(env, "set_state")):
        raise ConfigError(f"task {task.name!r} cannot save/restore its env state, which CEM needs")
    return load_energy_model(cfg.energy, task.name, 2 * env.style_dim).to(cfg.device)


def train_cem(task, cfg: CEMConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    """CEM learns nothing: check the energy run (the runner trains NEAR step 1 first when the
    command names none, ``Algo.requires``), create the run, record which energy model it plans
    with. Planning happens in evaluation."""
    if not cfg.energy:
        raise ConfigError("cem needs energy=RUN_DIR, a NEAR step-1 run")
    model = _energy_model(task, cfg)  # fails before the run directory exists
    run = run or Run.create(task.name, "cem", cfg)
    run.begin(cfg, state)
    run.save_checkpoint({"energy": cfg.energy, "energy_config": dict(model.config)})
    return run, {}


def evaluate_cem(run: Run, task, cfg: CEMConfig, episodes: int, video: bool = False) -> dict[str, Any]:
    """Plan ``episodes`` episodes from the evaluation seed; metrics, the task's metrics of those
    episodes, the trajectory plot and, with ``video``, the task's video of them."""
    from imitate.algos.demos import demo_trajectories
    from imitate.eval.rollouts import episode_extras

    model = _energy_model(task, cfg)
    result = run_cem_episodes(task, cfg, model, episodes, seed=cfg.seed + 10_000)
    trajs = result.pop("trajectories")
    result.update(episode_extras(task, cfg, trajs, run.dir, video, title="CEM planner"))
    if task.plot:
        task.plot_trajectories(
            trajs,
            demo_trajectories(run, cfg, task),
            run.plots_dir / "trajectories.png",
            title="CEM planner (NEAR energy)",
        )
    return result
