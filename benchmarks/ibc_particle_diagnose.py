"""Diagnose IBC/MSE on the 2-D particle (docs/ibc.md): train with key=value overrides, then report the
true-action top-1 curve, set-point error on demo states, agreement near goal 1, and failure modes.
Defaults are the first presets (width 128, 1 block, batch 128, 32 negatives, 256 DFO samples, 1500 steps).

    python benchmarks/ibc_particle_diagnose.py tag=b512k8_4k batch_size=512 counter_examples=8 iterations=4000
    python benchmarks/ibc_particle_diagnose.py algo=mse tag=mse batch_size=512 iterations=4000
"""
import json, sys, time
import torch
torch.set_num_threads(1)
from imitate.algos.ibc import ImplicitPolicy
from imitate.algos.bc import MSEPolicy
from imitate.algos.bc_common import BCTrainer
from imitate.config import IBCConfig, BCConfig
from imitate.data.oracles.particle import particle_oracle
from imitate.envs.particle import ParticleEnv

args = dict(a.split("=", 1) for a in sys.argv[1:])
algo = args.pop("algo", "ibc")
tag = args.pop("tag", algo)
kw = dict(width=128, blocks=1, batch_size=128, lr=1e-3, counter_examples=32, dfo_samples=256, iterations=1500)
for k, v in args.items():
    kw[k] = type(getattr(IBCConfig(), k))(v) if not isinstance(getattr(IBCConfig(), k), bool) else v == "true"
demos = particle_oracle(2000, seed=0)
obs, act = torch.from_numpy(demos.obs), torch.from_numpy(demos.actions)
torch.manual_seed(0)
if algo == "ibc":
    cfg = IBCConfig(**kw); pol = ImplicitPolicy(8, 2, cfg)
else:
    kw = {k: v for k, v in kw.items() if hasattr(BCConfig(), k)}
    cfg = BCConfig(**kw); pol = MSEPolicy(8, 2, cfg.width, cfg.blocks)
pol.normalizer.fit(obs, act)
on, an = pol.normalizer.obs(obs), pol.normalizer.action(act)
g = torch.Generator().manual_seed(0)
tr = BCTrainer(pol, cfg)
t0 = time.time(); curve = []
def cb(it, st):
    if it % 250 == 0: curve.append((it, round(st.get("true_action_top1", st["loss"]), 3)))
tr.fit(on, an, g, callback=cb)
ttrain = time.time() - t0
pol.eval()
# precision on demo states
d1 = (obs[:, :2] - obs[:, 4:6]).norm(dim=-1)
lab2 = (act - ParticleEnv.target_to_action(obs[:, 6:8])).norm(dim=-1) < 1e-6
idx = torch.randperm(len(obs), generator=torch.Generator().manual_seed(1))[:1000]
with torch.no_grad():
    pa = pol.act(obs[idx], generator=g)
err = ((pa - act[idx]).norm(dim=-1) / 2)  # set-point units
far = d1[idx] > 0.05
res = {"tag": tag, "train_s": round(ttrain), "curve": curve,
       "sp_err_med_far_phase1": round(err[far & ~lab2[idx]].median().item(), 4),
       "sp_err_med_far_phase2": round(err[far & lab2[idx]].median().item(), 4),
       "sp_err_p90_far": round(err[far].quantile(0.9).item(), 4)}
# near-goal-1 states: fraction of policy actions closer to goal 2 vs label
near = d1 < 0.02
ni = near.nonzero()[:, 0][:400]
with torch.no_grad():
    pn = pol.act(obs[ni], generator=g)
pick2 = (pn - ParticleEnv.target_to_action(obs[ni, 6:8])).norm(dim=-1) < (pn - ParticleEnv.target_to_action(obs[ni, 4:6])).norm(dim=-1)
res["near_g1_acc"] = round((pick2 == lab2[ni]).float().mean().item(), 3)
# rollouts
def rollout():
    env = ParticleEnv(100, seed=10_000)
    o = env.reset(seed=10_000); gg = torch.Generator().manual_seed(5)
    mind1 = torch.full((100,), 9.); in01 = torch.zeros(100, dtype=torch.bool)
    for t in range(50):
        with torch.no_grad():
            a = pol.act(o, generator=gg)
        r = env.step(a)
        d = r.extras["dist_goal1"]; mind1 = torch.minimum(mind1, d); in01 |= d < 0.01
        if t == 49: succ, d2 = r.success, r.extras["dist_goal2"]
        o = r.obs
    return {"success": succ.float().mean().item(), "reached_g1_05": (mind1 < 0.05).float().mean().item(),
            "reached_g1_01": in01.float().mean().item(), "fail_final_d2_med": round(d2[~succ].median().item(), 3) if (~succ).any() else None,
            "fail_min_d1_med": round(mind1[~succ].median().item(), 4) if (~succ).any() else None}
t0 = time.time(); res["eval"] = rollout(); res["eval_s"] = round(time.time() - t0)
torch.save(pol.state_dict(), f"/tmp/ibc_diag_{tag}.pt")
print(json.dumps(res), flush=True)
