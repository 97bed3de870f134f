"""AIME phase 1's config (algos/world_model.py): an RSSM world model trained by its ELBO."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.config import ACTIVATIONS, ConfigError, RunConfig, option

# AIME's sizes on the DeepMind Control walker (its rssm world model, batch 50 sequences of 50
# steps; docs/aime.md). The defaults below are a CPU model that trains in minutes; these are
# one override away: `deter=512 stoch=128 units=128 batch_size=50 seq_len=50`.
AIME_SIZES = {"deter": 512, "stoch": 128, "units": 128, "layers": 2, "batch_size": 50, "seq_len": 50}
DECODER_STDS = ("learned", "unit")  # the model's (models/rssm.py), kept here without torch


@dataclass
class WorldModelConfig(RunConfig):
    """AIME phase 1: an RSSM world model of (observation, action) trajectories, by its ELBO."""

    demos: str = option("", "embodiment data set with actions; empty: generate oracle demos into the run")
    demo_episodes: int = option(200, "oracle episodes when demos is empty", ge=1)
    holdout: float = option(0.1, "fraction of episodes held out for evaluation (a seeded draw)", ge=0, lt=1)
    iterations: int = option(3000, "gradient steps", ge=1)
    batch_size: int = option(16, "sequences per step (AIME: 50)", ge=1)
    seq_len: int = option(32, "steps per training sequence, a window inside one episode (AIME: 50)", ge=2)
    lr: float = option(3e-4, "Adam learning rate (AIME's)", gt=0)
    grad_clip: float = option(100.0, "gradient-norm clip of the summed-over-time loss (AIME's)", gt=0)
    deter: int = option(64, "GRU (deterministic) state size (AIME walker: 512)", ge=1)
    stoch: int = option(16, "Gaussian stochastic state size (AIME walker: 128)", ge=1)
    units: int = option(64, "hidden units of every MLP: prior, posterior, decoders (AIME: 128)", ge=1)
    layers: int = option(2, "hidden layers of every MLP (AIME: 2)", ge=1)
    embed: int = option(0, "encoder output size per sensor group; 0: identity (AIME's for vector sensors)", ge=0)
    activation: str = option("elu", "hidden activation of every MLP (AIME: elu)", choices=ACTIVATIONS)
    min_std: float = option(0.01, "floor added to every learned std (AIME: 1e-6)", gt=0)
    decoder_std: str = option(
        "learned", "decoder std: learned (a second MLP, AIME's) or unit (fixed 1)", choices=DECODER_STDS
    )
    beta_nll: bool = option(True, "weight each dimension's NLL and the KL by the detached decoder std (AIME's)")
    free_nats: float = option(0.0, "a step's KL below this many nats is not penalised (AIME: 0)", ge=0)
    kl_balance: float = option(
        -1.0, "KL balancing alpha in [0, 1]: alpha KL(sg q||p) + (1-alpha) KL(q||sg p); -1: off (AIME)", ge=-1, le=1
    )
    kl_scale: float = option(1.0, "weight of the KL term (AIME: 1)", ge=0)
    idm: bool = option(False, "also learn an inverse dynamics model of a_{t-1} (for aime idm_guidance=true)")
    idm_weight: float = option(1.0, "weight of the inverse dynamics model's NLL in the loss (AIME: 1)", ge=0)
    eval_context: int = option(5, "evaluation: steps filtered before the open-loop prediction", ge=1)
    eval_horizon: int = option(50, "evaluation: steps predicted open loop after the context", ge=1)
    eval_episodes: int = option(100, "evaluation: held-out episodes used at most", ge=1)
    checkpoint_every: int = option(500, "iterations between checkpoints", ge=1)

    def check(self) -> None:
        super().check()
        if self.kl_balance < 0 and self.kl_balance != -1:
            raise ConfigError(f"kl_balance must be -1 (off) or in [0, 1], got {self.kl_balance:g}")
