"""ONNX export of a run's policy, so it runs without torch (``imitate export RUN --onnx FILE``).

What each algorithm exports (docs/export.md has the inputs, outputs and the caller's loops):

- PPO-based runs (``ppo``, ``near``, ``amp``, ``deepmimic``): ``obs`` (B, obs_dim) → ``action``
  (B, act_dim), the deterministic mean action with the observation normaliser (running mean/std
  and its clip) folded in and the action clamped to [-1, 1]: what ``imitate eval`` runs.
- BC runs (``mse``, ``mdn``): the same signature; observation z-scoring and the action
  un-normalisation are folded in; an MDN exports the mean of its most probable component. A run
  trained with ``history=K`` takes the last K observations concatenated, oldest first.
- IBC runs (``ibc-dfo``, ``ibc-langevin``) have no closed-form policy: they export the energy,
  ``obs`` (B, obs_dim) and candidate ``actions`` (B, K, act_dim) in the normalised box [-1, 1] →
  ``energy`` (B, K) (higher is better), its gradient ``grad`` = ∂E/∂a (B, K, act_dim) for
  Langevin, and ``env_action`` (B, K, act_dim), the candidates in env units. The caller runs the
  DFO or Langevin loop; its settings are in the model's metadata (``imitate.inference``).
- ``ibc-ardfo`` exports its m per-dimension energies in one graph: candidates (B, K, m) →
  ``energy`` (B, K, m), column j the energy of model j on the candidate's first j + 1
  coordinates; the caller runs a 1-D DFO per dimension in turn.

The ONNX exporter cannot trace autograd, so the energy's action gradient is written out as the
ResNet's backward pass (``EnergyGradient``), checked against autograd by the tests. Every file
carries metadata (``imitate.*`` keys: kind, task, algo, sizes, history) that onnxruntime reads
with ``session.get_modelmeta().custom_metadata_map``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from imitate.algos.bc_common import BCNormalizer, BCPolicy, BuildPolicy
from imitate.config import ConfigError
from imitate.models.actor_critic import ActorCritic
from imitate.models.ebm import EnergyModel, PreActBlock
from imitate.utils.io import atomic_path

ONNX_EXTRA = "ONNX export needs onnx and onnxscript: pip install 'imitate[onnx]'"


class PPOActionGraph(nn.Module):
    """Raw observation → deterministic action of an actor-critic, normaliser folded in.

    The same operations as ``ActorCritic.act(obs, deterministic=True)``, with the float64
    running statistics cast to float32 exactly as ``RunningMeanStd.normalize`` casts them."""

    mean: torch.Tensor
    std: torch.Tensor
    actor: nn.Sequential

    def __init__(self, model: ActorCritic):
        super().__init__()
        norm = model.obs_norm
        self.register_buffer("mean", norm.mean.detach().to(torch.float32).clone())
        self.register_buffer("std", torch.sqrt(norm.var + norm.eps).detach().to(torch.float32).clone())
        self.clip = float(norm.clip)
        self.actor = model.actor

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = (obs - self.mean) / self.std
        if self.clip:
            x = x.clamp(-self.clip, self.clip)
        return self.actor(x).clamp(-1.0, 1.0)


class BCActionGraph(nn.Module):
    """Raw observation → env action of a BC policy (``BCPolicy.act``: z-score, head, un-normalise, clamp)."""

    policy: BCPolicy

    def __init__(self, policy: BCPolicy):
        super().__init__()
        self.policy = policy

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.policy.act(obs)


def _activation_grad(name: str, x: torch.Tensor) -> torch.Tensor:
    """dσ/dx of the activations ``models.mlp.ACTIVATIONS`` names, as torch's autograd takes them."""
    if name == "relu":
        return (x > 0).to(x.dtype)
    if name == "elu":  # alpha = 1
        return torch.where(x > 0, torch.ones_like(x), torch.exp(x))
    if name == "tanh":
        return 1.0 - torch.tanh(x).pow(2)
    if name == "silu":
        s = torch.sigmoid(x)
        return s * (1.0 + x * (1.0 - s))
    raise ValueError(f"no gradient for activation {name!r}")


class EnergyGradient(nn.Module):
    """E(o, a) of an ``EnergyModel`` and ∂E/∂a by its backward pass written out (eval mode: no dropout).

    Forward: h₀ = W_o o + W_a a + b; h_{k+1} = h_k + W₂ σ(W₁ σ(h_k) + b₁) + b₂; E = wᵀσ(h_L) + c.
    Backward: g_L = σ'(h_L) ⊙ w; g_k = g_{k+1} + σ'(h_k) ⊙ W₁ᵀ(σ'(v_k) ⊙ W₂ᵀ g_{k+1}) with
    v_k = W₁σ(h_k) + b₁; ∂E/∂a = W_aᵀ g₀."""

    energy: EnergyModel

    def __init__(self, energy: EnergyModel):
        super().__init__()
        self.energy = energy
        self.activation = str(energy.config["activation"])
        self.residual: list[PreActBlock] = [block for block in energy.blocks if isinstance(block, PreActBlock)]
        assert len(self.residual) == len(energy.blocks)

    def forward(self, obs_n: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e, name = self.energy, self.activation
        h = e.obs_in(obs_n)[:, None, :] + e.act_in(actions)  # (B, K, W)
        saved = []
        for block in self.residual:
            v = block.fc1(block.act(h))
            saved.append((h, v))
            h = h + block.fc2(block.act(v))
        energy = e.out(e.act(h)).squeeze(-1)  # (B, K)
        g = _activation_grad(name, h) * e.out.weight[0]
        for block, (h_k, v_k) in zip(reversed(self.residual), reversed(saved)):
            g_v = (g @ block.fc2.weight) * _activation_grad(name, v_k)
            g = g + (g_v @ block.fc1.weight) * _activation_grad(name, h_k)
        return energy, g @ e.act_in.weight


class IBCEnergyGraph(nn.Module):
    """Raw observation and normalised candidate actions → energy, ∂E/∂a, candidates in env units."""

    normalizer: BCNormalizer
    grad: EnergyGradient

    def __init__(self, policy: BCPolicy):
        super().__init__()
        energy = getattr(policy, "energy", None)
        if not isinstance(energy, EnergyModel):
            raise TypeError(f"{type(policy).__name__} has no energy model to export")
        self.normalizer = policy.normalizer
        self.grad = EnergyGradient(energy)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        energy, grad = self.grad(self.normalizer.obs(obs), actions)
        return energy, grad, self.normalizer.unaction(actions).clamp(-1.0, 1.0)


class ARDFOEnergyGraph(nn.Module):
    """An ``ibc-ardfo`` run's energies: raw observation and normalised candidates (B, K, m) →
    ``energy`` (B, K, m), column j = E_j(o, a_1 … a_j) (each model reads its candidate's prefix),
    and the candidates in env units."""

    normalizer: BCNormalizer

    def __init__(self, policy: BCPolicy):
        super().__init__()
        energies = getattr(policy, "energies", None)
        if not isinstance(energies, nn.ModuleList):
            raise TypeError(f"{type(policy).__name__} has no per-dimension energy models to export")
        self.normalizer = policy.normalizer
        self.energies = energies

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        obs_n = self.normalizer.obs(obs)
        energy = torch.stack([e(obs_n, actions[..., : j + 1]) for j, e in enumerate(self.energies)], dim=-1)
        return energy, self.normalizer.unaction(actions).clamp(-1.0, 1.0)


def require_onnx() -> None:
    """One line naming the extra when the exporter's packages are missing."""
    import importlib.util

    missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"{ONNX_EXTRA} ({', '.join(missing)} not installed)")


def write_onnx(
    graph: nn.Module,
    example: tuple[torch.Tensor, ...],
    names: tuple[list[str], list[str]],
    dynamic: tuple[dict[int, str], ...],
    path: Path,
    metadata: dict[str, Any],
) -> Path:
    """Export ``graph`` with torch's ONNX exporter (dynamo) and write it atomically to ``path``.

    ``dynamic`` names the variable axes of each input (the batch, IBC's candidate count). The
    exporter's progress lines and warnings (torchvision absent, deprecations inside torch) are
    kept off the terminal; an export that fails still raises."""
    require_onnx()
    dims: dict[str, Any] = {}
    shapes = tuple({axis: dims.setdefault(name, torch.export.Dim(name)) for axis, name in d.items()} for d in dynamic)
    graph = graph.eval()
    for p in graph.parameters():
        p.requires_grad_(False)
    onnx_logger = logging.getLogger("torch.onnx")
    level = onnx_logger.level
    onnx_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                graph,
                example,
                input_names=names[0],
                output_names=names[1],
                dynamic_shapes=shapes,
                dynamo=True,
                verbose=False,
            )
    finally:
        onnx_logger.setLevel(level)
    assert program is not None
    for value, axes in zip(program.model.graph.inputs, dynamic):
        shape = value.shape
        fixed = [axis for axis in axes if shape is None or isinstance(shape[axis], int)]
        if fixed:  # the exporter fell back to a fixed size: a bug in the graph, not bad input
            raise RuntimeError(f"ONNX export fixed axes {fixed} of input {value.name!r} ({value.shape})")
    program.model.metadata_props.update(
        {f"imitate.{k}": v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}
    )
    with atomic_path(path, suffix=".tmp.onnx") as tmp:
        program.save(tmp, external_data=False)
    return path


def _metadata(run: Any, kind: str, obs_dim: int, act_dim: int, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "task": run.task, "algo": run.algo, "obs_dim": obs_dim, "act_dim": act_dim, **extra}


def load_ppo_policy(run: Any, task: Any, cfg: Any) -> ActorCritic:
    from imitate.algos.ppo import load_policy

    return load_policy(run, task, cfg)


def export_ppo(run: Any, task: Any, cfg: Any, path: Path) -> dict[str, Any]:
    """A PPO-based run's deterministic policy: obs → action in [-1, 1]."""
    model = load_ppo_policy(run, task, cfg)
    graph, obs_dim, act_dim = PPOActionGraph(model), model.obs_dim, model.act_dim
    write_onnx(
        graph,
        (torch.zeros(2, obs_dim),),
        (["obs"], ["action"]),
        ({0: "batch"},),
        path,
        _metadata(run, "policy", obs_dim, act_dim, history=1),
    )
    return {"kind": "policy", "inputs": {"obs": ["batch", obs_dim]}, "outputs": {"action": ["batch", act_dim]}}


def bc_policy(run: Any, task: Any, cfg: Any) -> BCPolicy:
    """The trained BC, IBC, BCO or IIDM policy of a run (its normaliser inside)."""
    from imitate.algos.bc import BUILDERS
    from imitate.algos.bc_common import load_policy
    from imitate.algos.ibc import build
    from imitate.algos.ibc_ardfo import build as build_ardfo
    from imitate.algos.iidm import build_iidm

    builders: dict[str, BuildPolicy] = {
        **BUILDERS,
        "bco": BUILDERS["mse"],
        "iidm": build_iidm,
        "ibc-ardfo": build_ardfo,
    }
    ibc_energy = run.algo.startswith("ibc") and run.algo not in builders  # ibc-dfo, ibc-langevin (BCO clones MSE)
    return load_policy(run, task, cfg, build if ibc_energy else builders[run.algo])


def export_bc(run: Any, task: Any, cfg: Any, path: Path) -> dict[str, Any]:
    """An MSE, MDN, BCO or IIDM run's policy (MDN: its likeliest component's mean): obs → action in [-1, 1]."""
    policy = bc_policy(run, task, cfg)
    history = int(getattr(cfg, "history", 1))
    write_onnx(
        BCActionGraph(policy),
        (torch.zeros(2, policy.obs_dim),),
        (["obs"], ["action"]),
        ({0: "batch"},),
        path,
        _metadata(run, "policy", policy.obs_dim, policy.act_dim, history=history),
    )
    return {
        "kind": "policy",
        "history": history,
        "inputs": {"obs": ["batch", policy.obs_dim]},
        "outputs": {"action": ["batch", policy.act_dim]},
    }


def ibc_inference(cfg: Any) -> dict[str, Any]:
    """The settings of the run's own action search, for the caller's loop (docs/export.md)."""
    if cfg.inference == "langevin":
        chain = ("samples", "steps", "step_init", "step_final", "power", "noise", "grad_clip", "delta_clip")
        return {"method": "langevin", **{k: getattr(cfg, f"langevin_{k}") for k in chain}}
    search = ("samples", "iterations", "noise", "shrink", "select")
    return {"method": "dfo", "temperature": cfg.temperature, **{k: getattr(cfg, f"dfo_{k}") for k in search}}


def export_energy(graph: nn.Module, policy: BCPolicy, run: Any, cfg: Any, path: Path, inference: dict, outputs: dict):
    """Write an IBC energy graph (obs, candidate actions → ``outputs``) and say what it holds."""
    history = int(getattr(cfg, "history", 1))
    write_onnx(
        graph,
        (torch.zeros(2, policy.obs_dim), torch.zeros(2, 3, policy.act_dim)),
        (["obs", "actions"], list(outputs)),
        ({0: "batch"}, {0: "batch", 1: "candidates"}),
        path,
        _metadata(run, "energy", policy.obs_dim, policy.act_dim, history=history, inference=inference),
    )
    return {
        "kind": "energy",
        "history": history,
        "inference": inference,
        "inputs": {"obs": ["batch", policy.obs_dim], "actions": ["batch", "candidates", policy.act_dim]},
        "outputs": outputs,
    }


def export_ibc(run: Any, task: Any, cfg: Any, path: Path) -> dict[str, Any]:
    """An IBC run's energy E(obs, action) with ∂E/∂a; the action search is the caller's loop."""
    policy = bc_policy(run, task, cfg)
    candidates = ["batch", "candidates", policy.act_dim]
    outputs = {"energy": ["batch", "candidates"], "grad": candidates, "env_action": candidates}
    return export_energy(IBCEnergyGraph(policy), policy, run, cfg, path, ibc_inference(cfg), outputs)


def export_ibc_ardfo(run: Any, task: Any, cfg: Any, path: Path) -> dict[str, Any]:
    """An ``ibc-ardfo`` run's m energies in one graph; the caller runs one 1-D DFO per dimension."""
    policy = bc_policy(run, task, cfg)
    candidates = ["batch", "candidates", policy.act_dim]
    inference = {**ibc_inference(cfg), "method": "ardfo"}
    return export_energy(
        ARDFOEnergyGraph(policy), policy, run, cfg, path, inference, {"energy": candidates, "env_action": candidates}
    )
