"""BCO(0) (``imitate train TASK bco``) on the particle: an inverse dynamics model fitted on
random-action episodes labels the oracle's observation-only demonstrations close to the
oracle's true actions, the cloned policy acts far closer to the expert than a random policy,
the demonstrations' actions cannot reach training, and a run killed at the end of the first
stage or inside the second resumes to the uninterrupted run bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from imitate.cli import main
from imitate.utils.reproducibility import differences
from imitate.utils.run import Run, load_checkpoint
from tests.algos.from_observation import particle_data, random_policy_action_mse, run_dir, train_on_particle

TINY = ["model_iterations=12", "iterations=12", "width=16", "blocks=1", "model_width=16", "eval_episodes=2"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return particle_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory) -> Path:
    return train_on_particle("bco", data, tmp_path_factory.mktemp("runs"), "expert_return=0.5")


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_the_inverse_model_labels_the_demos_close_to_the_expert_actions(fitted):
    m = _metrics(fitted)
    # chance: always answering the mean action (the actions' variance); labels must be 20x better
    assert m["demo_label_action_mse"] < 0.05 * m["demo_action_var"], m
    assert m["idm_heldout_action_mse"] < 0.05 * m["idm_heldout_action_var"], m
    assert m["embodiment_heldout_transitions"] > 0 and m["model_iterations"] == 600


def test_the_cloned_policy_acts_far_closer_to_the_expert_than_a_random_policy(fitted, data):
    m = _metrics(fitted)
    assert m["demo_policy_action_mse"] < 0.1 * random_policy_action_mse(data["demos"]), m
    assert m["demo_policy_action_mse"] < 0.2 * m["demo_action_var"], m
    assert m["normalised_score"] == pytest.approx(100 * m["return"] / 0.5)
    assert {"success_rate", "return", "episode_length"} <= set(m)


def test_a_run_logs_both_stages(fitted):
    rows = [json.loads(line) for line in (fitted / "progress.jsonl").read_text().splitlines()]
    idm = [r["step"] for r in rows if "idm/loss" in r]
    bc = [r["step"] for r in rows if "bc/loss" in r]
    assert idm and max(idm) == 600 and bc and min(bc) > 600 and max(bc) == 1200
    assert (fitted / "embodiment.npz").exists() is False  # embodiment= was given: nothing generated
    assert any((fitted / "tb").iterdir()) and (fitted / "plots" / "trajectories.png").is_file()


def test_the_demonstrations_actions_cannot_reach_training(data, tmp_path):
    """The same observations with the oracle's actions, random actions or none train the same model."""
    states = []
    for name in ("demos", "scrambled", "observations"):
        out = tmp_path / name
        argv = ["train", "particle", "bco", f"embodiment={data['embodiment']}", f"demos={data[name]}", *TINY]
        assert main([*argv, "progress=false", f"out_dir={out}"]) == 0
        states.append(load_checkpoint(run_dir(out) / "checkpoints" / "latest.pt"))
    for state in states[1:]:
        for part in ("trainer", "dynamics"):
            a, b = states[0][part], state[part]
            for key, tensor in a["policy" if part == "trainer" else "model"].items():
                other = b["policy" if part == "trainer" else "model"][key]
                assert torch.equal(tensor, other), (part, key)


class Killed(BaseException):
    """Stands in for SIGKILL right after a checkpoint was written."""


@pytest.mark.parametrize("kill_at", [12, 18], ids=["end-of-stage-1", "inside-stage-2"])
def test_a_killed_run_resumes_to_the_uninterrupted_one(kill_at, data, tmp_path, monkeypatch):
    argv = ["train", "particle", "bco", f"demos={data['observations']}", *TINY, "embodiment_episodes=6"]
    argv += ["checkpoint_every=6", "progress=false"]
    assert main([*argv, f"out_dir={tmp_path / 'reference'}"]) == 0
    save = Run.save_checkpoint

    def save_then_die(self, state, iteration=0, log_step=None):
        save(self, state, iteration=iteration, log_step=log_step)
        if iteration == kill_at:
            raise Killed

    monkeypatch.setattr(Run, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        main([*argv, f"out_dir={tmp_path / 'killed'}"])
    monkeypatch.setattr(Run, "save_checkpoint", save)
    run = run_dir(tmp_path / "killed")
    assert (run / "embodiment.npz").is_file()  # generated once into the run, read back on resume
    assert main(["train", "particle", "bco", f"resume={run}"]) == 0
    assert differences(run, run_dir(tmp_path / "reference")) == []
