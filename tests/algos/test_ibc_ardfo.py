"""IBC with autoregressive DFO: it learns the particle oracle's set-points at N = 2, and at N = 8,
where a plain DFO over the 8-D box with the same samples cannot find them, it still does."""

import pytest
import torch

from imitate.algos.bc_common import BCTrainer
from imitate.algos.ibc import ImplicitPolicy
from imitate.algos.ibc_ardfo import AutoregressivePolicy
from imitate.cli import main
from imitate.config import ConfigError
from imitate.registry import get_task
from imitate.runner import resolve_config

SMALL = {
    "width": "64",
    "blocks": "1",
    "batch_size": "128",
    "counter_examples": "16",
    "lr": "3e-3",
    "dfo_samples": "256",
}


def _setpoint_error(algo: str, n_dim: int, iterations: int, episodes: int = 150) -> float:
    """Median |π(o) − oracle(o)| (normalised action units, per coordinate) on 500 held-out demo
    states of a policy trained ``iterations`` steps on ``episodes`` oracle episodes."""
    cfg = resolve_config(
        "particle", algo, {**SMALL, "n_dim": str(n_dim), "iterations": str(iterations)}, check_inputs=False
    )
    task = get_task("particle")
    train = task.run_oracle(episodes, seed=0, progress=False, cfg=cfg)
    held_out = task.run_oracle(40, seed=1, progress=False, cfg=cfg)
    obs, act = torch.from_numpy(train.obs), torch.from_numpy(train.actions)
    torch.manual_seed(0)
    cls = AutoregressivePolicy if algo == "ibc-ardfo" else ImplicitPolicy
    policy = cls(obs.shape[1], act.shape[1], cfg)
    policy.normalizer.fit(obs, act)
    g = torch.Generator().manual_seed(0)
    BCTrainer(policy, cfg).fit(policy.normalizer.obs(obs), policy.normalizer.action(act), g)
    policy.eval()
    test_obs, test_act = torch.from_numpy(held_out.obs)[:500], torch.from_numpy(held_out.actions)[:500]
    with torch.no_grad():
        picked = policy.act_normalized(policy.normalizer.obs(test_obs), g)
    return (picked - policy.normalizer.action(test_act)).abs().median().item()


def test_ardfo_learns_the_particle_set_points_at_n_2():
    """300 steps (a few seconds): the oracle's set-point is recovered to within a few percent of
    the action box (half-width 1), where an untrained policy's median error is ~0.5."""
    assert _setpoint_error("ibc-ardfo", 2, 300) < 0.05
    assert _setpoint_error("ibc-ardfo", 2, 1) > 0.2  # untrained: the measure can fail


@pytest.mark.slow
def test_ardfo_beats_plain_dfo_at_n_8():
    """Same data, net, batch, counter-examples and DFO samples (256) at N = 8: plain DFO searches
    the 8-D box at once, ARDFO one coordinate at a time."""
    ardfo = _setpoint_error("ibc-ardfo", 8, 600)
    plain = _setpoint_error("ibc-dfo", 8, 600)
    assert ardfo < 0.5 * plain, (ardfo, plain)


def test_ardfo_refuses_langevin_settings_in_one_line(capsys):
    with pytest.raises(ConfigError, match="ibc-ardfo trains on uniform counter-examples"):
        resolve_config("particle", "ibc-ardfo", {"inference": "langevin"}, check_inputs=False)
    assert main(["train", "particle", "ibc-ardfo", "langevin_negatives=true"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
