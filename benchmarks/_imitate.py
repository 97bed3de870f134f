"""Driving the `imitate` CLI from a benchmark script (run from the repo root; benchmarks/ on sys.path).

``imitate(*args)`` runs one command in a subprocess, single-threaded, with this checkout's
sources; ``data_set`` writes a data set and reads back its skill level; ``Ledger`` is a results
JSON in which every finished step is recorded atomically, so a re-run skips what is done; and
``train`` starts a run in its own ``out_dir`` or resumes the one an interrupted invocation left
there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from _meta import ROOT
from imitate.utils.io import atomic_write_json

AIME_EXPERT = {"walker-stand": 957.9, "walker-walk": 943.8, "walker-run": 604.1, "cheetah-run": 888.7}


def imitate(*args: str) -> tuple[str, float]:
    """Run one `imitate` command; its stdout and wall seconds."""
    env = {**os.environ, "IMITATE_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "imitate.cli", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"imitate {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout, time.time() - start


def last_json(stdout: str) -> dict:
    """The JSON line `imitate train` and `imitate eval` end with."""
    return json.loads(stdout.strip().splitlines()[-1])


def data_set(task: str, path: Path, *args: str, expert_return: float | None = None) -> dict:
    """`imitate data TASK ARGS --out PATH`; the data set's skill level and size, and the time it took.

    ``score`` is the skill level as a percentage of ``expert_return`` (default: AIME's expert)."""
    _, seconds = imitate("data", task, *args, "--out", str(path), "--no-progress")
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["metadata"]))
        episodes, rows = len(z["episode_ends"]), len(z["obs"])
    expert = expert_return or AIME_EXPERT.get(task)
    level = meta.get("skill_level")
    return {
        "args": list(args),
        "policy": meta["policy"],
        "checkpoint_step": meta.get("checkpoint_step"),
        "skill_level": None if level is None else round(level, 1),
        "score": None if level is None or not expert else round(100 * level / expert, 1),
        "episodes": episodes,
        "observations": rows,
        "seconds": round(seconds, 1),
    }


class Ledger:
    """A results JSON whose ``steps`` are written one at a time, atomically; a re-run skips them."""

    def __init__(self, path: str | Path, header: dict[str, Any]):
        self.path = Path(path)
        self.data: dict[str, Any] = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.data.update({k: v for k, v in header.items() if k not in self.data})
        self.data.setdefault("steps", {})
        self.data.setdefault("invocations", [])

    def step(self, key: str, work: Callable[[], dict]) -> dict:
        """``work()``'s record under ``key``: the stored one if this step finished before."""
        if key not in self.data["steps"]:
            print(f"[{time.strftime('%H:%M:%S')}] {key} ...", flush=True)
            self.data["steps"][key] = work()
            self.save()
            print(f"[{time.strftime('%H:%M:%S')}] {key}: {json.dumps(self.data['steps'][key])[:300]}", flush=True)
        return self.data["steps"][key]

    def save(self) -> None:
        atomic_write_json(self.path, self.data)


def train(out_dir: Path, task: str, algo: str, *overrides: str) -> dict:
    """`imitate train TASK ALGO OVERRIDES out_dir=OUT_DIR`, or `resume=` the run an interrupted call
    left in OUT_DIR; the run directory, the command, the final metrics and the wall seconds."""
    command = ["train", task, algo, *overrides]
    runs = sorted(p.parent.parent for p in out_dir.glob(f"{task}/{algo}/*/checkpoints/latest.pt"))
    extra = [f"resume={runs[-1]}"] if runs else []
    stdout, seconds = imitate(*command, *extra, f"out_dir={out_dir}", "progress=false")
    run = next(line[5:] for line in stdout.splitlines() if line.startswith("run: "))
    return {
        "command": "imitate " + " ".join(command),
        "run": str(Path(run).resolve().relative_to(ROOT)) if Path(run).resolve().is_relative_to(ROOT) else run,
        "resumed": bool(extra),
        "metrics": last_json(stdout),
        "wall_seconds": round(seconds, 1),
    }


def evaluate(run: str, episodes: int) -> dict:
    """`imitate eval RUN --episodes N`: its metrics and wall seconds."""
    stdout, seconds = imitate("eval", str(ROOT / run), "--episodes", str(episodes))
    return {
        "command": f"imitate eval RUN --episodes {episodes}",
        **last_json(stdout),
        "wall_seconds": round(seconds, 1),
    }
