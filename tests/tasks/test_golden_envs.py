"""The envs reproduce, step for step, what the pre-refactor envs returned for the same seeds and
actions, and the oracles the same demonstrations (fixtures recorded by tests/fixtures/make_golden.py
at commit 3fca76b)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.fixtures.make_golden import CASES, FIELDS, ORACLES, oracle_demos, task_env

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden"


@pytest.mark.parametrize("name,num_envs,steps", CASES, ids=[c[0] for c in CASES])
def test_env_matches_recorded_steps(name, num_envs, steps):
    data = np.load(GOLDEN / f"{name}.npz")
    env = task_env(name, num_envs, seed=7)
    np.testing.assert_allclose(env.reset(seed=7).numpy(), data["reset"][0], rtol=0, atol=1e-5)
    for t in range(steps):
        step = env.step(torch.as_tensor(data["action"][t]))
        for field in FIELDS:
            got, want = getattr(step, field).detach().cpu().numpy(), data[field][t]
            assert got.shape == want.shape, f"{name} step {t} {field}: shape {got.shape} != {want.shape}"
            if want.dtype == bool:
                assert (got == want).all(), f"{name} step {t} {field} differs"
            else:
                np.testing.assert_allclose(got, want, rtol=0, atol=1e-5, err_msg=f"{name} step {t} {field}")


@pytest.mark.parametrize("name,episodes", ORACLES, ids=[c[0] for c in ORACLES])
def test_oracle_makes_the_recorded_demonstrations(name, episodes):
    data = np.load(GOLDEN / f"oracle-{name}.npz")
    for key, value in oracle_demos(name, episodes).items():
        assert np.array_equal(value, data[key]), f"{name} oracle: {key} differs"
