"""`imitate compare`: algorithms x seeds on one task, the one-task case of `imitate grid`."""

import json

from imitate.cli import main

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
    table = (base / "results" / "maze.md").read_text()
    assert "| ppo | 2 |" in table and "success_rate" in table
    results = json.loads((base / "results" / "maze.json").read_text())
    (row,) = results["rows"]
    assert row["algo"] == "ppo" and row["seeds"] == 2 and row["metrics"]["success_rate"]["n"] == 2
    assert (base / "results" / "plots" / "maze" / "episode_success_rate.png").stat().st_size > 0
    runs = sorted((base / "runs" / "maze" / "ppo").iterdir())
    # names start with the start time, so seed 1 may sort first when the jobs start seconds apart
    assert sorted(r.name.rsplit("-", 1)[1] for r in runs) == ["0", "1"]
    # resuming a finished comparison reuses its runs instead of training again
    capsys.readouterr()
    assert main(["compare", "maze", "ppo", "seeds=2", f"resume={base}", *TINY]) == 0
    assert "ran 0, skipped 2" in capsys.readouterr().out
    assert sorted((base / "runs" / "maze" / "ppo").iterdir()) == runs


def test_compare_refuses_bad_input_before_running(tmp_path, capsys):
    assert main(["compare", "maze", "ppo,nope", f"out_dir={tmp_path}"]) == 2
    assert "unknown algo 'nope'" in capsys.readouterr().err
    assert main(["compare", "maze", "ppo", "seeds=2", "num_envz=3", f"out_dir={tmp_path}"]) == 2
    assert "unknown key 'num_envz'" in capsys.readouterr().err
    assert main(["compare", "maze", "ppo", "seeds=0", f"out_dir={tmp_path}"]) == 2
    assert main(["compare", "maze", "ppo", "amp.w_gp=5", f"out_dir={tmp_path}"]) == 2
    assert "'amp' is not one of the grid's algos" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
