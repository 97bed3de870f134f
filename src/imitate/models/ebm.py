"""IBC's energy model E(o, a): a pre-activation ResNet MLP over the concatenated (o, a).

Sign convention: as for NEAR's energy in this project, HIGHER energy means a more expert-like
action, p(a | o) ∝ exp(E(o, a)); the IBC paper writes the same model with the opposite sign.

Inputs are already normalised (observations z-scored, actions in [-1, 1]); the normaliser lives
with the algorithm (``algos/bc_common.py``) and is stored in the same checkpoint.
"""

from __future__ import annotations

import torch
from torch import nn

from imitate.models.mlp import ACTIVATIONS


class PreActBlock(nn.Module):
    """x + W2 σ(W1 σ(x)): activation before each linear layer, identity skip (He et al. 2016)."""

    def __init__(self, width: int, activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        self.act = ACTIVATIONS[activation]()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(self.drop(self.act(x)))
        h = self.fc2(self.drop(self.act(h)))
        return x + h


class ResNetMLP(nn.Module):
    """Linear → ``blocks`` pre-activation residual blocks → activation → Linear(out_dim)."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int = 256,
        blocks: int = 2,
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.inp = nn.Linear(in_dim, width)
        self.blocks = nn.Sequential(*[PreActBlock(width, activation, dropout) for _ in range(blocks)])
        self.act = ACTIVATIONS[activation]()
        self.out = nn.Linear(width, out_dim)

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
    ):
        super().__init__()
        self.config = {
            "obs_dim": obs_dim,
            "act_dim": act_dim,
            "width": width,
            "blocks": blocks,
            "activation": activation,
            "dropout": dropout,
        }
        self.obs_in = nn.Linear(obs_dim, width)
        self.act_in = nn.Linear(act_dim, width, bias=False)
        self.blocks = nn.Sequential(*[PreActBlock(width, activation, dropout) for _ in range(blocks)])
        self.act = ACTIVATIONS[activation]()
        self.out = nn.Linear(width, 1)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        h = self.obs_in(obs)[:, None, :] + self.act_in(actions)  # (B, K, width)
        return self.out(self.act(self.blocks(h))).squeeze(-1)  # (B, K)
