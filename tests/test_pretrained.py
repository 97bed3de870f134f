"""The pretrained runs that ship with the package: listed, evaluated as recorded, never written to."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from imitate import pretrained
from imitate.cli import main
from imitate.pretrained_build import MAX_BYTES, strip_checkpoint


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def _leaves(state, prefix=""):
    """Every path a/b/c of a nested checkpoint down to its values."""
    for key, value in state.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}"


def test_every_catalog_entry_ships_small_and_weights_only():
    assert set(pretrained.CATALOG) == {
        "maze/energy",
        "maze/near",
        "maze/amp",
        "particle/ibc-dfo",
        "humanoid-walk/deepmimic",
    }
    for entry in pretrained.CATALOG.values():
        assert (entry.path / "config.yaml").is_file() and (entry.path / "metrics.json").is_file(), entry.name
        assert entry.size_bytes() < MAX_BYTES, (entry.name, entry.size_bytes())
        assert (entry.path / "demos.npz").is_file() == entry.demos, entry.name
        state = torch.load(entry.path / "checkpoints" / "latest.pt", weights_only=True)
        assert (state["task"], state["algo"]) == (entry.task, entry.algo)
        leaves = set(_leaves(state))
        assert leaves == set(_leaves(strip_checkpoint(state, entry.algo))), entry.name  # what eval reads, only
        assert not [p for p in leaves if "optimizer" in p or p.startswith(("rng", "env", "resume"))], entry.name


def test_listing_names_task_algo_score_and_size(capsys):
    assert main(["pretrained"]) == 0
    lines = capsys.readouterr().out.splitlines()
    near = next(line for line in lines if line.startswith("maze/near "))
    recorded = pretrained.get("maze/near").metrics()
    assert near.split()[1:3] == ["maze", "near"]
    assert f"success {recorded['success_rate']:.2f} of {recorded['episodes']} episodes" in near
    assert near.endswith(" MB")
    assert len(lines) == 2 + len(pretrained.CATALOG)  # header, one row each, how to evaluate


def test_eval_pretrained_gives_the_recorded_result(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    entry = pretrained.get("maze/near")
    before = _files(pretrained.PRETRAINED_DIR)
    assert main(["eval", "pretrained:maze/near", "--video"]) == 0
    out, err = capsys.readouterr()
    metrics = json.loads(out.strip().splitlines()[-1])
    recorded = entry.metrics()
    for key in ("success_rate", "episodes", "episode_length"):
        assert metrics[key] == recorded[key], key
    # a mean distance over float32 rollouts: its last digits differ between CPUs (7.545721 recorded,
    # 7.545734 on another Xeon), so it is held to 1e-5 relative, far below any change of behaviour
    assert metrics["demo_distance"] == pytest.approx(recorded["demo_distance"], rel=1e-5)
    copy = tmp_path / "runs" / "pretrained" / "maze" / "near"
    assert f"a fresh copy in {Path('runs/pretrained/maze/near')}" in err
    assert (copy / "plots" / "trajectories.png").is_file()
    assert (
        metrics["video"] == str(Path("runs/pretrained/maze/near/videos/policy.mp4"))
        and Path(metrics["video"]).stat().st_size
    )
    assert _files(pretrained.PRETRAINED_DIR) == before  # the package folder is only read


def test_unknown_name_is_one_line_naming_the_known_ones():
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "eval", "pretrained:maze/nope"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "unknown pretrained run 'maze/nope'; known: maze/energy, maze/near" in proc.stderr


def test_video_where_the_algo_has_none_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["eval", "pretrained:maze/energy", "--video"]) == 2
    out = capsys.readouterr().err
    err = out.strip().splitlines()[-1]  # after the note of the fresh copy
    assert "Traceback" not in out and err.startswith("imitate: error: --video is not supported for maze/energy runs")
    assert "mse, mdn" in err and "on maze, block-push, particle, pusht" in err and "deepmimic on humanoid-walk" in err


def test_pretrained_energy_is_read_in_place_and_a_pretrained_run_is_not_resumed(tmp_path):
    from imitate import runner
    from imitate.config import ConfigError

    cfg = runner.resolve_config("maze", "near", {"energy": "pretrained:maze/energy"})
    assert Path(cfg.energy) == (pretrained.PRETRAINED_DIR / "maze" / "energy").resolve()
    with pytest.raises(ConfigError, match="keeps no optimiser state"):
        runner.train("maze", "near", {"resume": "pretrained:maze/near"})


def test_a_working_copy_is_fresh_each_time(tmp_path):
    copy = pretrained.working_copy("pretrained:maze/near", tmp_path)
    (copy / "metrics.json").write_text("{}")
    (copy / "leftover.txt").write_text("x")
    again = pretrained.working_copy("pretrained:maze/near", tmp_path)
    assert again == copy and not (copy / "leftover.txt").exists()
    assert json.loads((copy / "metrics.json").read_text()) == pretrained.get("maze/near").metrics()
    energy = (pretrained.PRETRAINED_DIR / "maze" / "energy").resolve()
    assert f"energy: {energy}" in (copy / "config.yaml").read_text()
    assert [p.name for p in tmp_path.rglob(".*")] == []  # no temp folders left


def test_pretrained_runs_inside_a_composed_energy_are_read_in_place():
    from imitate import runner

    energy = (pretrained.PRETRAINED_DIR / "maze" / "energy").resolve()
    cfg = runner.resolve_config(
        "maze", "near", {"energy": "a:pretrained:maze/energy,b:pretrained:maze/energy", "energy_weights": "0.5,0.5"}
    )
    assert cfg.energy == f"a:{energy},b:{energy}"
