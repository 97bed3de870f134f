"""The algorithm registry: each algorithm's config class, how it trains a run, how it evaluates
one, and which logged curves ``imitate plot`` draws.

PPO-based methods differ only in their reward plug-in (DESIGN.md principle 2): they share
``runner.train_policy`` and ``runner.evaluate_policy_run`` and pass a ``make_reward``.
Registering a new algorithm is one entry here; a new task is one entry in ``tasks.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imitate.config import ConfigError, EnergyConfig, NEARConfig, PPOConfig


@dataclass(frozen=True)
class Algo:
    name: str
    description: str
    config: type  # dataclass config (a RunConfig)
    train: Callable[..., Any]  # (task, cfg, run | None, state | None) -> Run
    evaluate: Callable[..., dict]  # (run, task, cfg, episodes) -> metrics; writes plots
    curve_keys: tuple[str, ...] = ()  # progress.jsonl keys that `imitate plot` draws
    tasks: tuple[str, ...] = ()  # the tasks it runs on; empty: all


POLICY_CURVES = ("episode/success_rate", "episode/length", "episode/return", "policy/action_std")


def _policy_algo(name: str, make_reward_path: str) -> tuple[Callable, Callable]:
    """train/evaluate for a PPO method whose reward plug-in is built by ``module:function``."""
    def train(task, cfg, run, state):
        from importlib import import_module
        from imitate import runner
        module, func = make_reward_path.split(":")
        return runner.train_policy(task, name, cfg, run, state, getattr(import_module(module), func))

    def evaluate(run, task, cfg, episodes):
        from imitate import runner
        return runner.evaluate_policy_run(run, task, cfg, episodes)
    return train, evaluate


def _energy_train(task, cfg, run, state):
    from imitate.algos.energy import train_energy_run
    return train_energy_run(task, cfg, run, state)


def _energy_evaluate(run, task, cfg, episodes):
    from imitate.algos.energy import evaluate_energy_run
    return evaluate_energy_run(run, task, cfg)


ALGOS: dict[str, Algo] = {
    "ppo": Algo("ppo", "PPO on the task reward only (baseline)", PPOConfig,
                *_policy_algo("ppo", "imitate.rewards.base:make_task_reward"), curve_keys=POLICY_CURVES),
    "energy": Algo("energy", "NEAR step 1: NCSN energy model of expert transitions (denoising score matching)",
                   EnergyConfig, _energy_train, _energy_evaluate, curve_keys=("energy/dsm_loss",)),
    "near": Algo("near", "NEAR step 2: PPO on the annealed energy reward (+ task reward); energy=RUN_DIR "
                 "or runs step 1 first", NEARConfig, *_policy_algo("near", "imitate.algos.near:make_near_reward"),
                 curve_keys=POLICY_CURVES + ("near/sigma_level", "near/mean_energy", "reward/r_energy")),
}


def get_algo(name: str, task: str | None = None) -> Algo:
    if name not in ALGOS:
        raise ConfigError(f"unknown algo {name!r}; available: {', '.join(sorted(ALGOS))}")
    algo = ALGOS[name]
    if task is not None and algo.tasks and task not in algo.tasks:
        raise ConfigError(f"algo {name!r} does not run on task {task!r}; it runs on: {', '.join(algo.tasks)}")
    return algo
