"""The term types a task is declared from (a task is a table, not a class: docs/architecture.md#principles).

Every term is a plain function of the env (``TaskEnv``) plus keyword ``params``; the env calls
them in a fixed order each step (see ``env.py``):

- ``ActionTerm``: policy action (N, act_dim) in [-1, 1] → simulator control.
- ``ObsTerm`` in an ``ObsGroup``: ``func(env, ids, **params)`` → (len(ids), d) features of the
  envs ``ids`` (an index tensor, or ``slice(None)`` for all). Groups are named: ``policy`` (what
  the policy sees; required), ``critic``, ``style`` (what NEAR and AMP score, as pairs
  (s_t, s_t+1)), ``goal``, ``probe`` (state a set-up hides from the policy, kept for evaluation:
  the DeepMind Control tasks' lpomdp). ``TaskEnv.obs_layout`` records each group's terms and
  sizes. A group may keep a history of its last ``history`` frames (oldest first; the first frame
  tiled at reset) and a ``mask`` of feature indices.
- ``RewardTerm``: ``func(env, **params)`` → (N,); the reward is Σ weight · term, each logged.
- ``Termination``: ``func(env, **params)`` → (N,) bool. ``time_out`` ones truncate (PPO
  bootstraps through them), the others terminate. ``outcome`` marks what a firing term means:
  ``success`` (the step counts as a success unless a ``failure`` term fired too), ``failure``,
  or neither.
- ``Event``: ``func(env, ids, **params)``, run in order on the envs being reset (``mode="reset"``)
  or on all envs after the physics of every step (``mode="step"``; running statistics such as
  the closest approach to a goal).
- ``Command``: a named per-env target (goal) of ``dim`` numbers, resampled at reset by
  ``func(env, ids, **params)`` → (len(ids), dim), after the reset events; observation terms read it
  from ``env.commands``.
- ``Buffer``: per-env task state that is neither physics nor command (a set-point, an episode
  frame), saved and restored with the env.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Params = Mapping[str, Any]
Outcome = Literal["success", "failure"] | None


@dataclass(frozen=True)
class ActionTerm:
    func: Callable[..., Any]  # (env, action (N, act_dim) in [-1, 1], **params) -> control for env.sim.step
    dim: int
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class ObsTerm:
    func: Callable[..., Any]  # (env, ids, **params) -> (len(ids), d) float32
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class ObsGroup:
    terms: Mapping[str, ObsTerm]
    history: int = 1  # frames stacked oldest first; the first frame is tiled at reset
    mask: tuple[int, ...] | None = None  # feature indices kept (of the concatenated terms)

    def __post_init__(self) -> None:
        if self.history < 1:
            raise ValueError(f"an observation history must be at least 1 frame, got {self.history}")


@dataclass(frozen=True)
class RewardTerm:
    func: Callable[..., Any]  # (env, **params) -> (N,)
    weight: float = 1.0
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class Termination:
    func: Callable[..., Any]  # (env, **params) -> (N,) bool
    time_out: bool = False
    outcome: Outcome = None
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    func: Callable[..., Any]  # (env, ids, **params) -> None
    mode: Literal["reset", "step"] = "reset"
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    func: Callable[..., Any]  # (env, ids, **params) -> (len(ids), dim)
    dim: int
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class Buffer:
    shape: tuple[int, ...] = ()  # per env
    dtype: str = "float32"  # a torch dtype name, or "np.<name>" for a numpy buffer
    fill: float = 0.0


@dataclass(frozen=True)
class TaskSpec:
    """One task, declared. ``make_sim(num_envs, device, options)`` builds the engine;
    ``max_episode_steps`` may depend on the options (a clip's length)."""

    name: str
    make_sim: Callable[..., Any]
    action: ActionTerm
    observations: Mapping[str, ObsGroup]
    rewards: Mapping[str, RewardTerm]
    terminations: Mapping[str, Termination]
    events: Mapping[str, Event] = field(default_factory=dict)
    commands: Mapping[str, Command] = field(default_factory=dict)
    buffers: Mapping[str, Buffer] = field(default_factory=dict)
    extras: Mapping[str, Callable[..., Any]] = field(default_factory=dict)  # (env) -> (N,), logged only
    max_episode_steps: int | Callable[[Any], int] = 1000

    def __post_init__(self) -> None:
        if "policy" not in self.observations:
            raise ValueError(f"task {self.name!r} declares no 'policy' observation group")
        if not any(t.time_out for t in self.terminations.values()):
            raise ValueError(f"task {self.name!r} declares no time-out termination")
