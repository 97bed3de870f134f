"""PPO on walker-stand, then its data sets at several skill levels: a measured return against
AIME's expert (957.9, docs/tasks.md#deepmind-control-aime).

1. `imitate train walker-stand ppo total_steps=N snapshot_every=M` (PPO's defaults otherwise);
2. `imitate eval RUN --episodes 100`: the mean return of 100 deterministic episodes;
3. `imitate data walker-stand --policy RUN@STEP` for every snapshot (stochastic, the default)
   and `--policy RUN --deterministic` for the last: each data set's skill level (the mean return
   of its episodes) and how long it took to write;
4. `imitate data walker-stand --policy random` of the same size, and `--mix` of random and every
   level in equal shares (AIME's walker-mix recipe).

Writes one JSON (default benchmarks/results/dmc_ppo_walker_stand.json) and prints it.

    python benchmarks/dmc_ppo_walker_stand.py --total-steps 1000000 --snapshot-every 250000
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from _imitate import AIME_EXPERT as AIME_EXPERTS  # noqa: E402  (benchmarks/ is on sys.path when a script runs)
from _imitate import data_set as write_data_set
from _imitate import imitate
from _meta import finish, record
from imitate.utils.io import atomic_write_json

TASK = "walker-stand"
AIME_EXPERT = AIME_EXPERTS[TASK]  # AIME's walker-stand expert return (docs/tasks.md)


def data_set(path: Path, *args: str) -> dict[str, Any]:
    """`imitate data walker-stand ARGS --out PATH`, scored against AIME's expert."""
    return write_data_set(TASK, path, *args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total-steps", type=int, default=1_000_000)
    parser.add_argument("--snapshot-every", type=int, default=250_000)
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes and episodes per data set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/dmc_ppo_walker_stand.json")
    args = parser.parse_args()
    meta = record()
    work = Path(tempfile.mkdtemp(prefix="dmc_ppo_"))
    train = [f"total_steps={args.total_steps}", f"snapshot_every={args.snapshot_every}", f"seed={args.seed}"]
    stdout, train_wall = imitate("train", TASK, "ppo", *train, f"out_dir={work / 'runs'}", "progress=false")
    run = next(line[5:] for line in stdout.splitlines() if line.startswith("run: "))
    trained = json.loads(stdout.strip().splitlines()[-1])
    stdout, _ = imitate("eval", run, "--episodes", str(args.episodes))
    evaluation = json.loads(stdout.strip().splitlines()[-1])
    n = str(args.episodes)
    steps = sorted(int(p.stem.split("_")[1]) for p in (Path(run) / "checkpoints").glob("step_*.pt"))
    levels = [data_set(work / f"step{s}.npz", "--policy", f"{run}@{s}", "--episodes", n) for s in steps]
    expert = data_set(work / "expert.npz", "--policy", run, "--deterministic", "--episodes", n)
    random = data_set(work / "random.npz", "--policy", "random", "--episodes", n)
    parts = [work / "random.npz", *(work / f"step{s}.npz" for s in steps)]
    mixture = data_set(work / "mix.npz", "--mix", ",".join(map(str, parts)))
    result = {
        "meta": finish(meta),
        "task": TASK,
        "train": {
            "command": f"imitate train {TASK} ppo {' '.join(train)}",
            "env_steps": trained["env_steps"],
            "train_seconds": trained["train_seconds"],
            "wall_seconds": round(train_wall, 1),
        },
        "eval": {
            "episodes": evaluation["episodes"],
            "return": round(evaluation["return"], 1),
            "aime_expert_return": AIME_EXPERT,
            "score": round(100 * evaluation["return"] / AIME_EXPERT, 1),
        },
        "data_sets": {"levels": levels, "expert_deterministic": expert, "random": random, "mix": mixture},
    }
    atomic_write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
