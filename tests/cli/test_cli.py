"""The CLI end to end at tiny settings, resume, and the one-line errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from imitate.cli import main

TINY_ENERGY = ["iterations=60", "demo_episodes=16", "hidden=32,32", "checkpoint_every=30", "progress=false"]
TINY_PPO = [
    "num_envs=16",
    "rollout_steps=8",
    "total_steps=256",
    "minibatches=2",
    "epochs=1",
    "hidden=32,32",
    "eval_episodes=8",
    "checkpoint_every=1",
    "progress=false",
]


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("config.yaml"))


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def energy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", "maze", "energy", f"out_dir={root}", *TINY_ENERGY]) == 0
    (run,) = _run_dirs(root)
    return run


def test_energy_run_layout(energy_run):
    assert (energy_run / "config.yaml").is_file() and (energy_run / "checkpoints" / "latest.pt").is_file()
    assert (energy_run / "demos.npz").is_file() and list((energy_run / "tb").iterdir())
    metrics = json.loads((energy_run / "metrics.json").read_text())
    assert metrics["iterations"] == 60 and "energy_gap_smallest_sigma" in metrics
    assert (energy_run / "plots" / "energy_landscape.png").is_file()
    assert (energy_run / "plots" / "energy_vs_distance.png").is_file()


def test_near_train_eval_plot(energy_run, tmp_path, capsys):
    assert main(["train", "maze", "near", f"energy={energy_run}", f"out_dir={tmp_path}", *TINY_PPO]) == 0
    (run,) = _run_dirs(tmp_path)
    assert run.parent.name == "near" and run.name.endswith("-0")
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "5"]) == 0
    metrics = _last_json(capsys.readouterr().out)
    assert metrics["episodes"] == 5 and 0.0 <= metrics["success_rate"] <= 1.0
    assert json.loads((run / "metrics.json").read_text())["episodes"] == 5
    assert main(["plot", str(run)]) == 0
    assert {"learning_curves.png", "trajectories.png"} <= {p.name for p in (run / "plots").iterdir()}
    rows = [json.loads(line) for line in (run / "progress.jsonl").read_text().splitlines()]
    assert "near/sigma_level" in rows[-1] and "reward/r_energy" in rows[-1]


def test_plot_of_a_run_without_its_checkpoint_draws_the_curves(energy_run, tmp_path, capsys):
    # committed benchmark runs keep config.yaml and progress.jsonl, not their checkpoints
    assert main(["train", "maze", "near", f"energy={energy_run}", f"out_dir={tmp_path}", *TINY_PPO]) == 0
    (run,) = _run_dirs(tmp_path)
    (run / "checkpoints" / "latest.pt").unlink()
    capsys.readouterr()
    assert main(["plot", str(run)]) == 0
    out, err = capsys.readouterr()
    assert str(run / "plots" / "learning_curves.png") in out.split()
    assert "no checkpoint" in err and len(err.strip().splitlines()) == 1


def test_resume_continues_from_checkpoint(tmp_path):
    assert main(["train", "maze", "ppo", f"out_dir={tmp_path}", *TINY_PPO]) == 0
    (run,) = _run_dirs(tmp_path)
    first = torch.load(run / "checkpoints" / "latest.pt", weights_only=False)["ppo"]
    assert first["global_step"] == 256
    assert main(["train", "maze", "ppo", f"resume={run}", "total_steps=512"]) == 0
    assert _run_dirs(tmp_path) == [run]  # same run directory, no second one
    second = torch.load(run / "checkpoints" / "latest.pt", weights_only=False)["ppo"]
    assert second["global_step"] == 512 and second["iteration"] == 4
    assert json.loads((run / "metrics.json").read_text())["env_steps"] == 512


def _fails(argv, capsys, match):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and err.startswith("imitate: error:") and match in err, err


def test_bad_input_one_line_and_no_partial_files(tmp_path, energy_run, capsys):
    out = f"out_dir={tmp_path}"
    _fails(["train", "nosuchtask", "ppo", out], capsys, "unknown task 'nosuchtask'")
    _fails(["train", "maze", "nosuchalgo", out], capsys, "unknown algo 'nosuchalgo'")
    _fails(["train", "maze", "ppo", "num_envs=0", out], capsys, "num_envs must be at least 1")
    _fails(["train", "maze", "ppo", "nope=1", out], capsys, "valid keys")
    _fails(["train", "maze", "energy", f"demos={tmp_path / 'missing.npz'}", out], capsys, "not found")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"\x00garbage")
    _fails(["train", "maze", "energy", f"demos={corrupt}", out], capsys, "not a readable")
    # A checkpoint made for another task.
    state = torch.load(energy_run / "checkpoints" / "latest.pt", weights_only=False)
    other = tmp_path / "other"
    (other / "checkpoints").mkdir(parents=True)
    (other / "config.yaml").write_text((energy_run / "config.yaml").read_text())
    torch.save({**state, "task": "pusht"}, other / "checkpoints" / "latest.pt")
    _fails(["train", "maze", "near", f"energy={other}", out, *TINY_PPO], capsys, "for task 'pusht', not 'maze'")
    _fails(["eval", str(tmp_path / "nowhere")], capsys, "run directory not found")
    assert not (tmp_path / "maze").exists(), "a failed run left files behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.npz", "other"]


def test_data_command_and_console_script(tmp_path):
    out = tmp_path / "maze.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "data", "maze", "--episodes", "12", "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    from imitate.data.dataset import Demonstrations

    assert Demonstrations.load(out, task="maze").num_episodes == 12
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "train", "maze", "ppo", "lr=fast"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "lr expects float" in proc.stderr


@pytest.mark.parametrize("argv", [[], ["train"], ["eval"], ["plot"], ["demo"], ["data"], ["list"]])
def test_help_everywhere(argv):
    proc = subprocess.run([sys.executable, "-m", "imitate.cli", *argv, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: imitate" in proc.stdout


def test_demo_runs_the_whole_pipeline_at_tiny_settings(tmp_path, capsys):
    energy = [f"energy.{kv}" for kv in TINY_ENERGY if not kv.startswith("progress")]
    assert main(["demo", f"out_dir={tmp_path}", *energy, *TINY_PPO]) == 0
    out = capsys.readouterr().out
    metrics = _last_json(out)
    assert metrics["algo"] == "near" and metrics["episodes"] == 8 and "demo_distance" in metrics
    near_run = next((tmp_path / "maze" / "near").iterdir())
    assert (near_run / "plots" / "trajectories.png").is_file()
    assert (near_run / "plots" / "learning_curves.png").is_file()


@pytest.mark.parametrize("algo", ["near", "cem"])
def test_without_an_energy_run_the_runner_trains_step_1_first(algo, monkeypatch, capsys):
    """No algorithm calls the runner: the runner itself trains the run ``Algo.requires`` names
    when the command leaves it empty, with this run's seed/out_dir/device/progress and W&B keys."""
    from types import SimpleNamespace

    from imitate import runner
    from imitate.registry import get_algo

    calls = []
    monkeypatch.setattr(runner, "train", lambda *args: calls.append(args) or SimpleNamespace(dir=Path("/step1")))
    cfg = runner.resolve_config(
        "maze", algo, {"seed": "3", "out_dir": "somewhere", "progress": "false", "wandb_group": "g"}, check_inputs=False
    )
    runner.train_required("maze", get_algo(algo), cfg)
    wandb = {"wandb": False, "wandb_project": "imitate", "wandb_entity": "", "wandb_group": "g", "wandb_mode": ""}
    expected = {"seed": 3, "out_dir": "somewhere", "device": "cpu", "progress": False, **wandb}
    assert calls == [("maze", "energy", expected)]
    assert cfg.energy == "/step1"
    assert "no energy=RUN_DIR given: training the energy model first (NEAR step 1)" in capsys.readouterr().out
    runner.train_required("maze", get_algo(algo), cfg)  # named now: nothing more is trained
    assert len(calls) == 1


def test_step_1_trained_first_has_the_runs_task_options(monkeypatch):
    """`imitate train humanoid near motion=run` without energy= trains its energy model on the run
    clips, not on the default walk."""
    from types import SimpleNamespace

    from imitate import runner
    from imitate.registry import get_algo

    calls = []
    monkeypatch.setattr(runner, "train", lambda *args: calls.append(args) or SimpleNamespace(dir=Path("/step1")))
    cfg = runner.resolve_config(
        "humanoid", "near", {"motion": "run", "task_reward": "time", "progress": "false"}, check_inputs=False
    )
    runner.train_required("humanoid", get_algo("near"), cfg)
    ((task, algo, overrides),) = calls
    assert (task, algo) == ("humanoid", "energy") and overrides["task_options"]["motion"] == "run"
    energy_cfg = runner.resolve_config("humanoid", "energy", overrides, check_inputs=False)
    assert energy_cfg.task_options == cfg.task_options


def test_imitate_list_does_not_import_torch():
    """The registry names every part lazily: listing tasks and algorithms imports no torch."""
    import subprocess
    import sys

    code = "import sys; from imitate.cli import main; main(['list']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
