"""AIME against BC, BCO(0) and IIDM on walker-stand: AIME's table (embodiment data set x method),
at a CPU budget, through `imitate train` and `imitate eval` only.

1. the expert: `imitate train walker-stand ppo total_steps=N snapshot_every=M`, evaluated;
2. its demonstrations: `imitate data --policy RUN --deterministic` (AIME, BCO and IIDM read only
   their observations; BC (`mse`) their actions);
3. embodiment data sets: `random`; `replay`, the snapshots' data in equal shares (the skill levels
   PPO passed through); `mix`, random and every snapshot in equal shares (AIME's walker-mix recipe);
   all of the same size;
4. on each embodiment set: `world-model` (phase 1), `aime` on it, `bco` and `iidm`; BC once;
5. `imitate eval RUN --episodes E` of every policy: the return, the score against our expert's
   return (100 = the expert) and against AIME's expert (957.9).

Everything lives in the work directory (default benchmarks/results/aime_dmc/): the data sets
(`data/*.npz`, not committed), one out_dir per cell (`runs/CELL/`) and `results.json`, in which
every finished step is recorded atomically. A re-run with the same arguments skips the finished
steps and resumes an interrupted training from its checkpoint, so a run cut short continues:

    python benchmarks/aime_dmc.py                      # the budget in docs/aime.md
    python benchmarks/aime_dmc.py --work DIR --ppo-steps 1000000 --snapshot-every 250000
"""

from __future__ import annotations

import argparse
import json

from _imitate import AIME_EXPERT, Ledger, data_set, evaluate, train  # noqa: E402  (benchmarks/ on sys.path)
from _meta import ROOT, finish, record
from imitate.utils.io import atomic_write

EMBODIMENTS = ("mix", "random", "replay")  # mix first: AIME's headline walker data set
METHODS = ("aime", "bco", "iidm")


def sizes(args: argparse.Namespace) -> dict:
    """Every size the table depends on; a work directory holds results of one set of sizes."""
    return {k: v for k, v in vars(args).items() if k != "work"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="benchmarks/results/aime_dmc")
    parser.add_argument("--task", default="walker-stand")
    parser.add_argument("--ppo-steps", type=int, default=1_000_000)
    parser.add_argument("--snapshot-every", type=int, default=250_000)
    parser.add_argument("--demo-episodes", type=int, default=100)
    parser.add_argument("--embodiment-episodes", type=int, default=100, help="episodes of each embodiment set")
    parser.add_argument("--wm-iterations", type=int, default=3000, help="world-model steps (its CPU default)")
    parser.add_argument("--aime-iterations", type=int, default=2000, help="aime policy steps (its default)")
    parser.add_argument("--model-iterations", type=int, default=5000, help="bco/iidm dynamics-model steps")
    parser.add_argument("--policy-iterations", type=int, default=5000, help="bco/iidm/BC policy steps")
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table", action="store_true", help="only print the table of what has finished")
    args = parser.parse_args()
    work = ROOT / args.work
    if args.table:
        results = json.loads((work / "results.json").read_text())
        print(markdown(results, results["steps"]["expert/eval"]["return"], AIME_EXPERT[results["task"]]))
        return
    data, runs = work / "data", work / "runs"
    data.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(work / "results.json", {"task": args.task, "sizes": sizes(args)})
    if ledger.data["sizes"] != sizes(args):
        raise SystemExit(f"{work} holds results of other sizes {ledger.data['sizes']}; pass another --work")
    meta = record()
    ledger.data["invocations"].append(finish(meta))
    ledger.save()
    task, n_eval, seed = args.task, args.eval_episodes, f"seed={args.seed}"
    quick_eval = "eval_episodes=20"  # training's own final evaluation; the table's is `imitate eval`

    expert = ledger.step(
        "expert/train",
        lambda: train(
            runs / "expert",
            task,
            "ppo",
            f"total_steps={args.ppo_steps}",
            f"snapshot_every={args.snapshot_every}",
            seed,
            quick_eval,
        ),
    )
    expert_eval = ledger.step("expert/eval", lambda: evaluate(expert["run"], n_eval))
    expert_return = expert_eval["return"]
    run = str(ROOT / expert["run"])
    steps = sorted(int(p.stem.split("_")[1]) for p in (ROOT / expert["run"] / "checkpoints").glob("step_*.pt"))

    def make(name: str, *cli: str) -> dict:
        return ledger.step(f"data/{name}", lambda: data_set(task, data / f"{name}.npz", *cli))

    n_demo, n_emb = str(args.demo_episodes), str(args.embodiment_episodes)
    make("demos", "--policy", run, "--deterministic", "--episodes", n_demo, "--seed", "100")
    make("random", "--policy", "random", "--episodes", n_emb, "--seed", "1")
    for i, step in enumerate(steps):
        make(f"step{step}", "--policy", f"{run}@{step}", "--episodes", n_emb, "--seed", str(2 + i))
    snapshots = [str(data / f"step{s}.npz") for s in steps]
    make("replay", "--mix", ",".join(snapshots), "--episodes", n_emb, "--seed", "10")
    make("mix", "--mix", ",".join([str(data / "random.npz"), *snapshots]), "--episodes", n_emb, "--seed", "11")
    demos = f"demos={data / 'demos.npz'}"
    score = f"expert_return={expert_return}"

    def cell(key: str, algo: str, *overrides: str) -> None:
        trained = ledger.step(f"{key}/train", lambda: train(runs / key.replace("/", "-"), task, algo, *overrides))
        ledger.step(f"{key}/eval", lambda: evaluate(trained["run"], n_eval))

    policy = [f"iterations={args.policy_iterations}", quick_eval, seed]
    cell("bc", "mse", demos, *policy)
    for emb in EMBODIMENTS:
        wm = ledger.step(
            f"world-model/{emb}/train",
            lambda: train(
                runs / f"world-model-{emb}",
                task,
                "world-model",
                f"demos={data / f'{emb}.npz'}",
                f"iterations={args.wm_iterations}",
                seed,
            ),
        )
        cell(f"aime/{emb}", "aime", f"world_model={ROOT / wm['run']}", demos, score, quick_eval, seed,
             f"iterations={args.aime_iterations}")  # fmt: skip
        for algo in ("bco", "iidm"):
            cell(f"{algo}/{emb}", algo, f"embodiment={data / f'{emb}.npz'}", demos, score,
                 f"model_iterations={args.model_iterations}", *policy)  # fmt: skip

    ledger.data["invocations"][-1] = finish(meta)
    ledger.save()
    table = markdown(ledger.data, expert_return, AIME_EXPERT[task])
    atomic_write(work / "table.md", lambda f: f.write(table), mode="w")
    print(table)


def markdown(results: dict, expert_return: float, aime_expert: float) -> str:
    """The table: each embodiment set's skill level, then each method's return and scores."""
    steps = results["steps"]

    def row(label: str, data_key: str | None, key: str) -> str:
        level = "" if data_key is None else f"{steps[f'data/{data_key}']['skill_level']:.1f}"
        if f"{key}/eval" not in steps:
            return f"| {label} | {level} | (not run yet) | | | | |"
        m = steps[f"{key}/eval"]
        ret, seconds = m["return"], steps[f"{key}/train"]["metrics"].get("train_seconds", "")
        action = m.get("demo_action_mse", m.get("demo_policy_action_mse"))
        action_text = "(trained on them)" if action is None else f"{action:.4f}"
        ours, aime = 100 * ret / expert_return, 100 * ret / aime_expert
        return f"| {label} | {level} | {ret:.1f} | {ours:.1f} | {aime:.1f} | {action_text} | {seconds} |"

    episodes = steps["expert/eval"]["episodes"]
    lines = [
        f"| embodiment data / method | data's skill level | return ({episodes} episodes) | score (our expert = 100) "
        f"| score (AIME's expert {aime_expert} = 100) | action MSE vs the expert's on the demo states | training (s) |",
        "|---|---|---|---|---|---|---|",
        f"| PPO expert (`imitate eval`) | | {expert_return:.1f} | 100.0 | {100 * expert_return / aime_expert:.1f} "
        f"| | {steps['expert/train']['metrics'].get('train_seconds', '')} |",
        f"| expert demos (deterministic) | {steps['data/demos']['skill_level']:.1f} | | | | | |",
        row("BC (`mse`, expert actions)", None, "bc"),
    ]
    for emb in EMBODIMENTS:
        for algo in METHODS:
            lines.append(row(f"{emb} / {algo}", emb, f"{algo}/{emb}"))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
