"""AIME phase 2's config (algos/aime.py): a policy trained through a frozen world model so that
the model finds the expert's observation-only demonstrations likely."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.config import ACTIVATIONS, RunConfig, option

AIME_LOSSES = ("elbo", "kl", "rec")  # the world model's (models/rssm.py LOSS_TERMS), kept here without torch
# The expert returns AIME's score divides by (its paper, DeepMind Control, action repeat 2).
EXPERT_RETURNS = {"walker-stand": 957.9, "walker-walk": 943.8, "walker-run": 604.1, "cheetah-run": 888.7}


@dataclass
class AimeConfig(RunConfig):
    """AIME phase 2: a tanh-Gaussian policy on the frozen world model's latent state, trained by
    the ELBO of observation-only demonstrations under its actions."""

    world_model: str = option("", "a world-model run of this task (phase 1); empty: train one first")
    demos: str = option("", "expert demonstrations (any actions they hold are ignored); empty: oracle demos")
    demo_episodes: int = option(100, "oracle episodes when demos is empty (AIME: 100 expert trajectories)", ge=1)
    iterations: int = option(2000, "gradient steps (AIME: 500 epochs of 100 = 50,000)", ge=1)
    batch_size: int = option(16, "sequences per step (AIME: 50)", ge=1)
    seq_len: int = option(32, "steps per training sequence, a window inside one demonstration (AIME: 50)", ge=2)
    lr: float = option(3e-4, "Adam learning rate of the policy (AIME's)", gt=0)
    grad_clip: float = option(100.0, "gradient-norm clip of the summed-over-time loss (AIME's)", gt=0)
    aime_loss: str = option(
        "elbo",
        "what the policy maximises: elbo (AIME), kl (the KL term only) or rec (reconstruction only)",
        choices=AIME_LOSSES,
    )
    idm_guidance: bool = option(
        False, "actions from the world model's IDM (world-model idm=true), the policy pulled to it by a KL (AIME-IDM)"
    )
    idm_weight: float = option(1.0, "weight of KL(IDM || policy) with idm_guidance (AIME: the KL scale, 1)", ge=0)
    beta_nll: bool = option(True, "weight each dimension's NLL and the KL by the detached decoder std (AIME's)")
    policy_units: int = option(64, "hidden units of the policy's two MLPs (mean, std)", ge=1)
    policy_layers: int = option(2, "hidden layers of the policy's MLPs (AIME: 2)", ge=1)
    policy_activation: str = option("elu", "hidden activation of the policy's MLPs", choices=ACTIVATIONS)
    policy_min_std: float = option(0.01, "floor added to the policy's std", gt=0)
    expert_return: float = option(
        0.0, "the expert's return for the normalised score; 0: the task's known one (dmc), else none", ge=0
    )
    eval_episodes: int = option(100, "evaluation episodes in the env (AIME: 100)", ge=1)
    checkpoint_every: int = option(500, "iterations between checkpoints", ge=1)
