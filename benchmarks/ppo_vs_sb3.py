"""Our PPO against stable-baselines3's PPO on standard continuous-control tasks.

Tasks (``--env``): Pendulum-v1 (200k steps, RL-zoo-like settings, ``HYPERPARAMETERS``) and
HalfCheetah-v5 (300k steps, the PPO paper's MuJoCo settings, ``MUJOCO``). Three rows per seed:
SB3, ``imitate-matched`` (our value normalisation off: SB3 has none, so this is the matched
comparison and the headline) and ``imitate-default`` (value normalisation on, our default).

All train on the same gymnasium task with the same sample budget and the same hyperparameters
(listed in ``HYPERPARAMETERS`` and printed with the results), for several seeds each; each final
policy is then scored by the mean return of its deterministic (mean) action over
``--eval-episodes`` episodes of the same seeded evaluation envs. Our PPO runs on the task through
:class:`imitate.tasks.gym_vec.GymVecEnv`; SB3 through its own ``DummyVecEnv`` + ``VecNormalize``.

What is matched exactly: the task, n_envs, n_steps per env, total env steps, epochs, minibatch
size, Adam (lr, eps=1e-5, constant lr), gamma, GAE lambda, clip range, no value clipping,
entropy coefficient, max grad norm, per-minibatch advantage normalisation, bootstrapping of
time-limit truncations from V(final obs), the action space (SB3's env is wrapped in
``RescaleAction(-1, 1)``, so both policies act in [-1, 1] and are clipped there; the stored action
is the unclipped sample in both), a state-independent learned log-std with the same initial
value, separate actor and critic MLPs of the same sizes and activation, and observation
normalisation by a running mean/std clipped at ±10 (SB3: ``VecNormalize(norm_reward=False)``).
The value-loss weight is matched: SB3's loss is ``vf_coef * MSE`` while ours is
``vf_coef * 0.5 * MSE``, so ours gets twice SB3's coefficient.

What cannot be matched: hidden-layer initialisation (SB3: orthogonal, gain sqrt(2); ours: PyTorch
default; both output heads are orthogonal with gain 0.01 / 1), when the observation statistics
move (SB3 updates them every env step; ours once per rollout, after the update), value
normalisation (ours regresses the critic on returns normalised by running statistics, SB3 on raw
returns; the matched row turns ours off), and the random streams.

Run ``python benchmarks/ppo_vs_sb3.py`` (Pendulum, a few minutes of CPU),
``python benchmarks/ppo_vs_sb3.py --env HalfCheetah-v5`` (tens of minutes), or ``--quick`` for a
smoke run. Prints one JSON object and writes ``results.md``, ``results.json`` and
``learning_curve.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from _meta import finish, record  # noqa: E402  (benchmarks/ is on sys.path when a script runs)

torch.set_num_threads(1)

# Pendulum settings in the spirit of the RL-zoo ones (gamma 0.9, lr 1e-3, 10 epochs) without gSDE.
HYPERPARAMETERS: dict[str, Any] = {
    "n_envs": 8,
    "n_steps": 256,  # per env per rollout: 2048 transitions per update
    "minibatch_size": 256,  # 8 minibatches per epoch
    "epochs": 10,
    "lr": 1e-3,
    "gamma": 0.9,
    "gae_lambda": 0.95,
    "clip": 0.2,
    "ent_coef": 0.0,
    "vf_coef_sb3": 0.5,  # ours: 2 * this (see the module docstring)
    "max_grad_norm": 0.5,
    "hidden": (64, 64),
    "activation": "tanh",
    "init_log_std": -0.5,
    "norm_obs": True,
}
# The PPO paper's MuJoCo settings (Schulman et al. 2017, table 3): one env, 2048 steps per update,
# 10 epochs of 32 minibatches of 64, Adam 3e-4, gamma 0.99, lambda 0.95, clip 0.2; (64, 64) tanh
# networks and log-std starting at 0 (both libraries' MuJoCo defaults); no entropy bonus.
MUJOCO: dict[str, Any] = {
    **HYPERPARAMETERS,
    "n_envs": 1,
    "n_steps": 2048,
    "minibatch_size": 64,
    "epochs": 10,
    "lr": 3e-4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "init_log_std": 0.0,
}
# env id -> (hyperparameters, default env steps per run)
TASKS: dict[str, tuple[dict[str, Any], int]] = {
    "Pendulum-v1": (HYPERPARAMETERS, 200_000),
    "HalfCheetah-v5": (MUJOCO, 300_000),
}
QUICK = {**HYPERPARAMETERS, "n_envs": 2, "n_steps": 64, "minibatch_size": 64, "epochs": 2}
# Our two rows: "matched" turns our value normalisation off, as SB3 has none (the headline);
# "default" keeps our default (value normalisation on).
OURS = {"matched": False, "default": True}


def mean_std(xs: list[float]) -> tuple[float, float]:
    return float(statistics.fmean(xs)), float(statistics.pstdev(xs)) if len(xs) > 1 else 0.0


# -- evaluation: both policies on the same seeded GymVecEnv ---------------------------------------
@torch.no_grad()
def evaluate(env_id: str, act, episodes: int, seed: int) -> float:
    """Mean return of ``act(obs (N, obs_dim) tensor) -> actions in [-1, 1]`` over one episode in
    each of ``episodes`` copies (finished copies are masked)."""
    from imitate.tasks.gym_vec import GymVecEnv

    env = GymVecEnv(env_id, episodes, seed=seed)
    obs = env.reset(seed=seed)
    active = torch.ones(episodes, dtype=torch.bool)
    ret = torch.zeros(episodes)
    for _ in range(env.max_episode_steps):
        step = env.step(act(obs))
        ret += step.reward * active
        active &= ~step.done
        obs = step.obs
        if not active.any():
            break
    env.close()
    return float(ret.mean())


# -- ours --------------------------------------------------------------------------------------------
def run_ours(env_id: str, seed: int, hp: dict[str, Any], steps: int, eval_episodes: int, value_norm: bool) -> dict:
    from imitate.algos.ppo import PPO
    from imitate.algos.ppo_config import PPOConfig
    from imitate.tasks.gym_vec import GymVecEnv

    batch = hp["n_envs"] * hp["n_steps"]
    cfg = PPOConfig(
        seed=seed,
        progress=False,
        num_envs=hp["n_envs"],
        rollout_steps=hp["n_steps"],
        total_steps=steps,
        lr=hp["lr"],
        gamma=hp["gamma"],
        gae_lambda=hp["gae_lambda"],
        epochs=hp["epochs"],
        minibatches=batch // hp["minibatch_size"],
        clip_ratio=hp["clip"],
        value_clip=0.0,
        ent_coef=hp["ent_coef"],
        vf_coef=2 * hp["vf_coef_sb3"],
        max_grad_norm=hp["max_grad_norm"],
        hidden=tuple(hp["hidden"]),
        activation=hp["activation"],
        init_log_std=hp["init_log_std"],
        norm_obs=hp["norm_obs"],
        norm_value=value_norm,
        anneal_lr=False,
    )
    cfg.validate()
    env = GymVecEnv(env_id, hp["n_envs"], seed=seed)
    ppo = PPO(env, cfg)
    curve: list[tuple[int, float]] = []

    def log(step: int, stats: dict[str, float]) -> None:
        if "episode/task_return" in stats:  # the env's return (episode/return adds bootstraps)
            curve.append((step, stats["episode/task_return"]))

    start = time.perf_counter()
    ppo.train(log=log)
    wall = time.perf_counter() - start
    env.close()
    final = evaluate(env_id, lambda obs: ppo.model.act(obs, deterministic=True), eval_episodes, 10_000 + seed)
    return {
        "seed": seed,
        "final_return": final,
        "wall_s": wall,
        "env_steps": ppo.global_step,
        "steps_per_s": ppo.global_step / wall,
        "curve": curve,
    }


# -- stable-baselines3 -------------------------------------------------------------------------------
def run_sb3(env_id: str, seed: int, hp: dict[str, Any], steps: int, eval_episodes: int) -> dict:
    import gymnasium as gym
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    def make(i: int):
        def thunk():
            env = Monitor(gym.wrappers.RescaleAction(gym.make(env_id), -1.0, 1.0))
            return env

        return thunk

    venv = DummyVecEnv([make(i) for i in range(hp["n_envs"])])
    venv.seed(seed)  # copy i gets seed + i, as in GymVecEnv
    venv = VecNormalize(venv, norm_obs=hp["norm_obs"], norm_reward=False, clip_obs=10.0, gamma=hp["gamma"])
    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU, "silu": torch.nn.SiLU}
    model = SB3PPO(
        "MlpPolicy",
        venv,
        learning_rate=hp["lr"],
        n_steps=hp["n_steps"],
        batch_size=hp["minibatch_size"],
        n_epochs=hp["epochs"],
        gamma=hp["gamma"],
        gae_lambda=hp["gae_lambda"],
        clip_range=hp["clip"],
        clip_range_vf=None,
        normalize_advantage=True,
        ent_coef=hp["ent_coef"],
        vf_coef=hp["vf_coef_sb3"],
        max_grad_norm=hp["max_grad_norm"],
        seed=seed,
        device="cpu",
        verbose=0,
        policy_kwargs={
            "net_arch": {"pi": list(hp["hidden"]), "vf": list(hp["hidden"])},
            "activation_fn": activation[hp["activation"]],
            "log_std_init": hp["init_log_std"],
        },
    )
    curve: list[tuple[int, float]] = []

    class Curve(BaseCallback):
        def _on_rollout_start(self) -> None:
            self.returns: list[float] = []

        def _on_step(self) -> bool:
            self.returns += [info["episode"]["r"] for info in self.locals["infos"] if "episode" in info]
            return True

        def _on_rollout_end(self) -> None:
            if self.returns:
                curve.append((self.num_timesteps, float(np.mean(self.returns))))

    start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=Curve())
    wall = time.perf_counter() - start
    venv.training = False

    def act(obs: torch.Tensor) -> torch.Tensor:
        action, _ = model.predict(venv.normalize_obs(obs.numpy()), deterministic=True)
        return torch.as_tensor(action, dtype=torch.float32).clamp(-1.0, 1.0)

    final = evaluate(env_id, act, eval_episodes, 10_000 + seed)
    return {
        "seed": seed,
        "final_return": final,
        "wall_s": wall,
        "env_steps": int(model.num_timesteps),
        "steps_per_s": model.num_timesteps / wall,
        "curve": curve,
    }


# -- report ------------------------------------------------------------------------------------------
def summarise(runs: list[dict]) -> dict:
    finals = [r["final_return"] for r in runs]
    m, s = mean_std(finals)
    return {
        "per_seed": {str(r["seed"]): round(r["final_return"], 2) for r in runs},
        "mean": round(m, 2),
        "std": round(s, 2),
        "wall_s": {str(r["seed"]): round(r["wall_s"], 1) for r in runs},
        "wall_s_mean": round(statistics.fmean(r["wall_s"] for r in runs), 1),
        "steps_per_s_mean": round(statistics.fmean(r["steps_per_s"] for r in runs), 1),
    }


def write_markdown(path: Path, result: dict, seeds: list[int]) -> None:
    names = list(result["rows"])
    rows = result["rows"]
    lines = [
        f"# PPO: imitate vs stable-baselines3 on {result['env_id']}",
        "",
        f"{result['steps']} env steps per run; final score = mean return of the deterministic "
        f"policy over {result['eval_episodes']} episodes (higher is better). imitate-matched: our "
        "value normalisation off (SB3 has none); imitate-default: on (our default).",
        "",
        "| seed | "
        + " | ".join(f"{n} return" for n in names)
        + " | "
        + " | ".join(f"{n} wall (s)" for n in names)
        + " |",
        "|---:|" + "---:|" * (2 * len(names)),
    ]
    for seed in seeds:
        k = str(seed)
        lines.append(
            f"| {seed} | "
            + " | ".join(f"{rows[n]['per_seed'][k]:.1f}" for n in names)
            + " | "
            + " | ".join(f"{rows[n]['wall_s'][k]:.1f}" for n in names)
            + " |"
        )
    lines.append(
        "| **mean ± std** | "
        + " | ".join(f"**{rows[n]['mean']:.1f} ± {rows[n]['std']:.1f}**" for n in names)
        + " | "
        + " | ".join(f"{rows[n]['wall_s_mean']:.1f}" for n in names)
        + " |"
    )
    meta = result["meta"]
    lines += [
        "",
        "Training throughput (env steps/s, incl. updates): "
        + ", ".join(f"{n} {rows[n]['steps_per_s_mean']:.0f}" for n in names)
        + ".",
        "",
        f"Random policy (uniform actions): {result['random_return']:.1f}.",
        "",
        "Hyperparameters (all): " + ", ".join(f"{k}={v}" for k, v in result["hyperparameters"].items()),
        "",
        f"Command: `{' '.join(meta['command'])}` at commit {meta['commit']}"
        f"{' (dirty)' if meta['dirty'] else ''}; {meta['cpu_count']} CPUs, load average "
        f"{meta['load_avg_start']} at the start, {meta['load_avg_end']} at the end; {meta['wall_s']:.0f} s.",
        "",
    ]
    path.write_text("\n".join(lines))


def plot_curves(path: Path, env_id: str, results: dict[str, list[dict]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, runs in results.items():
        curves = [np.array(r["curve"]).T for r in runs if len(r["curve"]) >= 2]
        if not curves:
            continue
        # Every run logs at the same iterations, but the first ones may have no finished episode.
        grid = np.linspace(max(x[0] for x, _ in curves), min(x[-1] for x, _ in curves), 60)
        ys = np.array([np.interp(grid, x, y) for x, y in curves])
        mean, std = ys.mean(0), ys.std(0)
        ax.plot(grid, mean, label=f"{name} ({len(curves)} seeds)")
        ax.fill_between(grid, mean - std, mean + std, alpha=0.2)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x / 1000:.0f}k")
    ax.set_xlabel("env steps")
    ax.set_ylabel("training episode return (stochastic policy)")
    ax.set_title(f"PPO on {env_id}: mean ± std over seeds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="Pendulum-v1", choices=sorted(TASKS), help="the gymnasium task")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="env steps per run (default: Pendulum 200k, HalfCheetah 300k; quick: 2048)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output directory (default benchmarks/results/ppo_vs_sb3/ "
        "for Pendulum, benchmarks/results/ppo_vs_sb3_<env>/ otherwise)",
    )
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke run")
    parser.add_argument(
        "--ours",
        default="matched,default",
        help="our rows: matched (value normalisation off, as SB3) and/or default (on)",
    )
    args = parser.parse_args(argv)
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        parser.error("stable-baselines3 is not installed: pip install -e '.[bench]'")
    ours = args.ours.split(",")
    if not ours or set(ours) - set(OURS):
        parser.error(f"--ours takes a comma list of {', '.join(OURS)}")
    meta = record()
    hp, default_steps = TASKS[args.env]
    hp = QUICK if args.quick else hp
    steps = args.steps or (2048 if args.quick else default_steps)
    eval_episodes = 4 if args.quick and args.eval_episodes == 20 else args.eval_episodes
    default_out = "ppo_vs_sb3" if args.env == "Pendulum-v1" else f"ppo_vs_sb3_{args.env.split('-')[0].lower()}"
    out = Path(args.out or Path(__file__).resolve().parent / "results" / default_out)
    out.mkdir(parents=True, exist_ok=True)

    from imitate.tasks.gym_vec import GymVecEnv

    act_dim = GymVecEnv(args.env, 1).act_dim
    gen = torch.Generator().manual_seed(0)
    random_return = evaluate(
        args.env, lambda obs: torch.rand(obs.shape[0], act_dim, generator=gen) * 2 - 1, eval_episodes, 10_000
    )
    runs: dict[str, list[dict]] = {"sb3": [], **{f"imitate-{k}": [] for k in ours}}
    for seed in args.seeds:
        runs["sb3"].append(run_sb3(args.env, seed, hp, steps, eval_episodes))
        for k in ours:
            runs[f"imitate-{k}"].append(run_ours(args.env, seed, hp, steps, eval_episodes, value_norm=OURS[k]))
        print(
            f"seed {seed}: "
            + ", ".join(f"{name} {r[-1]['final_return']:.1f} ({r[-1]['wall_s']:.0f}s)" for name, r in runs.items()),
            flush=True,
        )
    result = {
        "env_id": args.env,
        "steps": steps,
        "eval_episodes": eval_episodes,
        "seeds": args.seeds,
        "hyperparameters": {k: list(v) if isinstance(v, tuple) else v for k, v in hp.items()},
        "value_norm": {f"imitate-{k}": OURS[k] for k in ours},
        "random_return": round(random_return, 2),
        "rows": {name: summarise(r) for name, r in runs.items()},
    }
    result = {"meta": finish(meta), **result}
    (out / "results.json").write_text(
        json.dumps(
            {**result, "curves": {k: {str(r["seed"]): r["curve"] for r in v} for k, v in runs.items()}}, indent=1
        )
    )
    write_markdown(out / "results.md", result, args.seeds)
    plot_curves(out / "learning_curve.png", args.env, runs)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
