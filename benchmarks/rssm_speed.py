"""Training speed of the world model (AIME phase 1, ``models/rssm.py``): gradient steps per second
at the CPU default sizes and at AIME's walker sizes, on the walker's observation layout.

One step is what ``imitate train TASK world-model`` does per iteration: the negative ELBO of a
batch of (batch_size, seq_len) windows (filtering, decoding), backward, gradient clip, Adam.
The data are random numbers of the walker's shapes (orientations 14, height 1, velocity 9;
6 actions): the speed does not depend on their values. Besides wall-clock steps/s it reports
steps per CPU-second of this process, which a busy shared machine disturbs less.

    python benchmarks/rssm_speed.py [--steps 30] [--sizes cpu,aime] [--threads 1]

Prints one JSON object and writes it to --out (benchmarks/results/rssm_speed.json).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from _meta import finish, record
from imitate.algos.world_model import build_model
from imitate.algos.world_model_config import AIME_SIZES, WorldModelConfig
from imitate.utils.io import atomic_write_json
from imitate.utils.numerics import backward_step

WALKER_LAYOUT = (("orientations", 14), ("height", 1), ("velocity", 9))
WALKER_ACTIONS = 6
SIZE_KEYS = ("deter", "stoch", "units", "layers", "batch_size", "seq_len")


def measure(cfg: WorldModelConfig, steps: int) -> dict:
    torch.manual_seed(0)
    model = build_model(cfg, WALKER_LAYOUT, WALKER_ACTIONS)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(cfg.batch_size, cfg.seq_len, sum(s for _, s in WALKER_LAYOUT), generator=g)
    prev = torch.rand(cfg.batch_size, cfg.seq_len, WALKER_ACTIONS, generator=g) * 2 - 1

    def step() -> None:
        loss, _ = model.loss(obs, prev, g, cfg.free_nats, cfg.kl_balance, cfg.kl_scale, cfg.beta_nll)
        backward_step(loss, optimizer, model.parameters(), "world_model_loss", max_norm=cfg.grad_clip)

    step()  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        **{k: getattr(cfg, k) for k in SIZE_KEYS},
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": steps,
        "steps_per_s": round(steps / wall, 2),
        "steps_per_cpu_s": round(steps / cpu, 2),
        "sequence_steps_per_s": round(steps * cfg.batch_size * cfg.seq_len / wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="cpu,aime", help="cpu (the config's defaults) and/or aime")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/rssm_speed.json")
    args = parser.parse_args()
    meta = record()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    configs = {"cpu": WorldModelConfig(), "aime": WorldModelConfig(**AIME_SIZES)}
    rows = [{"sizes": name, **measure(configs[name], args.steps)} for name in args.sizes.split(",")]
    result = {"benchmark": "rssm_speed", "meta": finish(meta), "threads": args.threads, "results": rows}
    atomic_write_json(args.out, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
