"""Implicit BC with autoregressive derivative-free optimisation (ARDFO; the IBC paper's appendix,
Florence et al. 2021): one energy model per action dimension, so that each search is 1-D.

What we implement (docs/ibc.md#autoregressive-dfo-ibc-ardfo):

- m = act_dim energy models, model j scores E_j(o, a_1 … a_j): the observation and the action's
  first j coordinates (each an ``EnergyModel`` of its own, the same trunk as ibc-dfo's).
- Training: model j gets its own InfoNCE. Its candidates share the demo's first j − 1
  coordinates; coordinate j is the demo's among ``counter_examples`` uniform draws in [−1, 1].
  The loss is the sum over j (the models share no weights, so each trains as if alone).
- Inference: j = 1 … m in turn, a 1-D DFO (``ibc.dfo``: ``dfo_samples`` samples,
  ``dfo_iterations`` rounds, ``configured_dfo``) over coordinate j of E_j with the coordinates already chosen fixed.
  The cost is m searches of one dimension each, where plain DFO searches the m-D box at once.
"""

from __future__ import annotations

import torch
from torch import nn

from imitate.algos.bc_common import BCPolicy, evaluate_bc_run, train_bc_run
from imitate.algos.ibc import configured_dfo, info_nce, uniform_actions
from imitate.algos.ibc_config import IBCARDFOConfig
from imitate.models.ebm import EnergyModel


class PrefixEnergy(nn.Module):
    """E_j as a function of coordinate j alone: the chosen prefix (B, j − 1) is prepended to
    every candidate (B, K, 1), so ``ibc.configured_dfo`` can search it."""

    def __init__(self, energy: nn.Module, prefix: torch.Tensor):
        super().__init__()
        self.energy, self.prefix = energy, prefix

    def forward(self, obs_n: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        head = self.prefix[:, None, :].expand(-1, last.shape[1], -1)
        return self.energy(obs_n, torch.cat([head, last], dim=-1))


class AutoregressivePolicy(BCPolicy):
    """π(o): coordinate by coordinate, a_j = argmax over a_j of E_j(o, a_1 … a_j)."""

    loss_name = "info_nce_loss"

    def __init__(self, obs_dim: int, act_dim: int, cfg: IBCARDFOConfig):
        super().__init__(obs_dim, act_dim)
        self.cfg = cfg
        self.energies = nn.ModuleList(
            EnergyModel(obs_dim, j, cfg.width, cfg.blocks, cfg.activation, cfg.dropout, cfg.spectral_norm)
            for j in range(1, act_dim + 1)
        )

    def loss(self, obs_n, act_n, generator):
        c = self.cfg
        total = torch.zeros((), device=obs_n.device)
        nces, top1s = [], []
        draws = uniform_actions(len(obs_n), c.counter_examples, self.act_dim, generator, obs_n.device)
        for j, energy in enumerate(self.energies):
            prefix = act_n[:, None, :j].expand(-1, c.counter_examples, -1)
            negatives = torch.cat([prefix, draws[:, :, j : j + 1]], dim=-1)  # (B, K, j + 1)
            nce, top1 = info_nce(energy, obs_n, act_n[:, : j + 1], negatives, c.temperature)
            total = total + nce
            nces.append(nce.item())
            top1s.append(top1.item())
        return total, {"info_nce": sum(nces) / len(nces), "true_action_top1": sum(top1s) / len(top1s)}

    @torch.no_grad()
    def act_normalized(self, obs_n, generator):
        chosen = obs_n.new_zeros(len(obs_n), 0)
        for energy in self.energies:
            last = configured_dfo(PrefixEnergy(energy, chosen), obs_n, 1, self.cfg, generator)
            chosen = torch.cat([chosen, last], dim=1)
        return chosen


def build(cfg: IBCARDFOConfig, obs_dim: int, act_dim: int) -> AutoregressivePolicy:
    return AutoregressivePolicy(obs_dim, act_dim, cfg)


def train_ibc_ardfo(task, cfg: IBCARDFOConfig, run, state):
    return train_bc_run(task, "ibc-ardfo", cfg, run, state, build)


def evaluate_run(run, task, cfg: IBCARDFOConfig, episodes: int, video: bool = False) -> dict:
    metrics, _, _ = evaluate_bc_run(run, task, cfg, episodes, build, video)
    return metrics
