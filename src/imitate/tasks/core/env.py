"""The one env class: runs any ``TaskSpec`` (terms.py) as a batched VecEnv.

One step, in this order (after mjlab's manager-based env):
1. the action term turns the clamped policy action into simulator controls; the sim steps;
2. ``step`` events update running task state (closest approach, ...);
3. terminations fire; ``terminated``, ``truncated`` and ``success`` follow from their flags;
4. reward terms are weighted and summed, each logged as ``reward/<name>``;
5. observation groups are read before any reset: ``final_obs`` and the style pair
   (s_t, s_t+1) come from here;
6. finished envs reset (reset events in order, then commands) and their observations are read
   again, so ``obs`` is the first observation of the new episode.

Randomness comes from ``env.generator`` (torch) and ``env.rng`` (numpy), both seeded from the
run seed and saved with the state, so a saved env steps exactly as the original would.

``env.scratch`` is a per-step memo for results several terms share (a reference pose read by the
action, the reward and the observations): emptied when a step or a reset begins, never saved, so
everything in it must be recomputable from the saved state. Within one step, or one reset, every
term sees the same ``ids``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from imitate.tasks.core.terms import Buffer, ObsGroup, TaskSpec
from imitate.tasks.core.vecenv import StepResult

Ids = torch.Tensor | slice
ALL: slice = slice(None)


def _as_tensor(x: Any, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    if isinstance(x, torch.Tensor) and (dtype is None or x.dtype == dtype) and x.device == device:
        return x  # the common case, without as_tensor's overhead
    return torch.as_tensor(np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x, device=device, dtype=dtype)


def np_ids(ids: Ids) -> np.ndarray | slice:
    """``ids`` as a numpy index, for terms over numpy state (MuJoCo engines)."""
    return ids if isinstance(ids, slice) else ids.cpu().numpy()


def _make_buffer(spec: Buffer, n: int, device: torch.device) -> Any:
    shape = (n, *spec.shape)
    if spec.dtype.startswith("np."):
        return np.full(shape, spec.fill, dtype=np.dtype(spec.dtype[3:]))
    return torch.full(shape, spec.fill, dtype=getattr(torch, spec.dtype), device=device)


def _copy(x: Any) -> Any:
    return x.clone() if isinstance(x, torch.Tensor) else np.array(x, copy=True)


class TaskEnv:
    """``num_envs`` copies of the task ``spec`` with ``options`` (the task's config dataclass)."""

    def __init__(
        self, spec: TaskSpec, num_envs: int, seed: int = 0, device: str | torch.device = "cpu", options: Any = None
    ):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.spec, self.options, self.num_envs = spec, options, num_envs
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.sim = spec.make_sim(num_envs, self.device, options)
        steps = spec.max_episode_steps
        self.max_episode_steps = int(steps(options) if callable(steps) else steps)
        self.act_dim = spec.action.dim
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=self.device)
        self.buffers = {k: _make_buffer(b, num_envs, self.device) for k, b in spec.buffers.items()}
        self.commands = {k: torch.zeros(num_envs, c.dim, device=self.device) for k, c in spec.commands.items()}
        self.action = torch.zeros(num_envs, self.act_dim, device=self.device)  # the last action applied
        self.prev_action = self.action  # during a step: the action of the step before (action-rate terms)
        self.scratch: dict[str, Any] = {}
        self.fired: dict[str, torch.Tensor] = {}  # this step's terminations, by name
        self.terminated = self.truncated = self.success = torch.zeros(num_envs, dtype=torch.bool, device=self.device)
        self._frames: dict[str, torch.Tensor] = {}  # group -> (N, history, d)
        # group -> ((term, size), ...) in the order a frame concatenates them (before any mask)
        self.obs_layout: dict[str, tuple[tuple[str, int], ...]] = {}
        self._never = torch.zeros(num_envs, dtype=torch.bool, device=self.device)  # shared; read-only
        terms = spec.terminations
        self._termination_kinds = {
            "terminate": tuple(n for n, t in terms.items() if not t.time_out),
            "time_out": tuple(n for n, t in terms.items() if t.time_out),
            "success": tuple(n for n, t in terms.items() if t.outcome == "success"),
            "failure": tuple(n for n, t in terms.items() if t.outcome == "failure"),
        }
        self._reset_ids(ALL)  # sizes the observation groups; reset(seed=...) starts afresh
        self.obs_dim = self._frames["policy"][0].numel()
        self.style_dim = self._frames["style"][0].numel() if "style" in self._frames else 0
        self.group_dims = {g: f[0].numel() for g, f in self._frames.items()}

    # -- observations --------------------------------------------------------------------------
    def _read_group(self, group: ObsGroup, ids: Ids, name: str | None = None) -> torch.Tensor:
        parts = [_as_tensor(t.func(self, ids, **t.params), self.device, torch.float32) for t in group.terms.values()]
        if name is not None and name not in self.obs_layout:
            self.obs_layout[name] = tuple((term, int(p.shape[-1])) for term, p in zip(group.terms, parts))
        if group.mask is not None:
            return (torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0])[:, list(group.mask)]
        # a fresh tensor, never a view of the simulator's state, which changes in place
        return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0].clone()

    def _observe(self, ids: Ids, fresh: bool) -> None:
        """Read every group for envs ``ids``: push a new frame, or (``fresh``, after a reset)
        fill the whole history with it. Frames are never changed in place once handed out (a
        reset writes into a copy), so ``observation`` can return views."""
        for name, group in self.spec.observations.items():
            frame = self._read_group(group, ids, name)  # (M, d)
            if name not in self._frames or (fresh and isinstance(ids, slice)):
                self._frames[name] = frame[:, None].repeat(1, group.history, 1)
            elif fresh:
                frames = self._frames[name].clone()
                frames[ids] = frame[:, None].expand(-1, group.history, -1)
                self._frames[name] = frames
            elif group.history == 1:
                self._frames[name] = frame[:, None]
            else:
                self._frames[name] = torch.cat([self._frames[name][:, 1:], frame[:, None]], dim=1)

    def observation(self, group: str = "policy") -> torch.Tensor:
        """(N, history · d) current features of ``group``, oldest frame first (a view of a tensor
        the env never changes again)."""
        return self._frames[group].reshape(self.num_envs, -1)

    def observation_terms(self, group: str = "policy") -> dict[str, torch.Tensor]:
        """The newest frame of ``group`` split into its terms by ``obs_layout``: {term: (N, size)}
        (views). A masked group has no per-term layout."""
        if self.spec.observations[group].mask is not None:
            raise ValueError(f"observation group {group!r} is masked; its features are not split by term")
        frame, out, start = self._frames[group][:, -1], {}, 0
        for term, size in self.obs_layout[group]:
            out[term], start = frame[:, start : start + size], start + size
        return out

    def refresh(self, ids: Ids = ALL) -> torch.Tensor:
        """Read the observations of envs ``ids`` again after their state was edited from outside
        (a test or an oracle placing bodies); their history restarts from the new frame.
        Returns (N, obs_dim)."""
        self.scratch = {}  # whatever terms memoised describes the state before the edit
        self._observe(ids, fresh=True)
        return self.observation()

    # -- reset ---------------------------------------------------------------------------------
    def _reset_ids(self, ids: Ids) -> None:
        self.scratch = {}
        self.steps[ids] = 0
        self.action[ids] = 0.0
        for event in self.spec.events.values():
            if event.mode == "reset":
                event.func(self, ids, **event.params)
        for name, command in self.spec.commands.items():
            self.commands[name][ids] = _as_tensor(command.func(self, ids, **command.params), self.device, torch.float32)
        self._observe(ids, fresh=True)

    def reset(self, seed: int | None = None) -> torch.Tensor:
        """Reset every copy (reseeding both generators with ``seed``); returns (N, obs_dim)."""
        if seed is not None:
            self.generator.manual_seed(seed)
            self.rng = np.random.default_rng(seed)
        self._reset_ids(ALL)
        return self.observation()

    # -- step ----------------------------------------------------------------------------------
    def step(self, action: torch.Tensor) -> StepResult:
        if action.shape != (self.num_envs, self.act_dim):
            raise ValueError(f"action must be ({self.num_envs}, {self.act_dim}), got {tuple(action.shape)}")
        self.scratch = {}
        self.prev_action, self.action = self.action, action.to(self.device, torch.float32).clamp(-1.0, 1.0)
        spec = self.spec
        self.sim.step(spec.action.func(self, self.action, **spec.action.params))
        self.steps += 1
        for event in spec.events.values():
            if event.mode == "step":
                event.func(self, ALL, **event.params)
        self._terminate()
        terms = {}
        for k, r in spec.rewards.items():
            value = _as_tensor(r.func(self, **r.params), self.device, torch.float32)
            terms[k] = value if r.weight == 1.0 else r.weight * value
        values = list(terms.values())
        reward = values[0] if values else torch.zeros(self.num_envs, device=self.device)
        for value in values[1:]:
            reward = reward + value
        style_before = self.observation("style") if "style" in self._frames else None  # not changed below
        self._observe(ALL, fresh=False)
        final_obs = self.observation()
        if style_before is None:
            transition = torch.zeros(self.num_envs, 0, device=self.device)
        else:
            transition = torch.cat([style_before, self.observation("style")], dim=-1)
        extras = {f"reward/{k}": v for k, v in terms.items()}
        extras.update({k: _as_tensor(f(self), self.device) for k, f in spec.extras.items()})
        result = StepResult(
            obs=final_obs,
            reward=reward,
            terminated=self.terminated,
            truncated=self.truncated,
            final_obs=final_obs,
            success=self.success,
            transition=transition,
            extras=extras,
        )
        done = self.truncated if self.terminated is self._never else result.done
        if done.any():
            # all at once (episodes of fixed length started together): slices, not index lists
            self._reset_ids(ALL if bool(done.all()) else done.nonzero().squeeze(-1))
            result.obs = self.observation()
        return result

    def _terminate(self) -> None:
        """Fire the terminations in order (a later one may read ``env.fired`` of an earlier one)."""
        self.fired = {}
        for name, term in self.spec.terminations.items():
            self.fired[name] = _as_tensor(term.func(self, **term.params), self.device, torch.bool)
        kinds = self._termination_kinds

        def any_of(names: tuple[str, ...]) -> torch.Tensor | None:
            return functools.reduce(torch.logical_or, [self.fired[n] for n in names]) if names else None

        terminated, time_out = any_of(kinds["terminate"]), any_of(kinds["time_out"])
        success, failure = any_of(kinds["success"]), any_of(kinds["failure"])
        assert time_out is not None  # TaskSpec requires a time-out termination
        if terminated is None:
            self.terminated, self.truncated = self._never, time_out
        else:
            self.terminated, self.truncated = terminated, time_out & ~terminated
        if success is None:
            self.success = self._never
        else:
            self.success = success if failure is None else success & ~failure

    # -- exact save / restore ------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Everything a step depends on. Per-env entries are torch tensors with leading dim N
        (planners such as CEM tile them); ``rng`` holds both generators and is never tiled."""
        state: dict[str, Any] = {
            f"sim.{k}": _as_tensor(_copy(v), torch.device("cpu")) for k, v in self.sim.get_state().items()
        }
        state.update({f"buf.{k}": _as_tensor(_copy(v), torch.device("cpu")) for k, v in self.buffers.items()})
        state.update({f"cmd.{k}": v.clone() for k, v in self.commands.items()})
        state.update({f"obs.{k}": v.clone() for k, v in self._frames.items()})
        state.update(
            steps=self.steps.clone(),
            action=self.action.clone(),
            rng={"torch": self.generator.get_state(), "numpy": self.rng.bit_generator.state},
        )
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        expected = set(self.get_state())
        if set(state) != expected:
            raise ValueError(f"env state has keys {sorted(state)}, this {self.spec.name} env has {sorted(expected)}")
        for key, value in state.items():
            if key != "rng" and torch.as_tensor(value).shape[:1] != (self.num_envs,):
                raise ValueError(
                    f"env state {key!r} is for {torch.as_tensor(value).shape[0]} envs, this env has {self.num_envs}"
                )
        self.sim.set_state({k[4:]: self._like_sim(k[4:], v) for k, v in state.items() if k.startswith("sim.")})
        for k in self.buffers:
            old = self.buffers[k]
            value = torch.as_tensor(state[f"buf.{k}"])
            self.buffers[k] = (
                value.cpu().numpy().astype(old.dtype, copy=True)
                if isinstance(old, np.ndarray)
                else value.to(self.device, old.dtype).clone()
            )
        for k in self.commands:
            self.commands[k] = torch.as_tensor(state[f"cmd.{k}"]).to(self.device, torch.float32).clone()
        for k in self._frames:
            self._frames[k] = torch.as_tensor(state[f"obs.{k}"]).to(self.device, torch.float32).clone()
        self.steps = torch.as_tensor(state["steps"]).to(self.device, torch.long).clone()
        self.action = torch.as_tensor(state["action"]).to(self.device, torch.float32).clone()
        self.generator.set_state(state["rng"]["torch"])
        self.rng.bit_generator.state = state["rng"]["numpy"]

    def _like_sim(self, key: str, value: Any) -> Any:
        """A saved sim entry in the sim's own array type (numpy for MuJoCo, torch for point masses)."""
        current = self.sim.get_state()[key]
        if isinstance(current, np.ndarray):
            return torch.as_tensor(value).cpu().numpy().astype(current.dtype, copy=True)
        return torch.as_tensor(value).to(current.device, current.dtype)

    def close(self) -> None:
        if hasattr(self.sim, "close"):
            self.sim.close()
