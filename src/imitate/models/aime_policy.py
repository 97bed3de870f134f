"""AIME phase 2's policy: a tanh-Gaussian MLP on the world model's latent state (h_t, z_t).

a = tanh(u), u ~ N(mean(s), std(s)): mean and std by two MLPs (std = softplus(·) + ``min_std``),
the structure of AIME's ``TanhGaussianPolicy``. ``sample`` is reparameterised, so the ELBO of
the frozen world model can be back-propagated into the policy's weights through the actions;
``mode`` (tanh of the mean) is the deterministic action used at evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from imitate.models.rssm import GaussianHead, sample


class TanhGaussianPolicy(nn.Module):
    """π(a | s) on a latent-state feature of ``in_dim`` numbers; ``config`` rebuilds it."""

    def __init__(self, in_dim: int, act_dim: int, units: int, layers: int, activation: str, min_std: float):
        super().__init__()
        self.config = {
            "in_dim": in_dim,
            "act_dim": act_dim,
            "units": units,
            "layers": layers,
            "activation": activation,
            "min_std": min_std,
        }
        self.head = GaussianHead(in_dim, act_dim, units, layers, activation, min_std)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TanhGaussianPolicy:
        return cls(**config)

    def sample(self, feature: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """A reparameterised draw in (-1, 1) (differentiable in the weights)."""
        return torch.tanh(sample(self.head(feature), generator))

    def mode(self, feature: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.head(feature)[0])
