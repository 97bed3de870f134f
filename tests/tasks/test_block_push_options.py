"""Block pushing's ``success_tolerance_m`` option: bounds refused in one line, recorded in a run's
config and used by its evaluation; a demonstration file made at another tolerance is accepted."""

import json

import pytest

from imitate.cli import main
from imitate.config import ConfigError
from imitate.data.dataset import Demonstrations
from imitate.registry import TASKS
from imitate.runner import run_config, task_options
from imitate.utils.run import Run
from tests.conformance.test_algorithms import BC, COMMON
from tests.fixtures.runs import only_run_dir


@pytest.mark.parametrize("value", [0, -0.01, 0.5])
def test_a_bad_tolerance_is_refused_in_one_line_naming_the_key(value, tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"^success_tolerance_m must be in \(0, 0.1\], got "):
        task_options(TASKS["block-push"], {"success_tolerance_m": value})
    for key in ("success_tolerance_m", "task_options.success_tolerance_m"):
        assert main(["train", "block-push", "mse", f"{key}={value}", f"out_dir={tmp_path}"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "success_tolerance_m must be in (0, 0.1]" in err, err
    assert not any(tmp_path.iterdir())


def _train(tmp_path, *args: str) -> Run:
    assert main(["train", "block-push", "mse", *args, *BC, *COMMON, f"out_dir={tmp_path}"]) == 0
    return Run.open(only_run_dir(tmp_path))


def test_a_run_at_0_01_records_the_option_makes_its_demos_and_evaluates_with_it(tmp_path, capsys):
    run = _train(tmp_path, "success_tolerance_m=0.01")
    assert run.config_dict()["task_options"] == {"success_tolerance_m": 0.01}
    made = Demonstrations.load(run.dir / "demos.npz", task="block-push")  # the oracle's, made into the run
    assert made.metadata["success_tolerance_m"] == 0.01
    assert json.loads((run.dir / "metrics.json").read_text())["success_tolerance_m"] == 0.01
    # `imitate eval` builds its env from the recorded config, so its episodes end at 0.01 m
    cfg = run_config(run)
    assert TASKS["block-push"].make_env(1, cfg=cfg).options.success_tolerance_m == 0.01
    capsys.readouterr()
    assert main(["eval", str(run.dir), "--episodes", "2"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["success_tolerance_m"] == 0.01 and "success_rate_tol_0.02" in metrics


def test_demos_made_at_another_tolerance_train_and_keep_their_own(tmp_path):
    """IBC trained its 0.02 m and 0.01 m configs on the same data: a file made at 0.02 m trains a
    0.01 m run; the file records 0.02, the run's config 0.01."""
    demos = tmp_path / "bp.npz"
    assert main(["data", "block-push", "--episodes", "4", "--out", str(demos), "--no-progress"]) == 0
    run = _train(tmp_path / "runs", f"demos={demos}", "success_tolerance_m=0.01")
    assert Demonstrations.load(demos, task="block-push").metadata["success_tolerance_m"] == 0.02
    assert run.config_dict()["task_options"]["success_tolerance_m"] == 0.01
