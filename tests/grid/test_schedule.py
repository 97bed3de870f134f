"""The grid's scheduler with a stand-in backend: retries, failures that stay contained, resume."""

import json
from concurrent.futures import Future
from pathlib import Path

from imitate.grid.schedule import Scheduler
from imitate.grid.spec import GridSpec, Job


class FakeBackend:
    """Finishes attempts at once by ``plan[job algo]``: 'ok' writes a finished run, 'die' is a
    killed worker (signal 9), 'diverge' exits 2 with the CLI's error line, 'die-once' dies on the
    first attempt only."""

    capacity = 4

    def __init__(self, plan):
        self.plan, self.submitted = plan, []

    def submit(self, payload, cpus, gpus):
        self.submitted.append(payload)
        what = self.plan[payload["algo"]]
        attempt = sum(p["algo"] == payload["algo"] for p in self.submitted)
        future = Future()
        if what == "ok" or (what == "die-once" and attempt > 1):
            run = Path(payload["out"], payload["task"], payload["algo"], f"20270101-000000-{payload['seed']}")
            (Path(payload["root"]) / run).mkdir(parents=True)
            (Path(payload["root"]) / run / "metrics.json").write_text("{}")
            future.set_result({"code": 0, "done": True, "error": "", "log": "", "run": str(run), "node": "n"})
        elif what == "diverge":
            line = "imitate: error: loss/policy is not finite (nan) at iteration 3"
            future.set_result({"code": 2, "done": False, "error": line, "log": line, "run": None, "node": "n"})
        else:
            future.set_result(
                {"code": -9, "done": False, "error": "killed by signal 9 (SIGKILL)", "log": "", "run": None}
            )
        return future


def jobs():
    energy = Job("maze", "energy", "", 0, {}, {}, role="required")
    return [
        energy,
        Job("maze", "near", "", 0, {}, {}, needs={"energy": energy.name}),
        Job("maze", "ppo", "", 0, {}, {}),
        Job("maze", "amp", "", 0, {}, {}),
    ]


def run(tmp_path, plan, retries=2):
    spec = GridSpec(tasks=["maze"], algos=["near", "ppo", "amp"], seeds=[0], retries=retries)
    backend = FakeBackend(plan)
    report = Scheduler(tmp_path, spec, jobs(), backend, {"jobs": []}).run()
    return report, backend, json.loads((tmp_path / "manifest.json").read_text())


def test_a_dying_run_is_retried_then_failed_with_its_line_and_the_rest_finish(tmp_path):
    report, backend, manifest = run(tmp_path, {"energy": "ok", "near": "ok", "ppo": "die", "amp": "die-once"})
    state = {j["name"]: j for j in manifest["jobs"]}
    assert state["maze/ppo/seed0"]["status"] == "failed" and state["maze/ppo/seed0"]["attempts"] == 3  # 1 + 2 retries
    assert state["maze/ppo/seed0"]["error"] == "killed by signal 9 (SIGKILL)"
    assert state["maze/amp/seed0"]["status"] == "done" and state["maze/amp/seed0"]["attempts"] == 2
    assert state["maze/near/seed0"]["status"] == "done"
    near = next(p for p in backend.submitted if p["algo"] == "near")
    assert near["links"] == {"energy": state["maze/energy/seed0"]["run"]}  # NEAR trains on the energy job's run
    assert [s.job.name for s in report.failed] == ["maze/ppo/seed0"] and report.ran == 3
    assert "attempt 3" in (tmp_path / "logs" / "maze__ppo__seed0.log").read_text()


def test_bad_input_and_divergence_are_not_retried_and_dependents_fail_with_them(tmp_path):
    report, backend, manifest = run(tmp_path, {"energy": "diverge", "near": "ok", "ppo": "ok", "amp": "ok"})
    state = {j["name"]: j for j in manifest["jobs"]}
    assert state["maze/energy/seed0"]["attempts"] == 1 and "is not finite" in state["maze/energy/seed0"]["error"]
    assert state["maze/near/seed0"]["status"] == "failed" and state["maze/near/seed0"]["attempts"] == 0
    assert state["maze/near/seed0"]["error"].startswith("its run maze/energy/seed0 failed: imitate: error: loss")
    assert not any(p["algo"] == "near" for p in backend.submitted) and report.ran == 2


def test_a_finished_grid_runs_nothing_again(tmp_path):
    run(tmp_path, {"energy": "ok", "near": "ok", "ppo": "ok", "amp": "ok"})
    report, backend, _ = run(tmp_path, {"energy": "die", "near": "die", "ppo": "die", "amp": "die"})
    assert backend.submitted == [] and report.skipped == 4 and report.ran == 0 and not report.failed


def test_a_run_killed_before_its_first_checkpoint_starts_over_and_one_with_a_checkpoint_resumes(tmp_path):
    fresh = tmp_path / "runs" / "maze" / "ppo" / "20260101-000000-0"
    fresh.mkdir(parents=True)
    kept = tmp_path / "runs" / "maze" / "amp" / "20260101-000000-0"
    (kept / "checkpoints").mkdir(parents=True)
    (kept / "checkpoints" / "latest.pt").write_bytes(b"x")
    _, backend, _ = run(tmp_path, {"energy": "ok", "near": "ok", "ppo": "ok", "amp": "ok"})
    by_algo = {p["algo"]: p for p in backend.submitted}
    assert by_algo["ppo"]["resume"] is None and not fresh.exists()
    assert by_algo["amp"]["resume"] == "runs/maze/amp/20260101-000000-0"
