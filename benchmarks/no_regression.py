"""Env throughput of this tree against a git worktree of an earlier commit, in one run.

Each task's env is stepped (random actions in [-1, 1], auto-reset included) by a fresh
subprocess per measurement, alternating old and new tree ``--rounds`` times, so both see the
same machine load; the figure is the median env-steps/s of each side and their ratio, by wall
clock and by the process's CPU time (steadier on a busy machine, but it charges the MuJoCo tasks'
two stepping threads, which the envs before used only for the humanoid). The issue that
introduced the term-table envs requires every ratio ≥ 0.95.

    python benchmarks/no_regression.py --before 3fca76b
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _meta import ROOT, finish, record

# (task, num_envs, steps): batch sizes the trainers use on this CPU, steps for ~1-3 s each.
CASES = (
    ("maze", 256, 60),
    ("particle", 2048, 100),
    ("pusht", 256, 60),
    ("block-push", 256, 30),
    ("humanoid-walk", 64, 40),
)

PROBE = r"""
import sys, time, torch
torch.set_num_threads(1); torch.set_flush_denormal(True)
try:
    from imitate.registry import get_task
except ImportError:
    from imitate.tasks import get_task
name, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
env = get_task(name).make_env(n, seed=0)
env.reset(seed=0)
gen = torch.Generator().manual_seed(0)
actions = [torch.rand(n, env.act_dim, generator=gen) * 2 - 1 for _ in range(steps + 5)]
for a in actions[:5]:
    env.step(a)
t0, c0 = time.perf_counter(), time.process_time()
for a in actions[5:]:
    env.step(a)
print(steps * n / (time.perf_counter() - t0), steps * n / (time.process_time() - c0))
"""


def probe(tree: Path, name: str, n: int, steps: int) -> tuple[float, float]:
    """(wall-clock, CPU-time) env-steps/s of one fresh process."""
    env = {"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, name, str(n), str(steps)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default="3fca76b", help="commit to compare against")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", default=",".join(c[0] for c in CASES))
    parser.add_argument("--out", default="benchmarks/results/no_regression_throughput.json")
    args = parser.parse_args()
    meta = record()
    wanted = args.tasks.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old), args.before], cwd=ROOT, check=True)
        try:
            rows = {}
            for name, n, steps in (c for c in CASES if c[0] in wanted):
                rates: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
                for _ in range(args.rounds):
                    rates["before"].append(probe(old, name, n, steps))
                    rates["after"].append(probe(ROOT, name, n, steps))
                med = {k: [statistics.median(r[i] for r in v) for i in (0, 1)] for k, v in rates.items()}
                ratio, cpu_ratio = (med["after"][i] / med["before"][i] for i in (0, 1))
                rows[name] = {
                    "num_envs": n,
                    "steps": steps,
                    "before_steps_per_s": round(med["before"][0], 1),
                    "after_steps_per_s": round(med["after"][0], 1),
                    "ratio": round(ratio, 3),
                    "cpu_ratio": round(cpu_ratio, 3),
                    "rounds": {k: [[round(x, 1) for x in r] for r in v] for k, v in rates.items()},
                }
                print(
                    f"{name:14s} before {med['before'][0]:10.0f}  after {med['after'][0]:10.0f}  "
                    f"ratio {ratio:.3f} (CPU time {cpu_ratio:.3f})",
                    flush=True,
                )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
    result = {
        "meta": finish(meta),
        "before_commit": args.before,
        "tasks": rows,
        "all_at_least_0.95": all(r["ratio"] >= 0.95 for r in rows.values()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v["ratio"] for k, v in rows.items()}))


if __name__ == "__main__":
    main()
