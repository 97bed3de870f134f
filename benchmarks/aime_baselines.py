"""AIME's baselines BCO(0) and IIDM against BC with the expert's actions on the 2-D particle
(docs/aime.md, "Measured on the particle"), through `imitate data` and `imitate train` only.

1. `imitate data particle --episodes 2000` (the oracle's demonstrations; bco and iidm drop
   their actions);
2. `imitate train particle bco demos=...` and `iidm demos=...` at their defaults (200 random-action
   embodiment episodes generated into each run, 5,000 dynamics-model steps, 10,000 policy steps);
3. `imitate train particle mse demos=...` with the same network and steps, and at the particle's
   preset; every run's own final evaluation (100 episodes) is its row.

Resumable like aime_dmc.py: every finished step is recorded atomically in the work directory's
`results.json` (default benchmarks/results/aime_baselines_particle/), a re-run skips it and
resumes an interrupted training from its checkpoint.

    python benchmarks/aime_baselines.py
"""

from __future__ import annotations

import argparse

from _imitate import Ledger, data_set, train  # noqa: E402  (benchmarks/ is on sys.path when a script runs)
from _meta import ROOT, finish, record
from imitate.utils.io import atomic_write

TASK = "particle"
RUNS = {
    "bco": ("bco",),
    "iidm": ("iidm",),
    "mse_same_network": ("mse", "iterations=10000", "batch_size=256", "width=256", "blocks=2"),
    "mse_particle_preset": ("mse",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="benchmarks/results/aime_baselines_particle")
    parser.add_argument("--demo-episodes", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = ROOT / args.work
    work.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(work / "results.json", {"task": TASK, "sizes": {k: v for k, v in vars(args).items()}})
    meta = record()
    ledger.data["invocations"].append(finish(meta))
    ledger.save()
    demos = work / "particle.npz"
    ledger.step("data/demos", lambda: data_set(TASK, demos, "--episodes", str(args.demo_episodes), "--seed", "0"))
    for name, (algo, *overrides) in RUNS.items():
        ledger.step(
            name, lambda: train(work / "runs" / name, TASK, algo, f"demos={demos}", *overrides, f"seed={args.seed}")
        )
    ledger.data["invocations"][-1] = finish(meta)
    ledger.save()
    table = markdown(ledger.data["steps"])
    atomic_write(work / "table.md", lambda f: f.write(table), mode="w")
    print(table)


def markdown(steps: dict) -> str:
    """The table of docs/aime.md: success, the policy's action error, the dynamics model's, time."""
    lines = [
        "| run | success rate | policy's action MSE vs the expert's | dynamics model, held out | training (s) |",
        "|---|---|---|---|---|",
    ]
    for name in RUNS:
        m = steps[name]["metrics"]
        model = ""
        if "idm_heldout_action_mse" in m:
            model = (
                f"action MSE {m['idm_heldout_action_mse']:.5f} (their variance: {m['idm_heldout_action_var']:.3f}); "
                f"labels vs the oracle's actions {m['demo_label_action_mse']:.5f}"
            )
        elif "forward_heldout_mse" in m:
            model = f"prediction MSE {m['forward_heldout_mse']:.5f} (no change: {m['forward_heldout_mse_copy']:.3f})"
        action = f"{m['demo_policy_action_mse']:.4f}" if "demo_policy_action_mse" in m else "(trained on them)"
        lines.append(f"| `{name}` | {m['success_rate']:.2f} | {action} | {model} | {m['train_seconds']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
