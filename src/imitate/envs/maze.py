"""NEAR's 2-D maze (SPEC §1), batched in torch.

A disc of radius 15 moves in a 512×512 arena with four inner walls. The action is an absolute
target position, tracked by a PD law integrated over 100 sub-steps of 3 ms. Reaching the goal
ends the episode with reward 1 (sparse); episodes are cut at 650 steps.

Walls are solid: after every sub-step the disc is pushed out of any wall it overlaps and loses
the velocity component into that wall. A sub-step moves the disc at most a few units (the PD
law's peak speed over the arena is ≈ 2300 units/s, i.e. ≈ 7 units per 3 ms), far less than a
wall's half thickness plus the radius (25), so the push-out direction is always the way it came
in and the disc cannot tunnel.
"""
from __future__ import annotations

import torch

from imitate.envs.base import StepResult

ARENA_SIZE = 512.0
AGENT_RADIUS = 15.0
# Inner walls as (x_min, y_min, x_max, y_max).
INNER_WALLS = ((20.0, 140.0, 40.0, 460.0), (100.0, 140.0, 120.0, 380.0),
               (20.0, 460.0, 350.0, 480.0), (100.0, 380.0, 350.0, 400.0))
# For collision only, the left wall reaches the arena border: the 20-unit gap between them is
# narrower than the disc, so nothing changes physically, but the push-out and the border clamp
# no longer fight over the disc at the wall's corner (which left a few thousandths of overlap).
COLLISION_WALLS = ((0.0, 140.0, 40.0, 460.0),) + INNER_WALLS[1:]
GOAL = (0.85 * ARENA_SIZE, 0.85 * ARENA_SIZE)
GOAL_RADIUS = 0.05 * (GOAL[0] ** 2 + GOAL[1] ** 2) ** 0.5  # "within 5% of the goal's norm"
START_LOW, START_HIGH = 60.0, 80.0
KP, KD, GAIN = 100.0, 20.0, 0.1  # acc = GAIN * (KP * (target - p) - KD * v)
SUBSTEPS, SUBSTEP_S = 100, 0.003
MAX_EPISODE_STEPS = 650


def push_out_of_walls(pos: torch.Tensor, vel: torch.Tensor, walls: torch.Tensor) -> None:
    """In place: move discs at pos (N, 2) out of walls (R, 4) and zero velocity into them."""
    lo, hi = walls[:, :2], walls[:, 2:]  # (R, 2)
    closest = torch.maximum(torch.minimum(pos[:, None, :], hi), lo)  # (N, R, 2)
    offset = pos[:, None, :] - closest
    dist = offset.norm(dim=-1, keepdim=True)  # (N, R, 1)
    overlap = dist < AGENT_RADIUS
    normal = offset / dist.clamp_min(1e-9)
    push = torch.where(overlap, normal * (AGENT_RADIUS - dist), torch.zeros_like(offset)).sum(1)
    pos += push
    into = (vel[:, None, :] * normal).sum(-1, keepdim=True).clamp_max(0.0)  # (N, R, 1)
    vel -= torch.where(overlap, into * normal, torch.zeros_like(offset)).sum(1)
    # Outer walls: the arena boundary.
    inside = pos.clamp(AGENT_RADIUS, ARENA_SIZE - AGENT_RADIUS)
    hit = inside != pos
    vel[hit] = 0.0
    pos.copy_(inside)


class MazeEnv:
    """``num_envs`` mazes stepped together; observation and style feature are (x, y)."""

    obs_dim = 2
    act_dim = 2
    style_dim = 2
    max_episode_steps = MAX_EPISODE_STEPS

    def __init__(self, num_envs: int, seed: int = 0, device: str | torch.device = "cpu"):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.walls = torch.tensor(COLLISION_WALLS, device=self.device)
        self.goal = torch.tensor(GOAL, device=self.device)
        self.pos = torch.zeros(num_envs, 2, device=self.device)
        self.vel = torch.zeros(num_envs, 2, device=self.device)
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=self.device)

    def _reset_where(self, mask: torch.Tensor) -> None:
        n = int(mask.sum())
        if n == 0:
            return
        start = torch.rand(n, 2, generator=self.generator, device=self.device)
        self.pos[mask] = START_LOW + (START_HIGH - START_LOW) * start
        self.vel[mask] = 0.0
        self.steps[mask] = 0

    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self.generator.manual_seed(seed)
        self._reset_where(torch.ones(self.num_envs, dtype=torch.bool, device=self.device))
        return self.pos.clone()

    @staticmethod
    def action_to_target(action: torch.Tensor) -> torch.Tensor:
        """Action in [-1, 1]² → absolute target position in arena units."""
        return (action.clamp(-1.0, 1.0) + 1.0) * (ARENA_SIZE / 2)

    @staticmethod
    def target_to_action(target: torch.Tensor) -> torch.Tensor:
        return target / (ARENA_SIZE / 2) - 1.0

    def step(self, action: torch.Tensor) -> StepResult:
        if action.shape != (self.num_envs, self.act_dim):
            raise ValueError(f"action must be ({self.num_envs}, {self.act_dim}), got {tuple(action.shape)}")
        target = self.action_to_target(action.to(self.device, torch.float32))
        prev = self.pos.clone()
        for _ in range(SUBSTEPS):
            acc = GAIN * (KP * (target - self.pos) - KD * self.vel)
            self.vel += acc * SUBSTEP_S  # semi-implicit Euler
            self.pos += self.vel * SUBSTEP_S
            push_out_of_walls(self.pos, self.vel, self.walls)
        self.steps += 1
        success = (self.pos - self.goal).norm(dim=-1) < GOAL_RADIUS
        truncated = (self.steps >= self.max_episode_steps) & ~success
        final = self.pos.clone()
        result = StepResult(
            obs=final, reward=success.float(), terminated=success, truncated=truncated,
            final_obs=final, success=success, transition=torch.cat([prev, final], dim=-1))
        done = result.done
        if done.any():
            self._reset_where(done)
            result.obs = self.pos.clone()
        return result

    # Exact save/restore of the simulator state (used by planners such as CEM).
    def get_state(self) -> dict[str, torch.Tensor]:
        return {"pos": self.pos.clone(), "vel": self.vel.clone(), "steps": self.steps.clone(),
                "rng": self.generator.get_state()}

    def set_state(self, state: dict[str, torch.Tensor]) -> None:
        self.pos.copy_(state["pos"])
        self.vel.copy_(state["vel"])
        self.steps.copy_(state["steps"])
        self.generator.set_state(state["rng"])
