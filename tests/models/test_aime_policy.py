"""AIME phase 2's tanh-Gaussian policy: bounded actions, a reparameterised draw, a rebuild from
its config."""

import torch

from imitate.models.aime_policy import TanhGaussianPolicy


def test_actions_are_bounded_reparameterised_and_rebuilt_from_the_config():
    torch.manual_seed(0)
    policy = TanhGaussianPolicy(6, 2, units=8, layers=2, activation="elu", min_std=0.01)
    feature = torch.randn(5, 6) * 10
    drawn = policy.sample(feature, torch.Generator().manual_seed(0))
    assert drawn.shape == (5, 2) and drawn.abs().max() <= 1
    assert torch.equal(drawn, policy.sample(feature, torch.Generator().manual_seed(0)))
    drawn.sum().backward()
    assert all(p.grad is not None for p in policy.parameters())
    mean, _ = policy.head(feature)
    assert torch.equal(policy.mode(feature), torch.tanh(mean))
    rebuilt = TanhGaussianPolicy.from_config(policy.config)
    rebuilt.load_state_dict(policy.state_dict())
    assert torch.equal(rebuilt.mode(feature), policy.mode(feature))
