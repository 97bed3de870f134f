"""``imitate grid``: tasks × algorithms × seeds × sweeps, in local processes or on a Ray cluster.

A grid directory holds ``grid.yaml`` (the spec as last run), ``manifest.json`` (every job: its
cell, seed, status, attempts, last error line, run directory), ``logs/`` (each job's output,
attempt by attempt), ``runs/<cell>/<task>/<algo>/<timestamp>-<seed>/`` (ordinary runs) and
``results/`` (``grid/results.py``). Running a grid again with the same ``dir=`` continues it:
finished runs are skipped, killed ones resume from their checkpoint (``grid/schedule.py``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from imitate.config import ConfigError
from imitate.grid.spec import GridSpec, expand, load_spec, parse_spec
from imitate.utils.io import atomic_write_json, save_yaml

__all__ = ["GridSpec", "grid_dir", "load_spec", "parse_spec", "raise_failed", "run_grid"]


def grid_dir(spec: GridSpec) -> Path:
    """``dir=`` when given (an existing grid continues), else a new ``out_dir/grid/<timestamp>``."""
    if spec.dir:
        base = Path(spec.dir)
        if base.exists() and any(base.iterdir()) and not (base / "manifest.json").is_file():
            raise ConfigError(f"dir={base} exists and is not a grid directory (no manifest.json)")
        return base
    return Path(spec.out_dir) / "grid" / time.strftime("%Y%m%d-%H%M%S")


def check_same_jobs(base: Path, jobs: list) -> None:
    """A grid run again in its directory must give each job the keys it had: a finished run is
    skipped by name, so a changed key would silently keep the old result. More seeds or cells are fine."""
    path = base / "manifest.json"
    if not path.is_file():
        return
    before = {j["name"]: j.get("args") for j in json.loads(path.read_text()).get("jobs", [])}
    for job in jobs:
        if job.name in before and before[job.name] is not None and before[job.name] != job.args:
            changed = sorted(
                k for k in job.args.keys() | before[job.name].keys() if job.args.get(k) != before[job.name].get(k)
            )
            raise ConfigError(
                f"dir={base} holds {job.name} with other keys ({', '.join(changed)}); "
                "give a new dir= for a grid with other settings"
            )


def run_grid(spec: GridSpec):
    """Check every job, then run what is not finished; write the results; return the report.
    Failed runs are in ``report.failed``; the caller decides what that means for its exit code."""
    from imitate.grid.backends import make_backend
    from imitate.grid.results import write_results
    from imitate.grid.schedule import Scheduler

    jobs = expand(spec)  # bad keys and values stop here, before anything is written or started
    base = grid_dir(spec)
    check_same_jobs(base, jobs)
    backend = make_backend(spec.backend, spec.address, spec.jobs)  # an unreachable cluster stops here too
    try:
        base.mkdir(parents=True, exist_ok=True)
        save_yaml(spec.to_yaml(), base / "grid.yaml")
        manifest = {"grid": spec.to_yaml(), "axes": list(spec.sweep), "jobs": []}
        atomic_write_json(base / "manifest.json", manifest)
        todo = len(jobs)
        print(f"grid {base}: {todo} runs ({spec.backend} backend)", flush=True)
        report = Scheduler(base, spec, jobs, backend, manifest).run()
    finally:
        backend.close()
    write_results(base)
    return report


def raise_failed(report) -> None:
    """One line naming each failed run and its last error, and how to continue."""
    if report.failed:
        names = "; ".join(f"{s.job.name}: {s.error}" for s in report.failed)
        raise ConfigError(
            f"{len(report.failed)} run(s) failed ({names}); the others finished; "
            f"fix and run again with dir={report.dir} to retry them"
        )
