"""Behavioural cloning's config (algos/bc.py, algos/bc_common.py)."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.config import ACTIVATIONS, RunConfig, option

LR_SCHEDULES = ("cosine", "exponential")


@dataclass
class BCConfig(RunConfig):
    """Behavioural cloning on (observation, action) demos: MSE regression or a mixture density net."""

    demos: str = option(
        "",
        "demos with actions (.npz, Minari dataset dir or minari:ID); empty: generate oracle demos into the run",
    )
    demo_episodes: int = option(2000, "oracle episodes when demos is empty", ge=1)
    iterations: int = option(10_000, "gradient steps", ge=1)
    batch_size: int = option(256, "samples per step", ge=1)
    lr: float = option(1e-3, "learning rate", gt=0)
    lr_schedule: str = option(
        "cosine",
        "cosine: to lr * lr_decay at the last step; exponential: lr * lr_decay_rate ** (step / lr_decay_steps), IBC's",
        choices=LR_SCHEDULES,
    )
    lr_decay: float = option(0.1, "cosine decay of the learning rate to lr * lr_decay at the last step", ge=0, le=1)
    lr_decay_steps: int = option(100, "exponential schedule: steps over which the rate falls by lr_decay_rate", ge=1)
    lr_decay_rate: float = option(0.99, "exponential schedule: factor per lr_decay_steps steps", gt=0, le=1)
    weight_decay: float = option(0.0, "AdamW weight decay", ge=0)
    width: int = option(256, "ResNet MLP width", ge=1)
    blocks: int = option(2, "pre-activation residual blocks of 2 linear layers each (IBC's depth = 2 * blocks)", ge=1)
    activation: str = option("relu", "hidden activation", choices=ACTIVATIONS)
    dropout: float = option(0.0, "dropout probability in the residual blocks (ibc-*, mse)", ge=0, lt=1)
    spectral_norm: bool = option(False, "spectrally normalise every linear layer of the net (ibc-*, mse)")
    mdn_components: int = option(8, "mixture components (mdn only)", ge=1)
    history: int = option(
        1,
        "observation frames the policy sees, oldest first; the first frame is tiled at reset, as IBC does",
        ge=1,
        le=64,
    )
    checkpoint_every: int = option(1000, "iterations between checkpoints", ge=1)
    eval_episodes: int = option(100, "rollouts at the end of training (success rate)", ge=1)
