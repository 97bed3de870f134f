"""PPO's step size on the humanoid: does a fixed lr 3e-4, a smaller fixed lr, or the adaptive
KL rule (`kl_target=`) keep the humanoid up longest for the same samples?

Why: the humanoid presets fix the action noise at σ = exp(−2.9) ≈ 0.055, as NEAR and AMP do.
With so little noise, lr 3e-4 moves the policy by an approximate KL of 0.1–0.2 per update and
clips more than half the samples (the 10 M-sample walk grid's `progress.jsonl`), and every run
of that grid falls in every episode. This benchmark trains PPO on the task reward alone (the
cheapest of the three learners, and the one whose failure says most about the optimiser) on
`humanoid motion=walk` with each step-size setting for the same samples, through `imitate train`
and `imitate eval` only.

One variant per invocation, so that two can run side by side on the two cores, each writing its
own JSON (atomically, resuming an interrupted run):

    python benchmarks/humanoid_step_size.py --variant lr3e-4 lr=3e-4
    python benchmarks/humanoid_step_size.py --variant kl0.008 kl_target=0.008
    python benchmarks/humanoid_step_size.py --variant lr3e-5 lr=3e-5
    python benchmarks/humanoid_step_size.py --plot   # the curves (PNG) and table.md of all variants
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _imitate import Ledger, evaluate, train
from _meta import finish, record
from imitate.utils.io import atomic_savefig, atomic_write

OUT = Path("benchmarks/results/humanoid_step_size")
CURVE_KEYS = ("episode/length", "loss/approx_kl", "loss/clip_frac", "policy/learning_rate")


def curve(run: Path, points: int = 30) -> dict[str, list[float]]:
    """The training curve at ``points`` evenly spaced updates of the run's progress.jsonl."""
    rows = [json.loads(line) for line in (run / "progress.jsonl").read_text().splitlines() if line.strip()]
    picked = [rows[int(i)] for i in np.linspace(0, len(rows) - 1, min(points, len(rows)))]
    out: dict[str, list[float]] = {"step": [r["step"] for r in picked]}
    for key in CURVE_KEYS:
        if key in rows[0]:
            out[key] = [round(float(r[key]), 6) for r in picked]
    return out


def run_variant(name: str, overrides: list[str], seed: int, total_steps: int, episodes: int) -> None:
    meta = record()
    ledger = Ledger(OUT / f"{name}.json", {"benchmark": "humanoid_step_size", "variant": name})
    command = [f"seed={seed}", f"total_steps={total_steps}", "motion=walk", *overrides]
    trained = ledger.step("train", lambda: train(OUT / "runs" / name, "humanoid", "ppo", *command))
    ledger.step("eval", lambda: evaluate(trained["run"], episodes))
    ledger.data["curve"] = curve(Path(trained["run"]))
    ledger.data["invocations"].append(finish(meta))
    ledger.save()


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = {p.stem: json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))}
    done = {k: v for k, v in results.items() if "eval" in v.get("steps", {})}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, r in done.items():
        c = r["curve"]
        axes[0].plot(np.array(c["step"]) / 1e6, c["episode/length"], label=name)
        axes[1].semilogy(np.array(c["step"]) / 1e6, c["loss/approx_kl"], label=name)
    axes[0].set(xlabel="samples (M)", ylabel="training episode length (steps)")
    axes[1].set(xlabel="samples (M)", ylabel="approx. KL per update")
    axes[0].legend()
    fig.suptitle("PPO on the humanoid walk task reward: step size (σ fixed at 0.055)")
    fig.tight_layout()
    atomic_savefig(fig, OUT / "curves.png", dpi=110)
    lines = [
        "| variant | command | fall rate | episode length | pose error (m) | distance (m) | mean KL | clip frac |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in done.items():
        e, c = r["steps"]["eval"], r["curve"]
        lines.append(
            f"| {name} | `{r['steps']['train']['command']}` | {e['fall_rate']:.2f} | {e['episode_length']:.1f} "
            f"| {e['motion_pose_error_dtw_m']:.3f} | {e['motion_distance_m']:.2f} "
            f"| {np.mean(c['loss/approx_kl']):.3f} | {np.mean(c['loss/clip_frac']):.2f} |"
        )
    atomic_write(OUT / "table.md", lambda f: f.write("\n".join(lines) + "\n"), mode="w")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", help="a name for this setting (its JSON and run folder)")
    parser.add_argument("overrides", nargs="*", help="ppo overrides, e.g. kl_target=0.008")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--total-steps", type=int, default=3_000_000)
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--plot", action="store_true", help="only draw the curves and table of finished variants")
    args = parser.parse_args()
    if args.plot:
        plot()
    elif not args.variant:
        parser.error("give --variant NAME [OVERRIDES...] or --plot")
    else:
        run_variant(args.variant, args.overrides, args.seed, args.total_steps, args.episodes)


if __name__ == "__main__":
    main()
