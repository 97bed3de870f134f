"""IBC's ResNet trunk and energy model: spectral normalisation bounds every layer's gain."""

import torch
from torch import nn

from imitate.models.ebm import EnergyModel, ResNetMLP


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def _top_singular_values(module: nn.Module) -> list[float]:
    return [torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() for m in _linears(module)]


def _inflate(module: nn.Module, factor: float) -> None:
    """Scale every raw weight (the parametrised original where there is one) by ``factor``."""
    with torch.no_grad():
        for m in _linears(module):
            raw = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            raw.mul_(factor)


def test_spectral_norm_keeps_every_layer_at_gain_one_where_plain_layers_grow():
    torch.manual_seed(0)
    obs, actions = torch.randn(16, 6), torch.rand(16, 5, 2) * 2 - 1
    normed = EnergyModel(6, 2, width=32, blocks=3, spectral_norm=True).train()
    plain = EnergyModel(6, 2, width=32, blocks=3).train()
    for net in (normed, plain):
        _inflate(net, 10.0)
        for _ in range(30):  # power iterations happen in training-mode forward passes
            net(obs, actions)
    assert len(_linears(normed)) == 2 + 2 * 3 + 1  # obs/action halves, 3 blocks of 2, the output
    assert max(_top_singular_values(normed)) < 1.02
    assert min(_top_singular_values(plain)) > 2.0  # the same inflation without it: the test can fail
    normed.eval()  # evaluation reuses the last power-iteration vectors
    assert max(_top_singular_values(normed)) < 1.02


def test_spectrally_normalised_energy_has_a_bounded_action_gradient():
    """Each layer 1-Lipschitz, ReLU 1-Lipschitz, each residual block ≤ 2: |∂E/∂a|₂ ≤ 2^blocks."""
    torch.manual_seed(1)
    net = EnergyModel(4, 3, width=64, blocks=2, spectral_norm=True).train()
    _inflate(net, 50.0)
    obs = torch.randn(8, 4)
    for _ in range(30):
        net(obs, torch.rand(8, 4, 3))
    net.eval()
    actions = (torch.rand(8, 64, 3) * 2 - 1).requires_grad_(True)
    (grad,) = torch.autograd.grad(net(obs, actions).sum(), actions)
    assert grad.norm(dim=-1).max() <= 2.0**2 + 1e-4


def test_resnet_mlp_has_two_linear_layers_per_block_and_optional_spectral_norm():
    net = ResNetMLP(5, 2, width=16, blocks=8, spectral_norm=True)
    assert len(_linears(net)) == 1 + 16 + 1  # IBC's "128 x 16" is blocks=8: 16 dense layers
    assert all(hasattr(m, "parametrizations") for m in _linears(net))
    assert not any(hasattr(m, "parametrizations") for m in _linears(ResNetMLP(5, 2, width=16, blocks=1)))
