"""`imitate compare`: algorithms x seeds into one table and one curve plot, resumable."""

import json

import pytest

from imitate.cli import main
from imitate.compare import metric_table, render_markdown, split_overrides
from imitate.config import ConfigError

TINY = [
    "num_envs=16",
    "rollout_steps=8",
    "total_steps=256",
    "minibatches=2",
    "epochs=1",
    "eval_episodes=4",
    "hidden=16,16",
]


def test_compare_tiny_writes_table_curves_and_resumes(tmp_path, capsys):
    assert main(["compare", "maze", "ppo", "seeds=2", "jobs=2", f"out_dir={tmp_path}", *TINY]) == 0
    base = next((tmp_path / "maze" / "compare").iterdir())
    table = (base / "results.md").read_text()
    assert "| ppo | 2 |" in table and "success_rate" in table
    results = json.loads((base / "results.json").read_text())
    assert results["ppo"]["success_rate"]["n"] == 2
    assert (base / "plots" / "curves.png").stat().st_size > 0
    runs = sorted((base / "runs" / "maze" / "ppo").iterdir())
    # names start with the start time, so seed 1 may sort first when the jobs start seconds apart
    assert sorted(r.name.rsplit("-", 1)[1] for r in runs) == ["0", "1"]
    # resuming a finished comparison reuses its runs instead of training again
    capsys.readouterr()
    assert main(["compare", "maze", "ppo", "seeds=2", f"resume={base}", *TINY]) == 0
    assert sorted((base / "runs" / "maze" / "ppo").iterdir()) == runs


def test_compare_refuses_bad_input_before_running(tmp_path, capsys):
    assert main(["compare", "maze", "ppo,nope", f"out_dir={tmp_path}"]) == 2
    assert "unknown algo 'nope'" in capsys.readouterr().err
    assert main(["compare", "maze", "ppo", "seeds=2", "num_envz=3", f"out_dir={tmp_path}"]) == 2
    assert "unknown key 'num_envz'" in capsys.readouterr().err
    assert main(["compare", "maze", "ppo", "seeds=0", f"out_dir={tmp_path}"]) == 2


def test_overrides_split_per_algo():
    shared, per = split_overrides(["ppo", "near"], {"total_steps": "10", "near.w_task": "0.3"})
    assert shared == {"total_steps": "10"} and per == {"ppo": {}, "near": {"w_task": "0.3"}}
    with pytest.raises(ConfigError, match="not one of the compared algos"):
        split_overrides(["ppo"], {"amp.w_gp": "5"})


def test_table_mean_and_std():
    table = metric_table({"a": [{"success_rate": 1.0, "task": "maze"}, {"success_rate": 0.5}], "b": []})
    assert table["a"]["success_rate"] == {"mean": 0.75, "std": 0.25, "n": 2}
    text = render_markdown("maze", table)
    assert "| a | 2 | 0.75 ± 0.25 |" in text and "| b | 0 | — |" in text
