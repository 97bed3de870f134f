"""Run a grid's jobs on a backend: dependencies first, retries, resume, a manifest after each event.

Nothing is lost: a job whose run finished earlier (``metrics.json``) is skipped, a run with a
checkpoint resumes from it, a run started but never checkpointed starts over. A failed attempt
is retried up to ``retries`` times, except an exit with code 2, which is bad input or a diverged
run (the same seed fails the same way again); then the job is failed with its last error line,
the jobs that need it fail with it, and every other job goes on.
"""

from __future__ import annotations

import shutil
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imitate.config import load_yaml
from imitate.grid.execute import find_run, pack, unpack
from imitate.grid.spec import GridSpec, Job
from imitate.utils.io import atomic_write_json, save_yaml

BAD_INPUT = 2  # the CLI's exit code for bad input and diverged runs: a retry would fail the same way


@dataclass
class JobState:
    job: Job
    status: str = "pending"  # pending, running, done, failed
    attempts: int = 0
    error: str = ""
    run: str | None = None
    node: str = ""
    skipped: bool = False  # finished before this invocation


@dataclass
class GridReport:
    dir: Path
    ran: int = 0
    skipped: int = 0
    failed: list[JobState] = field(default_factory=list)


def log_name(job: Job) -> str:
    return job.name.replace("/", "__") + ".log"


def rewrite_paths(config: Path, old: str, new: str) -> None:
    """Replace the prefix ``old`` by ``new`` in every path string of a run's config.yaml."""

    def fix(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(old):
            return new + value[len(old) :]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    save_yaml(fix(load_yaml(config)), config)


class Scheduler:
    def __init__(self, base: Path, spec: GridSpec, jobs: list[Job], backend: Any, manifest: dict[str, Any]):
        self.base, self.spec, self.backend, self.manifest = base, spec, backend, manifest
        self.states = {job.name: JobState(job) for job in jobs}
        self.logs = base / "logs"
        self.logs.mkdir(exist_ok=True)

    # -- bookkeeping ------------------------------------------------------------------------------
    def save(self) -> None:
        self.manifest["jobs"] = [
            {
                "name": s.job.name,
                "task": s.job.task,
                "algo": s.job.algo,
                "cell": s.job.cell,
                "axes": s.job.axes,
                "seed": s.job.seed,
                "role": s.job.role,
                "args": s.job.args,
                "needs": s.job.needs,
                "status": s.status,
                "attempts": s.attempts,
                "error": s.error,
                "run": s.run,
                "node": s.node,
                "log": f"logs/{log_name(s.job)}",
            }
            for s in self.states.values()
        ]
        atomic_write_json(self.base / "manifest.json", self.manifest)

    def say(self, state: JobState, text: str) -> None:
        finished = sum(s.status in ("done", "failed") for s in self.states.values())
        print(f"[{finished}/{len(self.states)}] {state.job.name}: {text}", flush=True)

    def finished_run(self, job: Job) -> str | None:
        run = find_run(self.base, job.run_glob())
        return run if run is not None and (self.base / run / "metrics.json").is_file() else None

    # -- one attempt ------------------------------------------------------------------------------
    def payload(self, state: JobState) -> dict[str, Any]:
        job = state.job
        resume = find_run(self.base, job.run_glob())
        if resume is not None and not (self.base / resume / "checkpoints" / "latest.pt").is_file():
            shutil.rmtree(self.base / resume)  # started but never checkpointed: start over
            resume = None
        links = {f: self.states[name].run for f, name in job.needs.items()}
        payload: dict[str, Any] = {
            "task": job.task,
            "algo": job.algo,
            "seed": job.seed,
            "args": job.args,
            "out": job.out,
            "glob": job.run_glob(),
            "links": links,
            "resume": resume,
            "threads": self.spec.cpus,
            "storage": self.spec.storage,
            "root": str(self.base.resolve()),
        }
        if self.spec.storage == "copy":
            payload["inputs"] = [pack(self.base, rel) for rel in [*links.values(), resume] if rel]
        return payload

    def receive(self, state: JobState, future: Future) -> None:
        """Book an attempt's outcome: done, retried, or failed."""
        try:
            outcome = future.result()
        except Exception as exc:  # the worker or its node died (Ray), or the attempt could not start
            outcome = {"code": None, "done": False, "error": f"{type(exc).__name__}: {str(exc).strip()}", "log": ""}
            outcome["error"] = outcome["error"].splitlines()[0]
        if outcome.get("archive"):
            target = self.base / outcome["run"]
            shutil.rmtree(target, ignore_errors=True)
            unpack(outcome["archive"], self.base)
            rewrite_paths(target / "config.yaml", outcome["scratch"], str(self.base.resolve()))
        with open(self.logs / log_name(state.job), "a") as log:
            head = "done" if outcome["done"] else outcome["error"]
            log.write(f"--- attempt {state.attempts} on {outcome.get('node', '?')}: {head}\n{outcome['log']}\n")
        state.node = outcome.get("node", "")
        if outcome["done"]:
            state.status, state.run, state.error = "done", outcome["run"], ""
            self.say(state, f"done ({state.run})")
        elif outcome["code"] != BAD_INPUT and state.attempts <= self.spec.retries:
            state.status, state.error = "pending", outcome["error"]
            self.say(state, f"attempt {state.attempts} failed, retrying: {state.error}")
        else:
            state.status, state.error = "failed", outcome["error"]
            self.say(state, f"failed after {state.attempts} attempt(s): {state.error}")

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> GridReport:
        report = GridReport(self.base)
        for state in self.states.values():
            state.run = self.finished_run(state.job)
            if state.run is not None:
                state.status, state.skipped = "done", True
                report.skipped += 1
        self.save()
        running: dict[Future, JobState] = {}
        while True:
            for state in self.states.values():
                if state.status != "pending":
                    continue
                deps = [self.states[name] for name in state.job.needs.values()]
                broken = next((d for d in deps if d.status == "failed"), None)
                if broken is not None:
                    state.status, state.error = "failed", f"its run {broken.job.name} failed: {broken.error}"
                    self.say(state, state.error)
                elif all(d.status == "done" for d in deps) and len(running) < self.backend.capacity:
                    state.status = "running"
                    state.attempts += 1
                    future = self.backend.submit(self.payload(state), self.spec.cpus, state.job.gpus)
                    running[future] = state
            self.save()
            if not running:
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                state = running.pop(future)
                self.receive(state, future)
                report.ran += state.status == "done"
        report.failed = [s for s in self.states.values() if s.status == "failed"]
        self.save()
        return report
