"""IBC's energy model E(o, a): a pre-activation ResNet MLP over the concatenated (o, a).

Sign convention: as for NEAR's energy in this project, HIGHER energy means a more expert-like
action, p(a | o) ∝ exp(E(o, a)); the IBC paper writes the same model with the opposite sign.

``spectral_norm=True`` divides every linear layer's weight by its largest singular value (one
power iteration per training forward pass, torch's parametrisation), as IBC's particle EBM does
with its dense layers: each layer is then 1-Lipschitz, which keeps ∂E/∂a bounded for Langevin.

Inputs are already normalised (observations z-scored, actions in [-1, 1]); the normaliser lives
with the algorithm (``algos/bc_common.py``) and is stored in the same checkpoint.
"""

from __future__ import annotations

import torch
from torch import nn

from imitate.models.mlp import ACTIVATIONS


def dense(in_dim: int, out_dim: int, spectral_norm: bool = False, bias: bool = True) -> nn.Linear:
    """A linear layer, spectrally normalised when asked (``.weight`` is then W / σ_max(W))."""
    layer = nn.Linear(in_dim, out_dim, bias=bias)
    if spectral_norm:
        nn.utils.parametrizations.spectral_norm(layer)  # registers the parametrisation in place
    return layer


class PreActBlock(nn.Module):
    """x + W2 σ(W1 σ(x)): activation before each linear layer, identity skip (He et al. 2016)."""

    def __init__(self, width: int, activation: str = "relu", dropout: float = 0.0, spectral_norm: bool = False):
        super().__init__()
        self.act = ACTIVATIONS[activation]()
        self.fc1, self.fc2 = dense(width, width, spectral_norm), dense(width, width, spectral_norm)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(self.drop(self.act(x)))
        h = self.fc2(self.drop(self.act(h)))
        return x + h


class ResNetMLP(nn.Module):
    """Linear → ``blocks`` pre-activation residual blocks → activation → Linear(out_dim).

    ``blocks`` counts residual blocks of two linear layers each: IBC's "depth" counts those linear
    layers, so its 128 × 16 net is ``width=128 blocks=8``."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int = 256,
        blocks: int = 2,
        activation: str = "relu",
        dropout: float = 0.0,
        spectral_norm: bool = False,
    ):
        super().__init__()
        self.inp = dense(in_dim, width, spectral_norm)
        self.blocks = nn.Sequential(*[PreActBlock(width, activation, dropout, spectral_norm) for _ in range(blocks)])
        self.act = ACTIVATIONS[activation]()
        self.out = dense(width, out_dim, spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.blocks(self.inp(x))))


class EnergyModel(nn.Module):
    """E(o, a) for a batch of observations and K candidate actions each: (B, O), (B, K, A) → (B, K).

    The first linear layer is split into an observation part and an action part so that the
    observation's contribution is computed once per observation, not once per candidate.
    """

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
        super().__init__()
        self.config = {
            "obs_dim": obs_dim,
            "act_dim": act_dim,
            "width": width,
            "blocks": blocks,
            "activation": activation,
            "dropout": dropout,
            "spectral_norm": spectral_norm,
        }
        # The two halves of the first layer are normalised apart (each ≤ 1, so the joint ≤ √2).
        self.obs_in = dense(obs_dim, width, spectral_norm)
        self.act_in = dense(act_dim, width, spectral_norm, bias=False)
        self.blocks = nn.Sequential(*[PreActBlock(width, activation, dropout, spectral_norm) for _ in range(blocks)])
        self.act = ACTIVATIONS[activation]()
        self.out = dense(width, 1, spectral_norm)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        h = self.obs_in(obs)[:, None, :] + self.act_in(actions)  # (B, K, width)
        return self.out(self.act(self.blocks(h))).squeeze(-1)  # (B, K)
