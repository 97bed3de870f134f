"""Gaussian actor and value critic with the observation and value normalisers they use."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from imitate.models.mlp import mlp
from imitate.utils.running_stats import RunningMeanStd


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs; normalisers live here so a checkpoint is self-contained."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden: Sequence[int] = (256, 256),
        activation: str = "elu",
        init_log_std: float = -0.5,
        learn_log_std: bool = True,
    ):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.actor = mlp(obs_dim, hidden, act_dim, activation)
        self.critic = mlp(obs_dim, hidden, 1, activation)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)), requires_grad=learn_log_std)
        self.obs_norm = RunningMeanStd(obs_dim, clip=10.0)
        self.value_norm = RunningMeanStd(1, clip=0.0)
        # Small last-layer weights: initial actions near zero mean, values near zero.
        for head, gain in ((self.actor[-1], 0.01), (self.critic[-1], 1.0)):
            assert isinstance(head, nn.Linear)
            nn.init.orthogonal_(head.weight, gain)
            nn.init.zeros_(head.bias)

    def normalize_obs(self, obs: torch.Tensor) -> torch.Tensor:
        return self.obs_norm.normalize(obs)

    def distribution(self, obs_n: torch.Tensor) -> torch.distributions.Normal:
        mean = self.actor(obs_n)
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean))

    def value_normalized(self, obs_n: torch.Tensor) -> torch.Tensor:
        return self.critic(obs_n).squeeze(-1)

    def value(self, obs_n: torch.Tensor) -> torch.Tensor:
        """Value in reward units (critic output de-normalised)."""
        return self.value_norm.denormalize(self.value_normalized(obs_n)[:, None])[:, 0]

    @torch.no_grad()
    def act(
        self, obs: torch.Tensor, deterministic: bool = True, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Action in [-1, 1] for raw observations (N, obs_dim)."""
        dist = self.distribution(self.normalize_obs(obs))
        if deterministic:
            return dist.mean.clamp(-1.0, 1.0)
        noise = torch.randn(dist.mean.shape, generator=generator, device=obs.device)
        return (dist.mean + dist.stddev * noise).clamp(-1.0, 1.0)
