"""Slow learning check (pytest -m slow): NEAR learns the maze end to end at a reduced budget."""

import json

import pytest

from imitate import runner


@pytest.mark.slow
def test_near_learns_the_maze(tmp_path):
    energy = runner.train("maze", "energy", {"out_dir": str(tmp_path), "iterations": "5000", "progress": "false"})
    metrics = json.loads((energy.dir / "metrics.json").read_text())
    assert metrics["energy_gap_smallest_sigma"] > 0  # data scores above off-data transitions
    near = runner.train(
        "maze",
        "near",
        {"out_dir": str(tmp_path), "energy": str(energy.dir), "total_steps": "200000", "progress": "false"},
    )
    metrics = json.loads((near.dir / "metrics.json").read_text())
    assert metrics["episodes"] == 100 and metrics["success_rate"] >= 0.9
