"""``imitate compare``: algorithms × seeds on one task, side by side.

Each job is an ordinary ``imitate train`` run in its own process, written in the usual run layout
under ``<compare dir>/runs/``; the comparison itself is a run directory
``<out_dir>/<task>/compare/<timestamp>/`` holding ``manifest.json``, ``results.md`` (mean ± std
per algorithm), ``results.json`` and ``plots/curves.png`` (learning curves, mean and spread over
seeds). Jobs run in parallel processes up to ``jobs`` (default: the CPU count). A killed compare
is continued with ``resume=COMPARE_DIR``: finished runs are kept, unfinished ones resume from
their last checkpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imitate.config import ConfigError
from imitate.registry import get_algo, get_task
from imitate.utils.io import atomic_write, atomic_write_json

# Metrics shown first in the table when present; other numeric metrics follow alphabetically.
LEADING_METRICS = (
    "success_rate",
    "final_coverage",
    "demo_distance",
    "episode_length",
    "return",
    "train_seconds",
    "env_steps",
)
CURVE_KEYS = ("episode/success_rate", "episode/task_return", "episode/length")  # task return: comparable across rewards


@dataclass
class Job:
    algo: str
    seed: int
    overrides: dict[str, str]

    def run_dir(self, base: Path, task: str) -> Path | None:
        """This job's run directory, if it was started (one run per algo and seed)."""
        found = sorted((base / "runs" / task / self.algo).glob(f"*-{self.seed}"))
        return found[-1] if found else None


def split_overrides(algos: list[str], overrides: dict[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """``key=v`` goes to every algorithm, ``ALGO.key=v`` only to ALGO; compare's own keys apart."""
    shared: dict[str, str] = {}
    per_algo: dict[str, dict[str, str]] = {a: {} for a in algos}
    for key, value in overrides.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix in per_algo:
            per_algo[prefix][rest] = value
        elif dot:
            raise ConfigError(f"{key}: {prefix!r} is not one of the compared algos ({', '.join(algos)})")
        else:
            shared[key] = value
    return shared, per_algo


def _run_job(job: Job, task: str, base: Path, log_dir: Path) -> dict[str, Any]:
    existing = job.run_dir(base, task)
    log = log_dir / f"{job.algo}-{job.seed}.log"
    if existing is not None and (existing / "metrics.json").is_file():  # finished earlier: keep it and its log
        return {"algo": job.algo, "seed": job.seed, "run": str(existing), "status": "done", "log": str(log)}
    args = [f"{k}={v}" for k, v in job.overrides.items()]
    args += [f"seed={job.seed}", f"out_dir={base / 'runs'}", "progress=false"]
    if existing is not None and (existing / "checkpoints" / "latest.pt").is_file():
        args.append(f"resume={existing}")
    elif existing is not None:  # started but never checkpointed: start over
        import shutil

        shutil.rmtree(existing)
    with open(log, "w") as out:
        code = subprocess.call(
            [sys.executable, "-m", "imitate.cli", "train", task, job.algo, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "IMITATE_THREADS": "1"},
        )
    run = job.run_dir(base, task)
    status = "done" if code == 0 and run is not None and (run / "metrics.json").is_file() else "failed"
    return {"algo": job.algo, "seed": job.seed, "run": str(run) if run else None, "status": status, "log": str(log)}


def compare(task_name: str, algos: list[str], overrides: dict[str, str]) -> Path:
    """Run every algorithm with every seed, then write the table and the curves; returns the dir."""
    get_task(task_name)
    if not algos or any(not a for a in algos):
        raise ConfigError("give algorithms as ALGO[,ALGO...], e.g. ppo,near")
    for algo in algos:
        get_algo(algo, task_name)
    own = {k: overrides.pop(k) for k in ("seeds", "jobs", "resume", "out_dir") if k in overrides}
    shared, per_algo = split_overrides(algos, overrides)
    try:
        seeds = int(own.get("seeds", 3))
        jobs = int(own.get("jobs", os.cpu_count() or 1))
    except ValueError:
        raise ConfigError("seeds and jobs expect int") from None
    if seeds < 1 or jobs < 1:
        raise ConfigError(f"seeds and jobs must be at least 1, got seeds={seeds}, jobs={jobs}")
    job_list = [Job(a, s, {**shared, **per_algo[a]}) for a in algos for s in range(seeds)]
    _validate_jobs(task_name, job_list)  # before anything is written
    if own.get("resume"):
        base = Path(own["resume"])
        if not (base / "manifest.json").is_file():
            raise ConfigError(f"{base} is not a compare directory (no manifest.json)")
    else:
        base = Path(own.get("out_dir", "runs")) / task_name / "compare" / time.strftime("%Y%m%d-%H%M%S")
        base.mkdir(parents=True, exist_ok=False)
    log_dir = base / "logs"
    log_dir.mkdir(exist_ok=True)
    manifest = {
        "task": task_name,
        "algos": algos,
        "seeds": seeds,
        "overrides": {**shared, **{f"{a}.{k}": v for a, kv in per_algo.items() for k, v in kv.items()}},
        "jobs": [],
    }
    atomic_write_json(base / "manifest.json", manifest)
    from imitate.utils.progress import progress_bar

    bar = progress_bar(len(job_list), desc=f"compare {task_name}", unit="run")
    results = []
    with ThreadPoolExecutor(max_workers=min(jobs, len(job_list))) as pool:
        for row in pool.map(lambda j: _run_job(j, task_name, base, log_dir), job_list):
            results.append(row)
            bar.update(1)
            manifest["jobs"] = results
            atomic_write_json(base / "manifest.json", manifest)
    bar.close()
    summarise(base, task_name, algos, results)
    failed = [r for r in results if r["status"] != "done"]
    if failed:
        names = ", ".join(f"{r['algo']} seed {r['seed']} (log {r.get('log')})" for r in failed)
        raise ConfigError(f"{len(failed)} of {len(results)} runs failed: {names}; fix and continue with resume={base}")
    return base


def _validate_jobs(task: str, jobs: list[Job]) -> None:
    """Refuse bad keys before starting any process."""
    from imitate.runner import resolve_config

    for job in {j.algo: j for j in jobs}.values():
        resolve_config(task, job.algo, dict(job.overrides))


def summarise(base: Path, task: str, algos: list[str], results: list[dict]) -> None:
    """``results.md`` / ``results.json`` (mean ± std over seeds) and ``plots/curves.png``."""
    from imitate.viz.curves import plot_curves_with_spread

    metrics: dict[str, list] = {a: [] for a in algos}
    curves: dict[str, list] = {a: [] for a in algos}
    for row in results:
        if row["status"] != "done":
            continue
        run = Path(row["run"])
        metrics[row["algo"]].append(json.loads((run / "metrics.json").read_text()))
        progress = run / "progress.jsonl"
        if progress.is_file():
            curves[row["algo"]].append([json.loads(line) for line in progress.read_text().splitlines() if line])
    table = metric_table(metrics)
    atomic_write_json(base / "results.json", table)
    text = render_markdown(task, table)
    atomic_write(base / "results.md", lambda f: f.write(text), mode="w")
    (base / "plots").mkdir(exist_ok=True)
    plot_curves_with_spread(
        curves, list(CURVE_KEYS), base / "plots" / "curves.png", title=f"{task}: mean ± std over seeds"
    )
    print(text)


def metric_table(metrics: dict[str, list[dict]]) -> dict[str, dict[str, dict[str, float]]]:
    """{algo: {metric: {mean, std, n}}} over the numeric metrics every run of the algo has."""
    table = {}
    for algo, runs in metrics.items():
        keys = (
            set.intersection(
                *(set(k for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)) for m in runs)
            )
            if runs
            else set()
        )
        table[algo] = {
            k: {
                "mean": float(np.mean([m[k] for m in runs])),
                "std": float(np.std([m[k] for m in runs])),
                "n": len(runs),
            }
            for k in sorted(keys)
        }
    return table


def render_markdown(task: str, table: dict[str, dict[str, dict[str, float]]]) -> str:
    keys = sorted(
        {k for cols in table.values() for k in cols},
        key=lambda k: (LEADING_METRICS.index(k) if k in LEADING_METRICS else len(LEADING_METRICS), k),
    )
    lines = [
        f"# {task}: mean ± std over seeds",
        "",
        "| algo | runs | " + " | ".join(keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    for algo, cols in table.items():
        n = max((c["n"] for c in cols.values()), default=0)
        cells = [f"{cols[k]['mean']:.3g} ± {cols[k]['std']:.2g}" if k in cols else "—" for k in keys]
        lines.append(f"| {algo} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
