"""Composed energies (rewards/energy_sum.py): scale factors, the weighted scaled sum, one shared
level, the proximity gate, and the checkpoint state, on hand-made energy models whose energies
are known in closed form."""

import math

import pytest
import torch

from imitate.models.energy import NCSN
from imitate.rewards.energy_sum import ComposedEnergyReward, composition_scales
from imitate.rewards.gate import GOAL_DISTANCE, ProximityGate
from imitate.tasks.core.vecenv import StepResult

RAW = 4  # a raw pair: (a, b | c, d)


class LinearEnergy(NCSN):
    """E(x, σ) = (x · direction)/σ, reading ``columns`` of a raw pair (identity normaliser)."""

    def __init__(self, direction, columns, version="v2"):
        super().__init__(len(columns), hidden=(2,), latent_dim=2, version=version, columns=columns, raw_dim=RAW)
        self.direction = torch.tensor(direction, dtype=torch.float32)

    def forward(self, x_norm, level):
        return (x_norm @ self.direction) / self.sigmas[level]


def _models():
    # walk reads columns 0, 2 (its "mask"), punch columns 1, 3
    return {"walk": LinearEnergy([1.0, 1.0], [0, 2]), "punch": LinearEnergy([-2.0, 0.0], [1, 3])}


def _step(pairs, distance=None):
    n = len(pairs)
    false = torch.zeros(n, dtype=torch.bool)
    extras = {} if distance is None else {GOAL_DISTANCE: torch.tensor(distance)}
    return StepResult(
        obs=torch.zeros(n, 1),
        reward=torch.zeros(n),
        terminated=false,
        truncated=false,
        final_obs=torch.zeros(n, 1),
        success=false,
        transition=pairs,
        extras=extras,
    )


def test_scale_factors_bring_each_model_to_the_first_ones_mean_magnitude():
    """At σ_0 = 20: walk's data (0.4, ·, 0.6, ·) has E = 1.0/20 = 0.05; punch's data (·, 2, ·, ·)
    E = −4/20 = −0.2; s_punch = |0.05| / |−0.2| = 0.25 (a magnitude: the sign stays)."""
    models = _models()
    walk_pairs = torch.tensor([[0.4, 9.0, 0.6, 9.0]] * 5)  # punch's columns hold anything
    punch_pairs = torch.tensor([[9.0, 2.0, 9.0, 3.0]] * 7)
    scales = composition_scales(models, {"walk": walk_pairs, "punch": punch_pairs})
    assert scales == pytest.approx([1.0, 0.25])
    with pytest.raises(ValueError, match="energy model 'punch' has mean 0 on its data"):
        composition_scales(models, {"walk": walk_pairs, "punch": torch.zeros(3, RAW)})


def test_the_combined_reward_is_the_weighted_scaled_sum_through_nears_tanh():
    models = _models()
    reward = ComposedEnergyReward(models, [3.0, 1.0], [1.0, 0.25], scale=10.0, normalise=False)
    pairs = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0]])
    sigma = 20.0
    e_walk = (pairs[:, 0] + pairs[:, 2]) / sigma
    e_punch = -2.0 * pairs[:, 1] / sigma
    expected = 0.75 * e_walk + 0.25 * 0.25 * e_punch  # weights 3:1, relative
    r = reward(None, None, _step(pairs))
    energy = reward.last_terms["energy"]
    assert torch.allclose(energy, expected, atol=1e-7)
    assert torch.allclose(reward.last_terms["energy_walk"], e_walk)
    assert torch.allclose(reward.last_terms["energy_punch"], e_punch)
    # one energy through NEAR's normalisation: m = the first batch's mean, divisor 10
    assert torch.allclose(r, torch.tanh((expected - expected.mean()) / 10.0), atol=1e-7)
    stats = reward.update(pairs)
    assert stats["near/mean_energy"] == pytest.approx(float(expected.mean()), abs=1e-7)
    assert stats["near/energy_walk"] == pytest.approx(float(e_walk.mean()))
    assert stats["near/energy_punch"] == pytest.approx(float(e_punch.mean()))
    assert stats["near/scale_punch"] == 0.25


def test_every_model_follows_one_level_driven_by_the_sum():
    models = _models()
    reward = ComposedEnergyReward(models, [1.0, 1.0], [1.0, 1.0], normalise=False)
    reward.annealer.level = 10  # as if annealed there
    pairs = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    sigma = float(models["walk"].sigmas[10])
    reward(None, None, _step(pairs))
    assert torch.allclose(reward.last_terms["energy_walk"], torch.tensor([4.0 / sigma]))
    assert torch.allclose(reward.last_terms["energy_punch"], torch.tensor([-4.0 / sigma]))
    # the annealer observes the summed rollout mean (0 here: walk and punch cancel)
    reward.update(pairs)
    assert list(reward.annealer.history) == pytest.approx([0.0])


def test_models_on_different_noise_ladders_are_refused():
    models = {"walk": LinearEnergy([1.0, 1.0], [0, 2]), "punch": LinearEnergy([1.0, 1.0], [1, 3], version="v1")}
    with pytest.raises(ValueError, match="need one noise ladder: 'walk' has 50 levels \\(v2\\), 'punch' 10 \\(v1\\)"):
        ComposedEnergyReward(models, [1.0, 1.0], [1.0, 1.0])


def test_the_gate_switches_a_term_on_only_within_the_distance():
    """Env 0 is 0.5 m from its goal (punch on: the 3:1 sum), env 1 is 2 m away (punch off: walk's
    scaled energy alone, the weights renormalised so the sum keeps its magnitude)."""
    models = _models()
    gate = ProximityGate("punch", 1.0)
    reward = ComposedEnergyReward(models, [3.0, 1.0], [1.0, 0.5], gate, normalise=False)
    pairs = torch.tensor([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    reward(None, None, _step(pairs, distance=[0.5, 2.0]))
    e_walk, e_punch = 4.0 / 20.0, -4.0 / 20.0
    on, off = reward.last_terms["energy"].tolist()
    assert on == pytest.approx(0.75 * e_walk + 0.25 * 0.5 * e_punch)
    assert off == pytest.approx(e_walk)
    assert gate.on(_step(pairs, distance=[1.0, 1.01])).tolist() == [True, False]  # within: ≤
    # the rollout statistics are those of the gated energies the policy was rewarded with
    assert reward.update(pairs)["near/mean_energy"] == pytest.approx((on + off) / 2)
    with pytest.raises(ValueError, match="needs a task that reports goal_distance"):
        reward(None, None, _step(pairs))


def test_a_gate_needs_one_of_several_models():
    with pytest.raises(ValueError, match="'kick': not one of several models"):
        ComposedEnergyReward(_models(), [1.0, 1.0], [1.0, 1.0], ProximityGate("kick", 1.0))
    with pytest.raises(ValueError, match="distance must be positive"):
        ProximityGate("punch", 0.0)


def test_the_state_round_trips_and_refuses_another_composition():
    reward = ComposedEnergyReward(_models(), [1.0, 2.0], [1.0, 0.5], normalise=False)
    pairs = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    reward(None, None, _step(pairs))
    reward.update(pairs)
    state = reward.state_dict()
    again = ComposedEnergyReward(_models(), [1.0, 1.0], [1.0, 1.0], normalise=False)
    again.load_state_dict(state)
    assert again.weights == pytest.approx({"walk": 1 / 3, "punch": 2 / 3}) and again.scales["punch"] == 0.5
    assert again.offset == pytest.approx(reward.offset)
    other = ComposedEnergyReward(
        {"walk": LinearEnergy([1.0, 1.0], [0, 2]), "wave": LinearEnergy([1.0, 1.0], [1, 3])}, [1, 1], [1, 1]
    )
    with pytest.raises(ValueError, match="do not match this composition"):
        other.load_state_dict(state)
    assert math.isfinite(reward.spread)
