"""Mixture density network: p(a | o) = Σ_k π_k N(a; μ_k, diag σ_k²), the explicit multimodal baseline.

Its log-likelihood is built so that it cannot produce NaN or inf on finite inputs: mixture
weights are a log-softmax, log-σ is squashed into [LOG_STD_MIN, LOG_STD_MAX] with tanh (finite
gradient everywhere, unlike a hard clamp that zeroes it), and the mixture is summed with
logsumexp in log space.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from imitate.models.ebm import ResNetMLP

LOG_STD_MIN, LOG_STD_MAX = -7.0, 2.0


class MDN(nn.Module):
    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        components: int = 8,
        width: int = 256,
        blocks: int = 2,
        activation: str = "relu",
    ):
        super().__init__()
        self.config = {
            "obs_dim": obs_dim,
            "act_dim": act_dim,
            "components": components,
            "width": width,
            "blocks": blocks,
            "activation": activation,
        }
        self.k, self.a = components, act_dim
        self.net = ResNetMLP(obs_dim, components * (1 + 2 * act_dim), width, blocks, activation)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, O) → log-weights (B, K), means (B, K, A), log-stds (B, K, A)."""
        out = self.net(obs)
        logits, rest = out[:, : self.k], out[:, self.k :].view(-1, self.k, 2 * self.a)
        mean, raw_log_std = rest[..., : self.a], rest[..., self.a :]
        half, mid = (LOG_STD_MAX - LOG_STD_MIN) / 2, (LOG_STD_MAX + LOG_STD_MIN) / 2
        log_std = mid + half * torch.tanh(raw_log_std / half)
        return torch.log_softmax(logits, dim=-1), mean, log_std

    def log_prob(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """log p(action | obs), (B,)."""
        log_w, mean, log_std = self(obs)
        z = (action[:, None, :] - mean) * torch.exp(-log_std)  # (B, K, A)
        comp = (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)  # (B, K)
        return torch.logsumexp(log_w + comp, dim=-1)

    @torch.no_grad()
    def mode(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action: the mean of the most probable component, (B, A)."""
        log_w, mean, _ = self(obs)
        best = log_w.argmax(-1)[:, None, None].expand(-1, 1, mean.shape[-1])  # a gather: exports with a free batch
        return mean.gather(1, best)[:, 0]
