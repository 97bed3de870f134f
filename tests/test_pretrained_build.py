"""Stripping a checkpoint to what evaluation reads (the rest of a build trains for minutes: docs/pretrained.md)."""

import pytest
import torch

from imitate.config import ConfigError
from imitate.pretrained_build import EVAL_STATE, strip_checkpoint
from imitate.registry import ALGOS


def test_strip_keeps_what_evaluation_reads_and_nothing_else():
    weights = {"w": torch.ones(2)}
    state = {
        "task": "maze",
        "algo": "amp",
        "ppo": {
            "model": weights,
            "optimizer": {"state": {}},
            "reward": {"style": {"disc": weights, "disc_config": {"hidden": [4]}, "replay": torch.zeros(9)}},
        },
        "env": {"qpos": torch.zeros(3)},
        "rng": {"torch": torch.zeros(5)},
        "resume": {"iteration": 7},
    }
    kept = strip_checkpoint(state, "amp")
    assert kept == {
        "task": "maze",
        "algo": "amp",
        "ppo": {"model": weights, "reward": {"style": {"disc": weights, "disc_config": {"hidden": [4]}}}},
    }
    assert "optimizer" in state["ppo"]  # the input is left as it was


def test_every_algorithm_has_a_pretrained_form_and_cem_is_refused():
    assert set(EVAL_STATE) == set(ALGOS) - {"cem"}  # CEM trains nothing: its run is its energy model
    with pytest.raises(ConfigError, match="no pretrained form for 'cem'"):
        strip_checkpoint({"task": "maze", "algo": "cem"}, "cem")
