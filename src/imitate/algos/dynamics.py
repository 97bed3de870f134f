"""Dynamics models of the agent, fitted on its own transitions (o_t, a_t, o_t+1): BCO's inverse
model a_t = g(o_t, o_t+1) and IIDM's forward model o_t+1 = f(o_t, a_t), and ``DynamicsFit``,
the first stage of both runs in the offline loop (``algos/offline.py``).

Each model carries BC's normaliser (``bc_common.BCNormalizer``: observations z-scored, actions
mapped to [-1, 1] from their range) fitted on the training transitions, so its checkpoint alone
rebuilds it. Both are MLPs as in AIME's baselines (128 × 2 hidden units by default); the inverse
model's output is tanh-bounded to the normalised action box, as AIME's is.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from imitate.algos.bc_common import BCNormalizer
from imitate.algos.offline import OfflineMethod
from imitate.models.mlp import mlp
from imitate.utils.numerics import backward_step


class DynamicsModel(nn.Module):
    """An MLP between normalised observations and actions; subclasses say which way."""

    loss_name = "dynamics_loss"

    def __init__(self, obs_dim: int, act_dim: int, width: int = 128, layers: int = 2, activation: str = "elu"):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.normalizer = BCNormalizer(obs_dim, act_dim)
        self.net = mlp(*self.sizes(obs_dim, act_dim, [width] * layers), activation)

    @staticmethod
    def sizes(obs_dim: int, act_dim: int, hidden: list[int]) -> tuple[int, list[int], int]:
        """(input size, hidden sizes, output size) of the MLP."""
        raise NotImplementedError

    def loss(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class InverseDynamics(DynamicsModel):
    """a_t = g(o_t, o_t+1), tanh-bounded in the normalised action box; MSE there."""

    loss_name = "idm_loss"

    @staticmethod
    def sizes(obs_dim: int, act_dim: int, hidden: list[int]) -> tuple[int, list[int], int]:
        return 2 * obs_dim, hidden, act_dim

    def action_normalized(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        norm = self.normalizer
        return torch.tanh(self.net(torch.cat([norm.obs(obs), norm.obs(next_obs)], -1)))

    def forward(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """The action (env units, inside the action bounds) that took ``obs`` to ``next_obs``."""
        return self.normalizer.unaction(self.action_normalized(obs, next_obs)).clamp(-1.0, 1.0)

    def loss(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self.action_normalized(obs, next_obs), self.normalizer.action(actions))


class ForwardDynamics(DynamicsModel):
    """o_t+1 = f(o_t, a_t) in normalised observation units; MSE there."""

    loss_name = "forward_model_loss"

    @staticmethod
    def sizes(obs_dim: int, act_dim: int, hidden: list[int]) -> tuple[int, list[int], int]:
        return obs_dim + act_dim, hidden, obs_dim

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """The predicted next observation, normalised (differentiable in ``actions``)."""
        norm = self.normalizer
        return self.net(torch.cat([norm.obs(obs), norm.action(actions)], -1))

    def loss(self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self(obs, actions), self.normalizer.obs(next_obs))


def build_dynamics(kind: type[DynamicsModel], cfg: Any, obs_dim: int, act_dim: int) -> DynamicsModel:
    return kind(obs_dim, act_dim, cfg.model_width, cfg.model_layers, cfg.model_activation)


class DynamicsFit(OfflineMethod):
    """Stage 1 of BCO and IIDM: ``model`` by Adam on training transitions ``(obs, actions,
    next_obs)``; its checkpoint part is the model (normaliser inside) and the optimiser."""

    shown = "loss"

    def __init__(self, model: DynamicsModel, transitions: tuple[torch.Tensor, ...], cfg: Any, prefix: str):
        self.model, self.transitions, self.prefix = model, transitions, prefix
        self.desc, self.device = prefix, torch.device(cfg.device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.model_lr)

    def start(self) -> None:
        obs, actions, _ = self.transitions
        self.model.normalizer.fit(obs, actions)

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def data(self) -> tuple[torch.Tensor, ...]:
        return self.transitions

    def step(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor, generator: torch.Generator
    ) -> dict[str, float]:
        self.model.train()
        loss = self.model.loss(obs, actions, next_obs)
        backward_step(loss, self.optimizer, self.model.parameters(), self.model.loss_name)
        return {"loss": loss.item()}
