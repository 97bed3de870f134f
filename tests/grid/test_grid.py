"""Where a grid goes: a new directory, or an existing grid continued with the same keys only."""

import json

import pytest

from imitate.config import ConfigError
from imitate.grid import grid_dir, load_spec, run_grid


def test_a_grid_rerun_with_changed_keys_is_refused_before_anything_runs(tmp_path):
    job = {"name": "maze/ppo/seed0", "args": {"lr": "0.001"}}
    (tmp_path / "manifest.json").write_text(json.dumps({"jobs": [job]}))
    spec = load_spec(None, {"tasks": "maze", "algos": "ppo", "seeds": "1", "dir": str(tmp_path), "lr": "0.002"})
    with pytest.raises(ConfigError, match=r"holds maze/ppo/seed0 with other keys \(lr\); give a new dir="):
        run_grid(spec)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_the_grid_directory(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a grid directory"):
        grid_dir(load_spec(None, {"tasks": "maze", "algos": "ppo", "dir": str(tmp_path / "other")}))
    new = grid_dir(load_spec(None, {"tasks": "maze", "algos": "ppo", "out_dir": str(tmp_path)}))
    assert new.parent == tmp_path / "grid" and not new.exists()
