"""Diagnose IBC or MSE on the 2-D particle (docs/ibc.md, "Why IBC-DFO lost at the first presets").

Trains one policy on 2000 oracle episodes (seed 0) with key=value overrides, outside the run
layout, then prints one JSON line: the true-action top-1 curve (IBC) or loss curve (MSE), the
set-point error on demonstration states away from goal 1, the agreement with the demonstrated
goal on states within 0.02 of goal 1, and how 100 evaluation episodes (env seed 10 000) end.
Defaults are the first presets (width 128, 1 block, batch 128, 32 negatives, 256 DFO samples,
1500 steps). For trained runs, `ibc_inference.py` gives failure kinds and energy rankings.

    python benchmarks/ibc_particle_diagnose.py tag=b512k8_4k batch_size=512 counter_examples=8 iterations=4000
    python benchmarks/ibc_particle_diagnose.py algo=mse tag=mse batch_size=512 iterations=4000
"""

from __future__ import annotations

import json
import sys
import time

import torch

from _meta import finish
from _meta import record as record_meta
from imitate.algos.bc import MSEPolicy
from imitate.algos.bc_common import BCTrainer
from imitate.algos.bc_config import BCConfig
from imitate.algos.ibc import ImplicitPolicy
from imitate.algos.ibc_config import IBCConfig
from imitate.oracles.particle import particle_oracle
from imitate.tasks.particle import ParticleEnv, target_to_action

FIRST_PRESETS = dict(
    width=128, blocks=1, batch_size=128, lr=1e-3, counter_examples=32, dfo_samples=256, iterations=1500
)


def parse_overrides(argv: list[str]) -> tuple[str, str, dict]:
    args = dict(a.split("=", 1) for a in argv)
    algo = args.pop("algo", "ibc")
    tag = args.pop("tag", algo)
    kw = dict(FIRST_PRESETS)
    defaults = IBCConfig()
    for key, value in args.items():
        default = getattr(defaults, key)
        kw[key] = value == "true" if isinstance(default, bool) else type(default)(value)
    return algo, tag, kw


def build_policy(algo: str, kw: dict):
    if algo == "ibc":
        cfg = IBCConfig(**kw)
        return ImplicitPolicy(8, 2, cfg), cfg
    cfg = BCConfig(**{k: v for k, v in kw.items() if hasattr(BCConfig(), k)})
    return MSEPolicy(8, 2, cfg.width, cfg.blocks), cfg


def demo_precision(policy, obs, act, generator) -> dict:
    """Set-point errors on 1000 demo states away from goal 1, and goal agreement near goal 1."""
    d1 = (obs[:, :2] - obs[:, 4:6]).norm(dim=-1)
    labelled_goal2 = (act - target_to_action(obs[:, 6:8])).norm(dim=-1) < 1e-6
    idx = torch.randperm(len(obs), generator=torch.Generator().manual_seed(1))[:1000]
    with torch.no_grad():
        predicted = policy.act(obs[idx], generator=generator)
    err = (predicted - act[idx]).norm(dim=-1) / 2  # set-point units
    far = d1[idx] > 0.05
    out = {
        "sp_err_med_far_phase1": round(err[far & ~labelled_goal2[idx]].median().item(), 4),
        "sp_err_med_far_phase2": round(err[far & labelled_goal2[idx]].median().item(), 4),
        "sp_err_p90_far": round(err[far].quantile(0.9).item(), 4),
    }
    near = (d1 < 0.02).nonzero()[:, 0][:400]
    with torch.no_grad():
        predicted = policy.act(obs[near], generator=generator)
    to_goal2 = (predicted - target_to_action(obs[near, 6:8])).norm(dim=-1)
    to_goal1 = (predicted - target_to_action(obs[near, 4:6])).norm(dim=-1)
    out["near_g1_acc"] = round(((to_goal2 < to_goal1) == labelled_goal2[near]).float().mean().item(), 3)
    return out


def rollout(policy, episodes: int = 100) -> dict:
    env = ParticleEnv(episodes, seed=10_000)
    obs, generator = env.reset(seed=10_000), torch.Generator().manual_seed(5)
    min_d1 = torch.full((episodes,), 9.0)
    within_01 = torch.zeros(episodes, dtype=torch.bool)
    for _ in range(env.max_episode_steps):
        with torch.no_grad():
            result = env.step(policy.act(obs, generator=generator))
        d1 = result.extras["dist_goal1"]
        min_d1, within_01 = torch.minimum(min_d1, d1), within_01 | (d1 < 0.01)
        obs = result.obs
    success, failed = result.success, ~result.success
    return {
        "success": success.float().mean().item(),
        "reached_g1_05": (min_d1 < 0.05).float().mean().item(),
        "reached_g1_01": within_01.float().mean().item(),
        "fail_final_d2_med": round(result.extras["dist_goal2"][failed].median().item(), 3) if failed.any() else None,
        "fail_min_d1_med": round(min_d1[failed].median().item(), 4) if failed.any() else None,
    }


def main() -> None:
    meta = record_meta()
    torch.set_num_threads(1)
    algo, tag, kw = parse_overrides(sys.argv[1:])
    demos = particle_oracle(2000, seed=0)
    obs, act = torch.from_numpy(demos.obs), torch.from_numpy(demos.actions)
    torch.manual_seed(0)
    policy, cfg = build_policy(algo, kw)
    policy.normalizer.fit(obs, act)
    obs_n, act_n = policy.normalizer.obs(obs), policy.normalizer.action(act)
    generator = torch.Generator().manual_seed(0)
    curve: list[tuple[int, float]] = []

    def record(iteration: int, stats: dict) -> None:
        if iteration % 250 == 0:
            curve.append((iteration, round(stats.get("true_action_top1", stats["loss"]), 3)))

    started = time.time()
    BCTrainer(policy, cfg).fit(obs_n, act_n, generator, callback=record)
    result = {"tag": tag, "train_s": round(time.time() - started), "curve": curve}
    policy.eval()
    result.update(demo_precision(policy, obs, act, generator))
    started = time.time()
    result["eval"] = rollout(policy)
    result["eval_s"] = round(time.time() - started)
    torch.save(policy.state_dict(), f"/tmp/ibc_diag_{tag}.pt")
    print(json.dumps({"meta": finish(meta), **result}), flush=True)


if __name__ == "__main__":
    main()
