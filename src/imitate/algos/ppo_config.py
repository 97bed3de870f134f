"""PPO's config (algos/ppo.py): every hyperparameter visible, CleanRL-style."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.config import ACTIVATIONS, ConfigError, RunConfig, option


@dataclass
class PPOConfig(RunConfig):
    """PPO on batched envs (CleanRL-style; every hyperparameter visible)."""

    num_envs: int = option(256, "envs stepped in parallel", ge=1)
    rollout_steps: int = option(32, "env steps per env per iteration", ge=1)
    total_steps: int = option(2_000_000, "env steps (all envs) to train for", ge=1)
    lr: float = option(3e-4, "Adam learning rate", gt=0)
    anneal_lr: bool = option(False, "decay the learning rate linearly to 0")
    kl_target: float = option(
        0.0,
        "adapt the learning rate to this KL per minibatch (÷1.5 above 2×, ×1.5 below ½×, within "
        "[1e-6, 1e-2], like rl_games's 'adaptive' schedule); 0 keeps lr fixed",
        ge=0,
    )
    gamma: float = option(0.99, "discount", gt=0, le=1)
    gae_lambda: float = option(0.95, "GAE λ", ge=0, le=1)
    epochs: int = option(5, "passes over each rollout", ge=1)
    minibatches: int = option(4, "minibatches per epoch", ge=1)
    clip_ratio: float = option(0.2, "PPO ratio clip (not `clip`: tasks use that key for a motion clip)", gt=0)
    value_clip: float = option(0.0, "value clipping range; 0 disables it", ge=0)
    ent_coef: float = option(0.0, "entropy bonus weight", ge=0)
    vf_coef: float = option(0.5, "value loss weight", ge=0)
    max_grad_norm: float = option(0.5, "gradient norm clip", gt=0)
    hidden: tuple[int, ...] = option((256, 256), "actor and critic hidden layer sizes", ge=1, nonempty=True)
    activation: str = option("elu", "hidden activation", choices=ACTIVATIONS)
    init_log_std: float = option(-0.5, "initial log-std of the Gaussian policy", ge=-20, le=2)
    learn_log_std: bool = option(True, "False keeps the log-std fixed at init_log_std")
    norm_obs: bool = option(True, "normalise observations by running statistics")
    norm_value: bool = option(True, "normalise value targets by running statistics")
    checkpoint_every: int = option(20, "iterations between checkpoints", ge=1)
    snapshot_every: int = option(
        0,
        "env steps between kept snapshots checkpoints/step_XXXXXXX.pt (the policy at several skill levels, "
        "for `imitate data --policy RUN@STEP`); 0: none",
        ge=0,
    )
    video_every: int = option(
        0,
        "humanoid tasks: every N iterations a video of env 0's latest finished episode in videos/, "
        "noted in TensorBoard as media/video (0: off)",
        ge=0,
    )
    eval_episodes: int = option(100, "episodes for the evaluation at the end of training", ge=1)

    def check(self) -> None:
        super().check()
        if self.anneal_lr and self.kl_target > 0:
            raise ConfigError("anneal_lr and kl_target are two learning-rate schedules: choose one")
        batch = self.num_envs * self.rollout_steps
        if batch % self.minibatches or self.minibatches > batch:
            raise ConfigError(f"num_envs*rollout_steps ({batch}) must divide into minibatches={self.minibatches}")


@dataclass
class TaskPPOConfig(PPOConfig):
    """Plain PPO on the task reward (algo ``ppo``), optionally with NEAR's success value added."""

    success_bonus: float = option(
        0.0,
        "added to the reward on success terminations (the PPO baseline of NEAR's absorbing success, docs/near.md)",
        ge=0,
    )
