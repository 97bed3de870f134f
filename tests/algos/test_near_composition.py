"""Masked energy runs and composed NEAR rewards on the humanoid (issue 14): a masked run keeps its
mask, a NEAR run of another mask is refused in one line, several runs compose with their own
masks and scales; the ``energy=`` / ``energy_gate=`` syntax; AMP's discriminator under a mask."""

import json

import pytest
import torch

from imitate.algos.demos import trained_demos
from imitate.algos.energy import load_energy_model
from imitate.algos.labelled_runs import gate_option
from imitate.algos.near import make_near_reward
from imitate.algos.near_config import energy_sources
from imitate.config import ConfigError
from imitate.models.energy import batched_energy
from imitate.registry import TASKS
from imitate.rewards.adversarial import AMPReward
from imitate.rewards.energy_sum import ComposedEnergyReward
from imitate.runner import resolve_config, train
from imitate.tasks.humanoid.masks import pair_columns
from tests.algos.test_amp_composition import TINY as AMP_TINY

TINY_PPO = {k: v for k, v in AMP_TINY.items() if k not in ("demo_episodes", "disc.hidden")}  # the PPO part
TINY = {"iterations": 5, "demo_episodes": 2, "hidden": "8,8", "checkpoint_every": 5, "progress": False}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny energy runs: walk on the lower body, punch on the upper body."""
    out = tmp_path_factory.mktemp("energy")
    walk = train("humanoid", "energy", {**TINY, "motion": "walk", "mask": "lower", "out_dir": str(out)})
    punch = train("humanoid", "energy", {**TINY, "motion": "punch", "mask": "upper", "out_dir": str(out)})
    return str(walk.dir), str(punch.dir)


def test_a_masked_energy_run_keeps_its_mask_and_refuses_another(runs):
    walk, _ = runs
    model = load_energy_model(walk, "humanoid", 210)
    assert tuple(model.columns) == pair_columns("lower") and model.in_dim == 136 and model.raw_dim == 210
    assert model.select(torch.zeros(3, 210)).shape == (3, 136)
    resolve_config("humanoid", "near", {"energy": walk, "mask": "lower"})  # the same mask: accepted
    with pytest.raises(ConfigError) as exc:
        resolve_config("humanoid", "near", {"energy": walk, "mask": "upper"})
    message = str(exc.value)
    assert "\n" not in message and "was trained with mask=lower, this run has mask=upper" in message


def test_composed_runs_each_use_their_own_mask_and_scale(runs):
    walk, punch = runs
    cfg = resolve_config(
        "humanoid", "near", {"energy": f"walk:{walk},punch:{punch}", "energy_weights": "0.6,0.4", "num_envs": 2}
    )
    env = TASKS["humanoid"].make_env(2, seed=0, cfg=cfg)
    energy = make_near_reward(TASKS["humanoid"], cfg, env).part("energy")
    assert isinstance(energy, ComposedEnergyReward)
    assert tuple(energy.models["punch"].columns) == pair_columns("upper")
    means = {}
    for label, path in (("walk", walk), ("punch", punch)):
        model = load_energy_model(path, "humanoid", 210)
        means[label] = float(
            batched_energy(model, model.select(trained_demos(TASKS["humanoid"], path).transitions()), 0).mean()
        )
    assert energy.scales["walk"] == 1.0 and abs(energy.scales["punch"] - 1) > 1e-3  # a scale that matters
    assert energy.scales["punch"] == pytest.approx(abs(means["walk"]) / abs(means["punch"]), rel=1e-5)
    assert energy.weights == pytest.approx({"walk": 0.6, "punch": 0.4})
    env.reset(seed=0)
    step = env.step(torch.zeros(2, env.act_dim))
    r = energy(None, None, step)
    e = energy.last_terms
    expected = 0.6 * e["energy_walk"] + 0.4 * energy.scales["punch"] * e["energy_punch"]
    assert torch.allclose(e["energy"], expected) and torch.isfinite(r).all()
    env.close()


def test_composition_inputs_are_checked_in_one_line(runs):
    walk, punch = runs
    both = f"walk:{walk},punch:{punch}"
    cases = [
        ({"energy": both, "energy_weights": "1"}, "energy_weights has 1 weights for 2 energy models"),
        ({"energy": both, "mask": "lower"}, "mask=lower names the mask of one energy model"),
        ({"energy": both, "energy_gate": "punch:1.5"}, "task 'humanoid' reports no goal_distance"),
        ({"energy": both, "energy_gate": "kick:1.5"}, "'kick' is not one of several composed runs"),
        ({"energy": walk, "energy_gate": "walk:1"}, "not one of several composed runs"),
        ({"energy": f"{walk},{punch}"}, "several runs need distinct labels"),
    ]
    for overrides, message in cases:
        with pytest.raises(ConfigError, match=message):
            resolve_config("humanoid", "near", overrides)


def test_energy_sources_and_gate_syntax():
    assert energy_sources("") == []
    assert energy_sources("runs/x") == [("", "runs/x")]
    assert energy_sources("pretrained:maze/energy") == [("", "pretrained:maze/energy")]
    assert energy_sources("walk:a/b, wave:/c") == [("walk", "a/b"), ("wave", "/c")]
    with pytest.raises(ConfigError, match="energy=walk:a,walk:b: several runs need distinct labels"):
        energy_sources("walk:a,walk:b")
    assert gate_option("punch:1.5") == ("punch", 1.5)
    for bad in ("punch", "punch:far", "punch:-1", ":2"):
        with pytest.raises(ConfigError, match="give LABEL:METRES"):
            gate_option(bad)


def test_amps_discriminator_reads_only_the_masked_columns():
    g = torch.Generator().manual_seed(0)
    expert = torch.randn(64, 210, generator=g)
    columns = pair_columns("upper")
    amp = AMPReward(expert, hidden=(8,), batch_size=16, updates=1, columns=columns)
    assert amp.disc.config["in_dim"] == len(columns) == 100 and amp.expert.shape == (64, 100)
    pairs = torch.randn(5, 210, generator=g)
    others = [c for c in range(210) if c not in set(columns)]
    moved = pairs.clone()
    moved[:, others] += 3.0  # the lower body only
    assert torch.equal(amp.style_reward(amp.select(pairs)), amp.style_reward(amp.select(moved)))
    assert amp.update(pairs)["amp/loss"] > 0


def test_a_composed_runs_eval_reports_the_pose_error_against_each_source(runs, tmp_path):
    walk, punch = runs
    near = train(
        "humanoid",
        "near",
        {**TINY_PPO, "energy": f"walk:{walk},punch:{punch}", "eval_episodes": 2, "out_dir": str(tmp_path)},
    )
    metrics = json.loads((near.dir / "metrics.json").read_text())
    for label in ("walk", "punch"):
        assert metrics[f"motion_pose_error_dtw_m_{label}"] > 0  # a barely trained policy is far from both
        assert f"motion_top2_pose_error_dtw_m_{label}" in metrics
