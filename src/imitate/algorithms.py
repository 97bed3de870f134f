"""The algorithm registry: each algorithm's config class, how it trains a run, how it evaluates
one, and which logged curves ``imitate plot`` draws.

PPO-based methods differ only in their reward plug-in (DESIGN.md principle 2): they share the
on-policy loop (``algos.on_policy.train_policy`` / ``evaluate_policy_run``) and pass a
``make_reward``; offline methods (NEAR step 1, BC, IBC) share ``algos.offline``. Entries point at
algos functions; nothing here or in algos calls the runner. Registering a new algorithm is one
entry here; a new task is one entry in ``registry.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imitate.config import ConfigError, EnergyConfig, NEARConfig, PPOConfig, TaskPPOConfig
from imitate.config import AMPConfig, CEMConfig  # noqa: E402 (AMP/CEM helper)
from imitate.config import BCConfig, IBCConfig, IBCLangevinConfig  # noqa: E402 (IBC helper)


@dataclass(frozen=True)
class Algo:
    name: str
    description: str
    config: type  # dataclass config (a RunConfig)
    train: Callable[..., Any]  # (task, cfg, run | None, state | None) -> Run
    evaluate: Callable[..., dict]  # (run, task, cfg, episodes) -> metrics; writes plots
    curve_keys: tuple[str, ...] = ()  # progress.jsonl keys that `imitate plot` draws
    tasks: tuple[str, ...] = ()  # the tasks it runs on; empty: all
    # (config field, algo): the field names a run of that algo; when a new run leaves it empty
    # the runner trains one first (same seed, out_dir, device, progress) and fills it in
    requires: tuple[str, str] | None = None


# Style learners score pairs of demonstrated observations: tasks whose observations are their
# style features and that have an oracle (the humanoid's motion-clip features come with NEAR/AMP on it).
STYLE_TASKS = ("maze", "pusht", "block-push")
POLICY_CURVES = ("episode/success_rate", "episode/length", "episode/return", "policy/action_std")
BC_CURVES = ("bc/loss",)  # behavioural cloning (ibc-*, mse, mdn)


def _policy_algo(name: str, make_reward_path: str) -> tuple[Callable, Callable]:
    """train/evaluate for a PPO method whose reward plug-in is built by ``module:function``."""
    def train(task, cfg, run, state):
        from importlib import import_module
        from imitate.algos.on_policy import train_policy
        module, func = make_reward_path.split(":")
        return train_policy(task, name, cfg, run, state, getattr(import_module(module), func))
    return train, _lazy("imitate.algos.on_policy:evaluate_policy_run")


def _energy_train(task, cfg, run, state):
    from imitate.algos.energy import train_energy_run
    return train_energy_run(task, cfg, run, state)


def _energy_evaluate(run, task, cfg, episodes):
    from imitate.algos.energy import evaluate_energy_run
    return evaluate_energy_run(run, task, cfg)


def _lazy(path: str) -> Callable:
    """``module:function``, imported on first call (keeps `imitate list` from importing torch code)."""
    def call(*args, **kwargs):
        from importlib import import_module
        module, func = path.split(":")
        return getattr(import_module(module), func)(*args, **kwargs)
    return call


def _deepmimic_evaluate(run, task, cfg, episodes, video: bool = False):
    """Tracking errors, per-term reward plot, JSON dump; a video with ``imitate eval --video``."""
    from imitate.eval.humanoid import evaluate_tracking_run
    return evaluate_tracking_run(run, task, cfg, episodes, video=video)


ALGOS: dict[str, Algo] = {
    "ppo": Algo("ppo", "PPO on the task reward only (baseline)", TaskPPOConfig,
                *_policy_algo("ppo", "imitate.algos.on_policy:make_task_reward"), curve_keys=POLICY_CURVES),
    "energy": Algo("energy", "NEAR step 1: NCSN energy model of expert transitions (denoising score matching)",
                   EnergyConfig, _energy_train, _energy_evaluate, curve_keys=("energy/dsm_loss",), tasks=STYLE_TASKS),
    "near": Algo("near", "NEAR step 2: PPO on the annealed energy reward (+ task reward); energy=RUN_DIR "
                 "or runs step 1 first", NEARConfig, *_policy_algo("near", "imitate.algos.near:make_near_reward"),
                 curve_keys=POLICY_CURVES + ("near/sigma_level", "near/mean_energy", "reward/r_energy"), tasks=STYLE_TASKS,
                 requires=("energy", "energy")),
    "amp": Algo("amp", "AMP: PPO on an adversarial (discriminator) style reward (+ task reward)", AMPConfig,
                _lazy("imitate.algos.amp:train_amp"), _lazy("imitate.algos.amp:evaluate_amp"),
                curve_keys=POLICY_CURVES + ("amp/accuracy", "amp/d_expert", "amp/d_policy", "amp/gp", "reward/r_amp"),
                tasks=STYLE_TASKS),
    "cem": Algo("cem", "CEM model-predictive control scored by a NEAR energy (no training); energy=RUN_DIR",
                CEMConfig,
                _lazy("imitate.algos.cem:train_cem"), _lazy("imitate.algos.cem:evaluate_cem"), tasks=STYLE_TASKS,
                requires=("energy", "energy")),
    "ibc-dfo": Algo("ibc-dfo", "implicit BC: energy E(o,a) by InfoNCE on uniform negatives; actions by DFO",
                    IBCConfig, _lazy("imitate.algos.ibc:train_ibc_dfo"), _lazy("imitate.algos.ibc:evaluate_run"),
                    curve_keys=BC_CURVES + ("bc/true_action_top1",)),
    "ibc-langevin": Algo("ibc-langevin", "implicit BC with Langevin negatives + gradient penalty; "
                         "actions by Langevin MCMC", IBCLangevinConfig, _lazy("imitate.algos.ibc:train_ibc_langevin"),
                         _lazy("imitate.algos.ibc:evaluate_run"),
                         curve_keys=BC_CURVES + ("bc/true_action_top1", "bc/grad_penalty")),
    "mse": Algo("mse", "explicit BC baseline: MSE regression of actions", BCConfig,
                _lazy("imitate.algos.bc:train_mse"), _lazy("imitate.algos.bc:evaluate_run"), curve_keys=BC_CURVES),
    "mdn": Algo("mdn", "explicit BC baseline: mixture density network (NaN-safe likelihood)", BCConfig,
                _lazy("imitate.algos.bc:train_mdn"), _lazy("imitate.algos.bc:evaluate_run"), curve_keys=BC_CURVES),
    "deepmimic": Algo("deepmimic", "DeepMimic: PPO on the multiplicative motion-tracking reward (humanoid)",
                      PPOConfig, _policy_algo("deepmimic", "imitate.rewards.tracking:make_tracking_reward")[0],
                      _deepmimic_evaluate,
                      curve_keys=("reward/tracking", "reward/base_height", "reward/joint_pos",
                                  "reward/base_orientation", "reward/base_velocity", "reward/end_effector",
                                  "reward/action_rate", "episode/length", "loss/policy", "loss/value",
                                  "policy/action_std"),
                      tasks=("humanoid-walk", "humanoid-cartwheel")),
}


def get_algo(name: str, task: str | None = None) -> Algo:
    if name not in ALGOS:
        raise ConfigError(f"unknown algo {name!r}; available: {', '.join(sorted(ALGOS))}")
    algo = ALGOS[name]
    if task is not None and algo.tasks and task not in algo.tasks:
        raise ConfigError(f"algo {name!r} does not run on task {task!r}; it runs on: {', '.join(algo.tasks)}")
    return algo
