"""Explicit behavioural cloning baselines (IBC's, Florence et al. 2021): MSE regression and a mixture density
network.

Both use the same ResNet MLP trunk as IBC's energy model and share its normalisation, training
loop and evaluation (``bc_common``); only the output head and the loss differ.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from imitate.algos.bc_common import BCPolicy, evaluate_bc_run, train_bc_run
from imitate.algos.bc_config import BCConfig
from imitate.models.ebm import ResNetMLP
from imitate.models.mdn import MDN


class MSEPolicy(BCPolicy):
    """a = f(o), trained by mean squared error in normalised action space."""

    loss_name = "mse_loss"

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        width: int = 256,
        blocks: int = 2,
        activation: str = "relu",
        dropout: float = 0.0,
        spectral_norm: bool = False,
    ):
        super().__init__(obs_dim, act_dim)
        self.net = ResNetMLP(obs_dim, act_dim, width, blocks, activation, dropout, spectral_norm)

    def loss(self, obs_n, act_n, generator):
        return F.mse_loss(self.net(obs_n), act_n), {}

    def act_normalized(self, obs_n, generator):
        return self.net(obs_n)


class MDNPolicy(BCPolicy):
    """p(a | o) a Gaussian mixture, trained by negative log-likelihood; acts with the likeliest mean."""

    loss_name = "mdn_nll_loss"

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        components: int = 8,
        width: int = 256,
        blocks: int = 2,
        activation: str = "relu",
    ):
        super().__init__(obs_dim, act_dim)
        self.mdn = MDN(obs_dim, act_dim, components, width, blocks, activation)

    def loss(self, obs_n, act_n, generator):
        return -self.mdn.log_prob(obs_n, act_n).mean(), {}

    def act_normalized(self, obs_n, generator):
        return self.mdn.mode(obs_n)


def build_mse(cfg: BCConfig, obs_dim: int, act_dim: int) -> MSEPolicy:
    return MSEPolicy(obs_dim, act_dim, cfg.width, cfg.blocks, cfg.activation, cfg.dropout, cfg.spectral_norm)


def build_mdn(cfg: BCConfig, obs_dim: int, act_dim: int) -> MDNPolicy:
    return MDNPolicy(obs_dim, act_dim, cfg.mdn_components, cfg.width, cfg.blocks, cfg.activation)


BUILDERS = {"mse": build_mse, "mdn": build_mdn}


def train_mse(task, cfg: BCConfig, run, state):
    return train_bc_run(task, "mse", cfg, run, state, build_mse)


def train_mdn(task, cfg: BCConfig, run, state):
    return train_bc_run(task, "mdn", cfg, run, state, build_mdn)


def evaluate_run(run, task, cfg: BCConfig, episodes: int, video: bool = False) -> dict:
    with torch.no_grad():
        metrics, _, _ = evaluate_bc_run(run, task, cfg, episodes, BUILDERS[run.algo], video)
    return metrics
