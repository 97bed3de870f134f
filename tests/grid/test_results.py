"""Results tables from run directories: mean, sample std, 95% CI and n on known numbers."""

import csv
import json
import math

import pytest

from imitate.cli import main
from imitate.grid.results import render_markdown, summarise, task_table, write_results


def test_summary_of_known_numbers():
    s = summarise([1.0, 2.0, 3.0, 4.0])
    # std with n - 1: sqrt(5/3); t(0.975, 3 dof) = 3.182446305; half-width t * s / sqrt(4)
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert s["mean"] == 2.5 and s["n"] == 4 and s["std"] == pytest.approx(math.sqrt(5 / 3), rel=1e-12)
    assert s["ci95"] == pytest.approx([2.5 - half, 2.5 + half], rel=1e-9)
    assert summarise([0.7]) == {"mean": 0.7, "std": None, "ci95": None, "n": 1}
    assert summarise([2.0, 2.0])["ci95"] == [2.0, 2.0]


def fake_grid(base, cells):
    """A grid directory with finished runs: cells = {(algo, cell): {seed: metrics}}; the cell
    ``lr=1`` has the axis value lr = 1."""
    jobs = []
    for (algo, cell), seeds in cells.items():
        axes = dict([cell.split("=")])
        for seed, metrics in seeds.items():
            jobs.append({"task": "maze", "algo": algo, "cell": cell, "axes": axes, "seed": seed, "role": "grid"})
            if metrics is None:
                continue
            run = base / "runs" / cell / "maze" / algo / f"20270101-000000-{seed}"
            run.mkdir(parents=True)
            (run / "metrics.json").write_text(json.dumps({"task": "maze", **metrics}))
            rows = [{"step": s, "episode/success_rate": metrics["success_rate"] * s / 100} for s in (0, 50, 100)]
            (run / "progress.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (base / "manifest.json").write_text(json.dumps({"jobs": jobs}))


def test_tables_and_curves_are_rebuilt_from_the_runs(tmp_path, capsys):
    fake_grid(
        tmp_path,
        {
            ("ppo", "lr=1"): {0: {"success_rate": 1.0}, 1: {"success_rate": 0.5}, 2: None},
            ("ppo", "lr=2"): {0: {"success_rate": 0.25, "episodes": 4}},
        },
    )
    assert main(["results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    table = json.loads((tmp_path / "results" / "maze.json").read_text())
    first, second = table["rows"]
    assert first["axes"] == {"lr": "1"} and first["seeds"] == 2 and first["missing_seeds"] == [2]
    assert first["metrics"]["success_rate"]["mean"] == 0.75 and first["metrics"]["success_rate"]["n"] == 2
    assert second["metrics"]["success_rate"] == {"mean": 0.25, "std": None, "ci95": None, "n": 1}
    half = 12.706204736174698 * math.sqrt(0.125) / math.sqrt(2)  # t(0.975, 1 dof)
    assert first["metrics"]["success_rate"]["ci95"] == pytest.approx([0.75 - half, 0.75 + half], rel=1e-9)
    assert f"| ppo | 1 | 2 | 0.75 ± 0.35 [{0.75 - half:.3g}, {0.75 + half:.3g}] |" in out
    assert "| ppo | 2 | 1 | 0.25 |" in out
    with open(tmp_path / "results" / "maze.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["success_rate_mean"] == "0.75" and rows[1]["success_rate_std"] == ""
    assert rows[1]["episodes_mean"] == "4.0" and rows[0]["episodes_mean"] == ""  # seed 0 of lr=1 has no count
    assert (tmp_path / "results" / "plots" / "maze" / "episode_success_rate.png").stat().st_size > 0


def test_a_metric_only_some_seeds_report_is_left_out_of_that_row():
    cells = [
        {"algo": "a", "axes": {}, "runs": [{"metrics": {"x": 1.0, "y": 2.0}}, {"metrics": {"x": 3.0}}], "missing": []}
    ]
    table = task_table("maze", cells)
    assert table["metrics"] == ["x"] and table["rows"][0]["metrics"]["x"]["mean"] == 2.0
    assert "| a | 2 | 2 ± 1.4 [" in render_markdown(table)


def test_results_of_a_directory_that_is_no_grid_is_one_line(tmp_path, capsys):
    assert main(["results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a grid directory (no manifest.json)" in err
    with pytest.raises(Exception, match="not a grid directory"):
        write_results(tmp_path)


def test_axes_keep_the_sweep_order(tmp_path):
    run = tmp_path / "runs" / "z=1,a=2" / "maze" / "ppo" / "20270101-000000-0"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"success_rate": 1.0}))
    job = {"task": "maze", "algo": "ppo", "cell": "z=1,a=2", "axes": {"a": "2", "z": "1"}, "seed": 0, "role": "grid"}
    (tmp_path / "manifest.json").write_text(json.dumps({"axes": ["z", "a"], "jobs": [job]}))
    write_results(tmp_path)
    assert json.loads((tmp_path / "results" / "maze.json").read_text())["axes"] == ["z", "a"]
    assert "| algo | z | a | seeds | success_rate |" in (tmp_path / "results" / "maze.md").read_text()
