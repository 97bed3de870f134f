"""NEAR step 1's config (algos/energy.py), and the NCSN noise ladders it bounds levels by."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.config import RunConfig, option

# level indices without importing torch. A test checks they agree with the model.
NCSN_LEVELS = {"v2": 50, "v1": 10}
# Named points of a ladder of n levels (index 0 is the largest σ), for NEAR's noise ablations
# (``noise_level=``) and the energy metrics; the same names mean the same index in both.
LEVEL_NAMES = ("largest", "middle", "smallest")


def named_level(name: str, num_levels: int) -> int:
    """The index of the ``largest``, ``middle`` (n // 2) or ``smallest`` σ of ``num_levels``."""
    return {"largest": 0, "middle": num_levels // 2, "smallest": num_levels - 1}[name]


@dataclass
class EnergyConfig(RunConfig):
    """NEAR step 1: an NCSN energy model of expert transitions by denoising score matching."""

    demos: str = option(
        "", "demonstrations (.npz, Minari dataset dir or minari:ID); empty: generate oracle demos into the run"
    )
    demo_episodes: int = option(600, "oracle episodes when demos is empty", ge=1)
    version: str = option(
        "v2", "v2: E = f(x)/sigma (default); v1: level embedding (ablation)", choices=tuple(NCSN_LEVELS)
    )
    iterations: int = option(20_000, "gradient steps", ge=1)
    batch_size: int = option(128, "transitions per step", ge=1)
    lr: float = option(1e-4, "Adam learning rate", gt=0)
    ema_decay: float = option(0.999, "decay of the EMA weights used as the model", ge=0, lt=1)
    hidden: tuple[int, ...] = option((512, 512), "encoder/decoder layer sizes", ge=1, nonempty=True)
    checkpoint_every: int = option(2000, "iterations between checkpoints", ge=1)
