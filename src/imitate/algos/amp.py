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
from imitate.algos.labelled_runs import gate_option, labelled_runs
from imitate.algos.on_policy import evaluate_policy_run, train_policy
from imitate.rewards.adversarial import AMPReward
from imitate.rewards.base import RewardModule, TaskReward
from imitate.rewards.compose import ComposedReward, Labelled, common_magnitude
from imitate.rewards.gate import GatedShare, ProximityGate
from imitate.utils.run import CheckpointError, Run, guarded


def make_amp_reward(task, cfg: AMPConfig, env, expert: torch.Tensor | None) -> ComposedReward:
    """w_task·r_task + w_style·r_style, with the absorbing-success value (``rewards/compose.py``);
    the discriminator is normalised on ``expert`` (M, 2·style), of which it reads the columns the
    task options' feature mask keeps (the humanoid's ``mask=``). With ``discriminators=`` the
    style term is the scaled, weighted sum of several (``composed_styles``; ``expert`` unused)."""
    styles: dict[str, tuple[float, RewardModule]]
    if cfg.discriminators:
        styles = composed_styles(task, cfg, env)
    else:
        assert expert is not None, "a single discriminator trains on the run's demonstrations"
        styles = {"style": (cfg.w_style, new_discriminator(task, cfg, env, expert, feature_columns(cfg)))}
    return ComposedReward(
        {"task": (cfg.w_task, TaskReward()), **styles}, absorbing_success=cfg.absorbing_success, gamma=cfg.gamma
    )


def new_discriminator(
    task, cfg: AMPConfig, env, expert: torch.Tensor, columns, hidden=None, seed: int = 0
) -> AMPReward:
    """An AMP style term on ``expert`` (M, 2·style) pairs, reading ``columns`` of them."""
    if expert.shape[1] != 2 * env.style_dim:
        raise CheckpointError(
            f"demonstrations give {expert.shape[1]} features per pair, task "
            f"{task.name!r} transitions have {2 * env.style_dim}"
        )
    return AMPReward(
        expert,
        hidden=hidden or cfg.disc.hidden,
        lr=cfg.disc.lr,
        batch_size=cfg.disc.batch_size,
        updates=cfg.disc.updates,
        w_gp=cfg.disc.w_gp,
        logit_reg=cfg.disc.logit_reg,
        weight_decay=cfg.disc.weight_decay,
        replay_size=cfg.disc.replay_size,
        style_offset=cfg.style_offset,
        seed=cfg.seed + seed,
        device=env.device,
        columns=columns,
    )


def composed_styles(task, cfg: AMPConfig, env) -> dict[str, tuple[float, RewardModule]]:
    """``discriminators=LABEL:RUN,...``: part ``style_<label>`` per AMP run, weighted
    w_style · w_i · s_i (w_i relative, ``style_weights``). Each starts from its run's trained
    discriminator (weights and normaliser), reads that run's feature mask and keeps training on
    that run's demonstrations against this policy, as AMP must; s_i = |mean r_0| / |mean r_i|,
    each term's AMP reward on its own expert pairs (``common_magnitude``). ``style_gate=LABEL:M``
    wraps every term in the proximity gate's renormalised share (``GatedShare``)."""
    from imitate.algos.demos import trained_demos

    styles: dict[str, AMPReward] = {}
    for i, (label, path) in enumerate(labelled_runs(cfg.discriminators, "discriminators")):
        trained = discriminator_state(Run.open(path))
        expert = trained_demos(task, path).transitions()
        style = new_discriminator(
            task, cfg, env, expert, trained.get("columns"), tuple(trained["disc_config"]["hidden"]), seed=i
        )
        style.disc.load_state_dict(trained["disc"])
        style.disc.normalizer.frozen = True
        styles[label] = style
    means = {label: float(s.style_reward(s.expert).mean()) for label, s in styles.items()}
    scales = common_magnitude(means, "discriminator")
    weights = cfg.style_weights or (1.0,) * len(styles)
    shares = {label: w / sum(weights) for label, w in zip(styles, weights)}
    parts: dict[str, RewardModule] = {label: Labelled(label, style) for label, style in styles.items()}
    if cfg.style_gate:  # NEAR's strike rule for AMP: the gated term counts only near the goal
        gate = ProximityGate(*gate_option(cfg.style_gate, "style_gate"))
        parts = {label: GatedShare(part, label, gate, shares) for label, part in parts.items()}
    return {f"style_{label}": (cfg.w_style * shares[label] * s, parts[label]) for label, s in zip(styles, scales)}


def train_amp(task, cfg: AMPConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    """A new or resumed AMP run: demos are checked first, then stored in the run, then PPO."""
    from imitate.data.dataset import Demonstrations

    if cfg.demos:  # a bad file fails before a run directory exists
        Demonstrations.load(cfg.demos, task=task.name)
    run = run or Run.create(task.name, "amp", cfg)
    with guarded(run):
        # (M, 2·style_dim); composed discriminators bring their runs' own
        expert = None if cfg.discriminators else run_demos(task, cfg, run).transitions()
        return train_policy(
            task, "amp", cfg, run, state, lambda task_, cfg_, env: make_amp_reward(task_, cfg_, env, expert)
        )


def discriminator_state(run: Run) -> dict:
    """The one style term's state (discriminator and its config) of an AMP run's last checkpoint."""
    state = run.load_checkpoint(run.task, "amp")
    reward = state.get("ppo", {}).get("reward", {})
    reward = reward.get("style", reward)  # a checkpoint from before the composition: flat
    if not isinstance(reward, dict) or "disc" not in reward or "disc_config" not in reward:
        raise CheckpointError(f"{run.checkpoint_path}: no single AMP discriminator in the checkpoint")
    return reward


def load_discriminator(run: Run):
    """The trained discriminator of an AMP run's last checkpoint."""
    from imitate.models.discriminator import Discriminator

    reward = discriminator_state(run)
    try:
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
    if cfg.discriminators:  # several discriminators: the policy metrics only
        return metrics
    disc = load_discriminator(run)
    expert = keep_columns(run_demos(task, cfg, run).transitions(), feature_columns(cfg))  # what D reads
    with torch.no_grad():
        metrics["d_expert_mean"] = float(disc.logits(expert).mean())
    if task.name == "maze":
        from imitate.viz.discriminator import plot_maze_discriminator_landscape

        plot_maze_discriminator_landscape(disc, expert, run.plots_dir / "discriminator_landscape.png")
    return metrics
