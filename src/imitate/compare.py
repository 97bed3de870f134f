"""``imitate compare``: algorithms × seeds on one task, side by side: the one-task case of a grid.

``imitate compare TASK ALGO[,ALGO...] [seeds=N] [jobs=J] [key=value ...]`` is
``imitate grid tasks=TASK algos=ALGO,... dir=<out_dir>/<task>/compare/<timestamp>``: the same
runs, backends, retries and results (``grid/``). ``key=v`` goes to every algorithm, ``ALGO.key=v``
to one; ``resume=COMPARE_DIR`` continues a comparison (finished runs are kept, killed ones resume
from their checkpoint).
"""

from __future__ import annotations

import time
from pathlib import Path

from imitate.config import ConfigError
from imitate.grid import load_spec, run_grid
from imitate.grid.schedule import GridReport


def compare(task_name: str, algos: list[str], overrides: dict[str, str]) -> GridReport:
    """Run every algorithm with every seed, then write the table and the curves; returns the
    grid's report (its directory, what ran, what failed: ``raise_failed``)."""
    if not algos or any(not a for a in algos):
        raise ConfigError("give algorithms as ALGO[,ALGO...], e.g. ppo,near")
    for key in ("tasks", "algos", "dir"):
        if key in overrides:
            raise ConfigError(f"{key}= is not a compare key: compare runs one task; `imitate grid` takes {key}=")
    resume = overrides.pop("resume", "")
    if resume and not (Path(resume) / "manifest.json").is_file():
        raise ConfigError(f"{resume} is not a compare directory (no manifest.json)")
    out_dir = overrides.pop("out_dir", "runs")
    base = Path(resume) if resume else Path(out_dir) / task_name / "compare" / time.strftime("%Y%m%d-%H%M%S")
    spec = load_spec(None, {"tasks": task_name, "algos": ",".join(algos), "dir": str(base), **overrides})
    return run_grid(spec)
