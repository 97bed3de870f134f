"""IIDM (``imitate train TASK iidm``) on the particle: the forward model fitted on random-action
episodes predicts held-out next observations far better than "nothing changes", and the policy
trained through it, never shown an expert action, acts far closer to the expert than a random
policy; on walker-walk the documented command runs end to end on data made here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from imitate.algos.bc_common import load_policy
from imitate.algos.iidm import build_iidm
from imitate.cli import main
from imitate.data.dataset import Demonstrations
from imitate.oracles.random_actions import random_action_episodes
from imitate.registry import get_task
from imitate.runner import run_config
from imitate.utils.run import Run
from tests.algos.from_observation import particle_data, random_policy_action_mse, run_dir, train_on_particle


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return particle_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory) -> Path:
    return train_on_particle("iidm", data, tmp_path_factory.mktemp("runs"))


def test_the_forward_model_predicts_held_out_transitions(fitted):
    m = json.loads((fitted / "metrics.json").read_text())
    assert m["forward_heldout_mse"] < 0.1 * m["forward_heldout_mse_copy"], m
    assert "normalised_score" not in m  # no expert_return given


def test_the_policy_acts_far_closer_to_the_expert_than_a_random_policy(fitted, data):
    m = json.loads((fitted / "metrics.json").read_text())
    assert m["demo_policy_action_mse"] < 0.1 * random_policy_action_mse(data["demos"]), m
    assert m["demo_policy_action_mse"] < 0.2 * m["demo_action_var"], m
    rows = [json.loads(line) for line in (fitted / "progress.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in rows if "forward_model/loss" in r) == 600
    assert max(r["step"] for r in rows if "bc/loss" in r) == 1200


def test_the_policy_is_tanh_bounded_and_checkpointed_without_the_forward_model(fitted):
    run = Run.open(fitted)
    policy = load_policy(run, get_task("particle"), run_config(run), build_iidm)  # strict: policy keys only
    assert policy.predict_next is None
    with torch.no_grad():
        action_n = policy.act_normalized(torch.randn(64, policy.obs_dim) * 100, None)
    assert action_n.abs().max() <= 1.0


def test_the_walker_command_runs_end_to_end(tmp_path):
    """`imitate train walker-walk iidm|bco embodiment=E demos=D` and `imitate eval` with an expert return."""
    task = get_task("walker-walk")
    embodiment, demos = tmp_path / "random.npz", tmp_path / "expert.npz"
    random_action_episodes(task, 2, seed=1).save(embodiment)
    stand_in = random_action_episodes(task, 1, seed=2)  # no walker expert exists: any observations will do
    Demonstrations(stand_in.obs, stand_in.episode_ends, None, stand_in.metadata).save(demos)
    tiny = ["model_iterations=3", "iterations=3", "width=8", "blocks=1", "model_width=8", "eval_episodes=1"]
    for algo in ("bco", "iidm"):
        argv = ["train", "walker-walk", algo, f"embodiment={embodiment}", f"demos={demos}", *tiny, "progress=false"]
        assert main([*argv, "expert_return=800", f"out_dir={tmp_path / 'runs'}"]) == 0
        run = run_dir(tmp_path / "runs" / "walker-walk" / algo)
        if algo == "bco":
            assert main(["eval", str(run), "--episodes", "1"]) == 0
        m = json.loads((run / "metrics.json").read_text())
        assert m["episode_length"] == 500 and m["normalised_score"] == pytest.approx(100 * m["return"] / 800)
        assert "demo_policy_action_mse" not in m  # the demos record no actions
