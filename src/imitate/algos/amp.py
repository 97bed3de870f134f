"""AMP: PPO with an adversarial style reward (Peng et al. 2021), as a reward plug-in (docs/architecture.md#principles).

The expert pairs come from the same demonstrations NEAR's step 1 reads (``algos.demos.run_demos``:
``demos=PATH`` or oracle demos generated once into the run as ``demos.npz``), so AMP and NEAR
see the same data. Training is the on-policy loop (``algos/on_policy.py``); only ``make_reward``
is AMP's.
"""

from __future__ import annotations

from typing import Any

import torch

from imitate.algos.amp_config import AMPConfig
from imitate.algos.demos import feature_columns, keep_columns, run_demos
from imitate.algos.on_policy import evaluate_policy_run, train_policy
from imitate.rewards.adversarial import AMPReward
from imitate.rewards.base import TaskReward
from imitate.rewards.compose import ComposedReward
from imitate.utils.run import CheckpointError, Run, guarded


def make_amp_reward(task, cfg: AMPConfig, env, expert: torch.Tensor) -> ComposedReward:
    """w_task·r_task + w_style·r_style, with the absorbing-success value (``rewards/compose.py``);
    the discriminator is normalised on ``expert`` (M, 2·style), of which it reads the columns the
    task options' feature mask keeps (the humanoid's ``mask=``)."""
    if expert.shape[1] != 2 * env.style_dim:
        raise CheckpointError(
            f"demonstrations give {expert.shape[1]} features per pair, task "
            f"{task.name!r} transitions have {2 * env.style_dim}"
        )
    style = AMPReward(
        expert,
        hidden=cfg.disc.hidden,
        lr=cfg.disc.lr,
        batch_size=cfg.disc.batch_size,
        updates=cfg.disc.updates,
        w_gp=cfg.disc.w_gp,
        logit_reg=cfg.disc.logit_reg,
        weight_decay=cfg.disc.weight_decay,
        replay_size=cfg.disc.replay_size,
        style_offset=cfg.style_offset,
        seed=cfg.seed,
        device=env.device,
        columns=feature_columns(cfg),
    )
    return ComposedReward(
        {"task": (cfg.w_task, TaskReward()), "style": (cfg.w_style, style)},
        absorbing_success=cfg.absorbing_success,
        gamma=cfg.gamma,
    )


def train_amp(task, cfg: AMPConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    """A new or resumed AMP run: demos are checked first, then stored in the run, then PPO."""
    from imitate.data.dataset import Demonstrations

    if cfg.demos:  # a bad file fails before a run directory exists
        Demonstrations.load(cfg.demos, task=task.name)
    run = run or Run.create(task.name, "amp", cfg)
    with guarded(run):
        expert = run_demos(task, cfg, run).transitions()  # (M, 2·style_dim)
        return train_policy(
            task, "amp", cfg, run, state, lambda task_, cfg_, env: make_amp_reward(task_, cfg_, env, expert)
        )


def load_discriminator(run: Run):
    """The trained discriminator of an AMP run's last checkpoint."""
    from imitate.models.discriminator import Discriminator

    state = run.load_checkpoint(run.task, "amp")
    try:
        reward = state["ppo"]["reward"]
        reward = reward.get("style", reward)  # a checkpoint from before the composition: flat
        disc = Discriminator.from_config(reward["disc_config"])
        disc.load_state_dict(reward["disc"])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(
            f"{run.checkpoint_path}: no usable AMP discriminator ({str(exc).splitlines()[0]})"
        ) from None
    disc.normalizer.frozen = True
    return disc.eval().requires_grad_(False)


def evaluate_amp(run: Run, task, cfg: AMPConfig, episodes: int, video: bool = False) -> dict[str, Any]:
    """Policy evaluation (success, length, trajectories, ``video``) plus, on the maze, the
    discriminator landscape and D on expert vs evaluation-policy pairs."""
    metrics = evaluate_policy_run(run, task, cfg, episodes, video=video)
    disc = load_discriminator(run)
    expert = keep_columns(run_demos(task, cfg, run).transitions(), feature_columns(cfg))  # what D reads
    with torch.no_grad():
        metrics["d_expert_mean"] = float(disc.logits(expert).mean())
    if task.name == "maze":
        from imitate.viz.discriminator import plot_maze_discriminator_landscape

        plot_maze_discriminator_landscape(disc, expert, run.plots_dir / "discriminator_landscape.png")
    return metrics
