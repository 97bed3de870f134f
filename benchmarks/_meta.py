"""Provenance of a benchmark result, shared by every script in benchmarks/ (run from the repo root).

``record()`` at the start of a run captures the commit (``git rev-parse HEAD``, whether the
work tree had uncommitted changes and which tracked files they touch), the exact command
(``sys.argv``), CPU count, the load average,
python/torch versions and the start time; ``finish(meta)`` adds the load average at the end and the
wall time. Every result JSON carries the finished dict under ``"meta"``:

    meta = record()
    ...  # the benchmark
    result = {"meta": finish(meta), ...}
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def record() -> dict:
    """What to know about this run before it starts (see the module docstring)."""
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    changed = [line[3:] for line in _git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {
        "commit": _git("rev-parse", "HEAD") or None,
        "dirty": bool(changed),
        "dirty_files": changed,
        "command": [Path(sys.executable).name, *sys.argv],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch_version,
        "imitate_threads": os.environ.get("IMITATE_THREADS"),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_avg_start": _load(),
        "_t0": time.time(),
    }


def finish(meta: dict) -> dict:
    """``meta`` with the load average at the end and the wall time; the dict to store."""
    done = {k: v for k, v in meta.items() if k != "_t0"}
    done["load_avg_end"] = _load()
    done["wall_s"] = round(time.time() - meta["_t0"], 1)
    return done
