"""The proximity gate's renormalised share for separately composed parts (rewards/gate.py): AMP's
discriminators under ``style_gate=``, the rule NEAR's energy sum applies inside one energy."""

import pytest
import torch

from imitate.rewards.compose import ComposedReward
from imitate.rewards.gate import GatedShare, ProximityGate
from tests.rewards.test_energy_sum import _step as energy_step


class Constant:
    def __init__(self, value: float):
        self.value = value
        self.last_terms: dict[str, torch.Tensor] = {}
        self.loaded = None

    def __call__(self, obs, action, step):
        out = torch.full((len(step.reward),), self.value)
        self.last_terms = {f"r_{self.value:g}": out}
        return out

    def absorbing_value(self, value):
        return value

    def update(self, transitions):
        return {"stat": self.value}

    def state_dict(self):
        return {"value": self.value}

    def load_state_dict(self, state):
        self.loaded = state


def _step(distance):
    return energy_step(torch.zeros(len(distance), 2), distance)


def test_the_gated_sum_matches_the_renormalised_formula():
    """walk pays 2, punch 10, weights 3:1, punch's scale 0.5. Env 0 is near (both on): 0.75·2 +
    0.25·0.5·10; env 1 is far (punch off): walk alone, its share renormalised to 1."""
    gate = ProximityGate("punch", 1.0)
    shares = {"walk": 0.75, "punch": 0.25}
    walk, punch = GatedShare(Constant(2.0), "walk", gate, shares), GatedShare(Constant(10.0), "punch", gate, shares)
    reward = ComposedReward({"style_walk": (0.75, walk), "style_punch": (0.25 * 0.5, punch)})
    near, far = reward(None, None, _step([0.5, 2.0])).tolist()
    assert near == pytest.approx(0.75 * 2.0 + 0.25 * 0.5 * 10.0)
    assert far == pytest.approx(2.0)
    assert set(reward.last_terms) == {"r_2", "r_10"}


def test_the_wrapper_keeps_the_parts_learning_state_and_absorbing_value():
    part = Constant(3.0)
    gated = GatedShare(part, "walk", ProximityGate("punch", 1.0), {"walk": 0.5, "punch": 0.5})
    assert gated.update(torch.zeros(1, 2)) == {"stat": 3.0}
    gated.load_state_dict(gated.state_dict())
    assert part.loaded == {"value": 3.0}
    assert torch.equal(gated.absorbing_value(torch.ones(2)), torch.ones(2))


def test_bad_shares_are_refused():
    gate = ProximityGate("punch", 1.0)
    with pytest.raises(ValueError, match="'punch': not one of several parts"):
        GatedShare(Constant(1.0), "walk", gate, {"walk": 1.0})
    with pytest.raises(ValueError, match="sum to 1"):
        GatedShare(Constant(1.0), "walk", gate, {"walk": 0.5, "punch": 0.6})
