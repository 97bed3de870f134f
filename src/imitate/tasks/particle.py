"""IBC's N-D particle (SPEC §5), batched in torch: visit goal 1, then goal 2, and stay there.

A point mass in [0, 1]^N tracks a position set-point with a PD law, acc = kp (target - p) - kv v
(kp 10, kv 5), integrated by explicit Euler (position with the old velocity, then velocity) over
10 sub-steps of 5 ms per control step; episodes last 50 steps (2.5 s). Agent start and both goals
are uniform in [0, 1]^N.

Observation (4N): agent position, agent velocity, goal 1, goal 2 (IBC's order).
Action at the env boundary: (N,) in [-1, 1], the set-point (a + 1) / 2 in [0, 1]^N.
Success (judged at the last step, like IBC): the agent came within 0.05 of goal 1 and of goal 2
at some time, and is within 0.05 of goal 2 at the end. The reward is 1 then, else 0 (sparse).

``goal_order="either"`` is IBC's multimodal variant (its oracle's ``multimodal`` flag): the
demonstrator visits the two goals in a random order, so the demonstrated action at the start is
bimodal. Success then asks for both goals reached and the agent at either of them at the end
(IBC left this case unhandled in its success check).
"""
from __future__ import annotations

import torch

from imitate.tasks.core.vecenv import StepResult

KP, KV = 10.0, 5.0  # PD gains
SUBSTEPS, SUBSTEP_S = 10, 0.005  # 200 Hz physics, 20 Hz control
MAX_EPISODE_STEPS = 50
GOAL_DISTANCE = 0.05  # success threshold
GOAL_ORDERS = ("fixed", "either")
_STATE_KEYS = ("pos", "vel", "goal1", "goal2", "min_dist1", "min_dist2", "steps")


class ParticleEnv:
    """``num_envs`` particles stepped together (auto-reset after 50 steps)."""

    max_episode_steps = MAX_EPISODE_STEPS

    def __init__(self, num_envs: int, seed: int = 0, device: str | torch.device = "cpu", n_dim: int = 2,
                 goal_order: str = "fixed"):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        if n_dim < 1:
            raise ValueError(f"n_dim must be at least 1, got {n_dim}")
        if goal_order not in GOAL_ORDERS:
            raise ValueError(f"goal_order must be one of {', '.join(GOAL_ORDERS)}, got {goal_order!r}")
        self.num_envs, self.n_dim, self.goal_order = num_envs, n_dim, goal_order
        self.obs_dim, self.act_dim, self.style_dim = 4 * n_dim, n_dim, n_dim
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        z = lambda: torch.zeros(num_envs, n_dim, device=self.device)  # noqa: E731
        self.pos, self.vel, self.goal1, self.goal2 = z(), z(), z(), z()
        self.min_dist1 = torch.full((num_envs,), float("inf"), device=self.device)
        self.min_dist2 = torch.full((num_envs,), float("inf"), device=self.device)
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=self.device)

    def _uniform(self, n: int) -> torch.Tensor:
        return torch.rand(n, self.n_dim, generator=self.generator, device=self.device)

    def _reset_where(self, mask: torch.Tensor) -> None:
        n = int(mask.sum())
        if n == 0:
            return
        self.pos[mask] = self._uniform(n)
        self.vel[mask] = 0.0
        self.goal1[mask] = self._uniform(n)
        self.goal2[mask] = self._uniform(n)
        self.min_dist1[mask] = float("inf")
        self.min_dist2[mask] = float("inf")
        self.steps[mask] = 0

    def observe(self) -> torch.Tensor:
        """(N, 4 n_dim): position, velocity, goal 1, goal 2."""
        return torch.cat([self.pos, self.vel, self.goal1, self.goal2], dim=-1)

    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self.generator.manual_seed(seed)
        self._reset_where(torch.ones(self.num_envs, dtype=torch.bool, device=self.device))
        return self.observe()

    @staticmethod
    def action_to_target(action: torch.Tensor) -> torch.Tensor:
        """Action in [-1, 1]^N → set-point in [0, 1]^N."""
        return (action.clamp(-1.0, 1.0) + 1.0) / 2.0

    @staticmethod
    def target_to_action(target: torch.Tensor) -> torch.Tensor:
        return target * 2.0 - 1.0

    def step(self, action: torch.Tensor) -> StepResult:
        if action.shape != (self.num_envs, self.act_dim):
            raise ValueError(f"action must be ({self.num_envs}, {self.act_dim}), got {tuple(action.shape)}")
        target = self.action_to_target(action.to(self.device, torch.float32))
        prev = self.pos.clone()
        for _ in range(SUBSTEPS):
            acc = KP * (target - self.pos) - KV * self.vel
            self.pos = self.pos + self.vel * SUBSTEP_S  # explicit Euler, as in IBC
            self.vel = self.vel + acc * SUBSTEP_S
        self.steps += 1
        dist1 = (self.pos - self.goal1).norm(dim=-1)
        dist2 = (self.pos - self.goal2).norm(dim=-1)
        self.min_dist1 = torch.minimum(self.min_dist1, dist1)
        self.min_dist2 = torch.minimum(self.min_dist2, dist2)
        truncated = self.steps >= self.max_episode_steps
        both = (self.min_dist1 < GOAL_DISTANCE) & (self.min_dist2 < GOAL_DISTANCE)
        at_end = dist2 < GOAL_DISTANCE
        if self.goal_order == "either":
            at_end |= dist1 < GOAL_DISTANCE
        success = truncated & both & at_end
        final = self.observe()
        result = StepResult(
            obs=final, reward=success.float(), terminated=torch.zeros_like(truncated), truncated=truncated,
            final_obs=final, success=success, transition=torch.cat([prev, self.pos], dim=-1),
            extras={"dist_goal1": dist1, "dist_goal2": dist2, "reached_goal1": self.min_dist1 < GOAL_DISTANCE})
        if truncated.any():
            self._reset_where(truncated)
            result.obs = self.observe()
        return result

    # Exact save/restore of the simulator state.
    def get_state(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).clone() for k in _STATE_KEYS} | {"rng": self.generator.get_state()}

    def set_state(self, state: dict[str, torch.Tensor]) -> None:
        for k in _STATE_KEYS:
            getattr(self, k).copy_(state[k])
        self.generator.set_state(state["rng"])
