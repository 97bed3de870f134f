"""NEAR's energy model: noise ladder, DSM learning on a 2-D mixture, EMA and exact resume."""

from __future__ import annotations

import io
import math

import pytest
import torch

from imitate.models.energy import EMA, NCSN, EnergyTrainer, dsm_loss, noise_levels

CENTERS = torch.tensor([[2.0, 2.0], [2.0, -2.0], [-2.0, 2.0], [-2.0, -2.0]])  # (4, 2)
MIDPOINTS = torch.tensor([[0.0, 2.0], [2.0, 0.0], [0.0, -2.0], [-2.0, 0.0], [0.0, 0.0]])
FAR = torch.tensor([[6.0, 6.0], [-6.0, 0.0], [0.0, 7.0], [-5.0, -8.0]])


def mixture(n: int, generator: torch.Generator) -> torch.Tensor:
    """n samples (n, 2) from 4 tight Gaussian clusters (std 0.1) at (±2, ±2)."""
    idx = torch.randint(4, (n,), generator=generator)
    return CENTERS[idx] + 0.1 * torch.randn(n, 2, generator=generator)


def train(version: str, steps: int, seed: int = 0) -> tuple[EnergyTrainer, list[float]]:
    """A small NCSN trained by DSM on the mixture; returns the trainer and its losses."""
    torch.manual_seed(seed)  # parameter initialisation
    g = torch.Generator().manual_seed(seed)
    data = mixture(4096, g)
    trainer = EnergyTrainer(NCSN(2, hidden=(64, 64), latent_dim=32, version=version), lr=1e-3)
    trainer.fit_normalizer(data)
    losses = [trainer.step(data[torch.randint(len(data), (128,), generator=g)], g) for _ in range(steps)]
    return trainer, losses


@pytest.fixture(scope="module")
def trained_v2() -> tuple[EnergyTrainer, list[float]]:
    return train("v2", 1000)


def test_noise_levels_ladders():
    v2 = noise_levels("v2")
    assert v2.shape == (50,)
    assert v2[0].item() == pytest.approx(20.0) and v2[-1].item() == pytest.approx(0.01)
    ratios = v2[1:] / v2[:-1]
    assert torch.allclose(ratios, ratios[0].expand_as(ratios), rtol=1e-4)  # geometric
    assert ratios[0].item() == pytest.approx((0.01 / 20.0) ** (1 / 49), rel=1e-4)
    v1 = noise_levels("v1")
    assert v1.shape == (10,)
    assert v1[0].item() == pytest.approx(10.0) and v1[-1].item() == pytest.approx(0.01)
    assert torch.allclose(v1[1:] - v1[:-1], torch.full((9,), (0.01 - 10.0) / 9), atol=1e-5)
    with pytest.raises(ValueError, match="version"):
        noise_levels("v3")


def test_forward_shapes_and_levels():
    torch.manual_seed(0)
    model = NCSN(6, hidden=(16,), latent_dim=8)
    x = torch.randn(5, 6)
    e_int = model.energy(x, 7)
    e_vec = model.energy(x, torch.full((5,), 7, dtype=torch.long))
    assert e_int.shape == (5,) and torch.equal(e_int, e_vec)
    # v2 form: E(x, σ) = f(x)/σ, so σ·E does not depend on the level.
    f0 = model.energy(x, 0) * model.sigmas[0]
    f49 = model.energy(x, 49) * model.sigmas[49]
    assert torch.allclose(f0, f49, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        model.energy(x, 50)
    with pytest.raises(ValueError, match="features"):
        model.energy(torch.randn(5, 4), 0)
    # The normaliser travels in the model's state_dict.
    assert {"normalizer.mean", "normalizer.var", "sigmas"} <= set(model.state_dict())


def test_dsm_loss_is_zero_score_baseline_for_constant_energy():
    """A net with zero gradient scores exactly ½·E‖ε‖² ≈ D/2, the bar learning must beat."""
    model = NCSN(8, hidden=(16,), latent_dim=8)
    for p in model.parameters():
        torch.nn.init.zeros_(p)
    g = torch.Generator().manual_seed(1)
    loss = dsm_loss(model, torch.zeros(4096, 8), g)
    assert loss.item() == pytest.approx(4.0, rel=0.05)


def test_dsm_v2_energy_higher_on_data_than_off_data(trained_v2):
    trainer, losses = trained_v2
    assert all(math.isfinite(v) for v in losses)
    # Zero score gives D/2 = 1.0; a learned score must do clearly better.
    assert sum(losses[-100:]) / 100 < 0.7
    model = trainer.ema_model()
    data = mixture(512, torch.Generator().manual_seed(5))
    with torch.no_grad():
        for level in (30, 40, 49):  # σ ≈ 0.19, 0.04, 0.01; normalised clusters: ±1, std 0.05
            sigma = model.sigmas[level].item()
            e_centers = model.energy(CENTERS, level)
            e_data = model.energy(data, level)
            e_mid = model.energy(MIDPOINTS, level)
            e_far = model.energy(FAR, level)
            # Gap in σ·E units (v2's f); 0.3 means ΔE ≈ 7.5 at σ = 0.04, tanh(ΔE/10) ≈ 0.64.
            assert sigma * (e_centers.min() - e_mid.max()).item() > 0.3, level
            assert sigma * (e_data.mean() - e_mid.max()).item() > 0.3, level
            assert sigma * (e_mid.min() - e_far.max()).item() > 0.3, level


def test_dsm_v1_trains():
    trainer, losses = train("v1", 800)
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-100:]) / 100 < 0.5  # zero score: 1.0
    model = trainer.ema_model()
    smallest = model.num_levels - 1
    with torch.no_grad():
        gap = model.energy(CENTERS, smallest).min() - model.energy(FAR, smallest).max()
    assert gap.item() > 1.0


def test_ema_update_and_round_trip():
    torch.manual_seed(0)
    model = NCSN(3, hidden=(8,), latent_dim=4)
    ema = EMA(model, decay=0.9, warmup=False)
    before = {k: v.clone() for k, v in ema.shadow.items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    for k, p in model.named_parameters():
        assert torch.allclose(ema.shadow[k], 0.9 * before[k] + 0.1 * p)
    other = EMA(NCSN(3, hidden=(8,), latent_dim=4), decay=0.5)
    other.load_state_dict(ema.state_dict())
    assert other.decay == 0.9 and other.num_updates == 1 and not other.warmup
    target = NCSN(3, hidden=(8,), latent_dim=4)
    other.copy_to(target)
    for k, p in target.named_parameters():
        assert torch.equal(p, ema.shadow[k])


def test_ema_warmup_decay():
    ema = EMA(NCSN(2, hidden=(4,), latent_dim=2), decay=0.999)
    assert ema.current_decay() == pytest.approx(0.1)
    ema.num_updates = 100_000
    assert ema.current_decay() == pytest.approx(0.999)


def test_trainer_resume_gives_identical_next_loss():
    data = torch.randn(1000, 4, generator=torch.Generator().manual_seed(0)) * 3 + 1
    g = torch.Generator().manual_seed(7)
    torch.manual_seed(3)
    a = EnergyTrainer(NCSN(4, hidden=(32, 32), latent_dim=8), lr=1e-3)
    a.fit_normalizer(data)
    for _ in range(20):
        a.step(data[torch.randint(1000, (64,), generator=g)], g)
    buf = io.BytesIO()  # a real checkpoint: state_dict() holds live references
    torch.save(a.state_dict(), buf)
    gen_state = g.get_state()
    batch = data[torch.randint(1000, (64,), generator=g)]
    expected = [a.step(batch, g) for _ in range(3)]

    torch.manual_seed(99)  # different init: everything must come from the checkpoint
    b = EnergyTrainer(NCSN(4, hidden=(32, 32), latent_dim=8), lr=1e-3)
    buf.seek(0)
    b.load_state_dict(torch.load(buf))
    g2 = torch.Generator()
    g2.set_state(gen_state)
    batch2 = data[torch.randint(1000, (64,), generator=g2)]
    got = [b.step(batch2, g2) for _ in range(3)]
    assert got == expected
    assert b.num_steps == a.num_steps == 23
    for (k, p), q in zip(a.model.named_parameters(), b.model.parameters()):
        assert torch.equal(p, q), k
    for k in a.ema.shadow:
        assert torch.equal(a.ema.shadow[k], b.ema.shadow[k]), k


def test_ema_model_is_frozen_copy(trained_v2):
    trainer, _ = trained_v2
    model = trainer.ema_model()
    assert model is not trainer.model and not model.training
    assert model.normalizer.frozen
    assert not any(p.requires_grad for p in model.parameters())
    for k, p in model.named_parameters():
        assert torch.equal(p, trainer.ema.shadow[k])


def test_trainer_fails_loudly():
    trainer = EnergyTrainer(NCSN(2, hidden=(8,), latent_dim=4))
    g = torch.Generator().manual_seed(0)
    with pytest.raises(RuntimeError, match="fit_normalizer"):
        trainer.step(torch.randn(8, 2), g)
    trainer.fit_normalizer(torch.randn(100, 2))
    bad = torch.randn(8, 2)
    bad[3, 1] = float("nan")
    with pytest.raises(FloatingPointError, match="not finite"):
        trainer.step(bad, g)
    with pytest.raises(ValueError, match="shape"):
        trainer.fit_normalizer(torch.randn(10, 3))
