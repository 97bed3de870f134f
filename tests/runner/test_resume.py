"""Exact resume after ``kill -9``, and resumes that fail leave the run untouched.

A real training subprocess is killed with SIGKILL at seeded random moments (and once while a
checkpoint is being written), resumed with ``resume=RUN`` (itself killed again), and finally
run to the end; ``progress.jsonl``, ``metrics.json`` and every number in the checkpoint must
then equal an uninterrupted run of the same seed bit for bit (``utils.reproducibility``).

A kill before the first checkpoint: the run directory is either absent (``Run.create`` builds
it under a temp name and renames it) or complete and resumable, and resuming it trains from
scratch in that directory; the result is again the uninterrupted run.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from imitate.cli import main
from imitate.utils.reproducibility import differences

PPO = [
    "particle",
    "ppo",
    "num_envs=8",
    "rollout_steps=8",
    "total_steps=6144",
    "minibatches=2",
    "epochs=1",
    "hidden=32,32",
    "eval_episodes=4",
]
ENERGY = ["block-push", "energy", "iterations=200", "demo_episodes=8", "hidden=32,32"]
MSE = ["particle", "mse", "iterations=200", "demo_episodes=8", "width=32", "blocks=1", "eval_episodes=4"]
IBC = [
    "particle",
    "ibc-dfo",
    "iterations=200",
    "demo_episodes=8",
    "width=32",
    "blocks=1",
    "counter_examples=8",
    "dfo_samples=64",
    "eval_episodes=4",
]
COMMON = ["checkpoint_every=1", "progress=false"]


def _runs(root: Path) -> list[Path]:
    """Run directories under ``root``; a new run's temp folder may vanish (its rename) mid-walk."""
    try:
        return sorted(p.parent for p in root.rglob("config.yaml") if not p.parent.name.startswith("."))
    except FileNotFoundError:
        return []


def _start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "imitate.cli", "train", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 60.0):
    """Poll until ``predicate()`` is truthy (returns it) or the process ends (returns None)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = predicate()
        if found:
            return found
        if proc.poll() is not None:
            return None
        time.sleep(0.002)
    raise AssertionError("timed out waiting for the training subprocess")


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def _iteration(run: Path) -> int:
    """The iteration of the run's checkpoint; -1 without one."""
    path = run / "checkpoints" / "latest.pt"
    return torch.load(path, weights_only=True)["resume"]["iteration"] if path.is_file() else -1


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted runs, one per family, trained in this process."""

    def train(argv):
        root = tmp_path_factory.mktemp("reference")
        assert main(["train", *argv, *COMMON, f"out_dir={root}"]) == 0
        (run,) = _runs(root)
        return run

    return {argv[1]: train(argv) for argv in (PPO, ENERGY, MSE, IBC)}


def _checkpoint_mtime(run: Path) -> int:
    path = run / "checkpoints" / "latest.pt"
    return path.stat().st_mtime_ns if path.is_file() else 0


def _kill_resume_compare(
    argv, reference_run: Path, tmp_path: Path, fractions: list[float], during_checkpoint: bool = False
) -> None:
    """Start training; for each fraction f, once training is under way (a new checkpoint has
    appeared), wait f × the reference run's training time and SIGKILL it, then resume it in a
    new subprocess; the last kill can instead hit a checkpoint write. Finish in-process, compare."""
    seconds = json.loads((reference_run / "metrics.json").read_text())["train_seconds"]
    out = tmp_path / "runs"
    proc = _start([*argv, *COMMON, f"out_dir={out}"])
    run = _wait_for(lambda: (_runs(out) or [None])[0], proc)
    assert run is not None, proc.stderr.read()
    final, landed = _iteration(reference_run), 0
    ckpt = run / "checkpoints"
    for i, fraction in enumerate(fractions):
        if i:
            proc = _start([*argv[:2], f"resume={run}"])
        before = _checkpoint_mtime(run)
        _wait_for(lambda: _checkpoint_mtime(run) != before, proc)  # noqa: B023 (called at once)
        last_kill_mid_write = during_checkpoint and i == len(fractions) - 1
        if last_kill_mid_write:
            _wait_for(lambda: any(p.name.endswith(".tmp") for p in ckpt.iterdir()), proc)
        else:
            time.sleep(fraction * seconds)
        _kill(proc)
        if last_kill_mid_write and not list(ckpt.glob(".latest.pt.*.tmp")):
            # the rename won the race against the kill: leave what a kill a moment earlier would
            (ckpt / ".latest.pt.killed.tmp").write_bytes(b"half a checkpoint")
        landed += _iteration(run) < final
        assert (run / "config.yaml").is_file()
    assert landed, "every kill came after training had finished; the settings are too small"
    assert main(["train", *argv[:2], f"resume={run}"]) == 0
    assert not list(run.rglob(".*.tmp")), "stale temp files were left"
    assert differences(run, reference_run) == []


@pytest.mark.parametrize("family", ["ppo", "energy", "mse", "ibc-dfo"])
def test_killed_and_resumed_equals_uninterrupted(family, reference, tmp_path):
    argv = {"ppo": PPO, "energy": ENERGY, "mse": MSE, "ibc-dfo": IBC}[family]
    rng = random.Random(family)
    fractions = [rng.uniform(0.05, 0.5) for _ in range(3)]
    _kill_resume_compare(argv, reference[family], tmp_path, fractions, during_checkpoint=family == "energy")
    if family == "ppo":  # TensorBoard's reader honours purge_step: each logged step once
        (run,) = _runs(tmp_path / "runs")
        assert _tensorboard_steps(run) == _tensorboard_steps(reference[family])


def _tensorboard_steps(run: Path) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"))
    acc.Reload()
    return [e.step for e in acc.Scalars("loss/value")]


def test_kill_before_first_checkpoint_resumes_from_scratch(reference, tmp_path):
    """Killed as soon as the run directory appears: no checkpoint yet; resume starts over."""
    out = tmp_path / "runs"
    proc = _start([*PPO, *COMMON, f"out_dir={out}"])
    run = _wait_for(lambda: (_runs(out) or [None])[0], proc)
    _kill(proc)
    assert run is not None and (run / "config.yaml").is_file()
    assert main(["train", "particle", "ppo", f"resume={run}"]) == 0
    assert differences(run, reference["ppo"]) == []


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("family,change", [("ppo", "hidden=64,64"), ("energy", "hidden=16,16"), ("mse", "width=16")])
def test_failed_resume_leaves_the_run_as_it_was(family, change, reference, tmp_path, capsys):
    argv = {"ppo": PPO, "energy": ENERGY, "mse": MSE}[family]
    run = tmp_path / "run"
    import shutil

    shutil.copytree(reference[family], run)
    (run / "checkpoints" / ".latest.pt.stale.tmp").write_bytes(b"half a checkpoint")  # a killed writer's
    before = _snapshot(run)
    capsys.readouterr()
    assert main(["train", *argv[:2], f"resume={run}", change]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("imitate: error: checkpoint does not fit"), err
    assert _snapshot(run) == before
    assert main(["eval", str(run), "--episodes", "2"]) == 0


class _Payload:
    """Pickles as a call of ``exec``: loading it with the unsafe loader would run the code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def test_checkpoint_with_code_is_refused_and_never_runs(reference, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(reference["ppo"], run)
    marker = tmp_path / "payload-ran"
    good = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    torch.save({**good, "extra": _Payload(marker)}, run / "checkpoints" / "latest.pt")
    capsys.readouterr()
    for argv in (["eval", str(run)], ["train", "particle", "ppo", f"resume={run}"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "refused" in err and "could run code" in err, err
    assert not marker.exists()


def test_resume_cuts_progress_back_to_the_checkpoint(tmp_path):
    """Rows after the checkpoint's step and a line cut by the kill go; the rest stays as it was."""
    from imitate.algos.ppo_config import PPOConfig
    from imitate.utils.run import Run

    run = Run(tmp_path, "maze", "ppo")
    rows = [f'{{"step": {s}, "loss": {s / 10}}}\n' for s in (64, 128, 192, 256)]
    (tmp_path / "progress.jsonl").write_text("".join(rows) + '{"step": 320, "lo')
    run.begin(PPOConfig(), {"resume": {"iteration": 2, "log_step": 128}})
    assert (tmp_path / "progress.jsonl").read_text() == "".join(rows[:2])
    assert run.purge_step == 129 and run.checkpoint_iteration == 2


def test_a_resumed_event_file_sorts_after_the_killed_one(tmp_path):
    """TensorBoard reads event files in name order (creation second first): a writer opened
    right after another must still come after it, or the older file's purge hides its events."""
    from imitate.utils.logger import Logger

    first = Logger(tmp_path)
    first.log(1, {"x": 1.0})
    first.close()
    second = Logger(tmp_path, purge_step=2)
    second.close()
    names = sorted(p.name for p in (tmp_path / "tb").iterdir())
    assert len(names) == 2 and names[0].split(".")[3] < names[1].split(".")[3]


def test_a_half_made_run_folder_of_a_dead_process_is_removed(tmp_path):
    from imitate.algos.ppo_config import PPOConfig
    from imitate.utils.run import Run

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its PID is free now
    base = tmp_path / "maze" / "ppo"
    abandoned = base / f".20261201-000000-0.{dead.pid}.tmp"
    alive = base / f".20261201-000000-1.{os.getpid()}.tmp"
    (abandoned / "checkpoints").mkdir(parents=True)
    (alive / "checkpoints").mkdir(parents=True)
    run = Run.create("maze", "ppo", PPOConfig(out_dir=str(tmp_path)))
    assert not abandoned.exists() and alive.exists() and run.dir.parent == base
