"""Point masses tracking PD set-points, batched in torch (the maze's disc, the N-D particle).

Each control step holds a set-point for ``substeps`` sub-steps of ``substep_s``:
acc = gain · (kp · (target − pos) − kd · vel). ``integrator`` picks the update order:
``semi_implicit`` (velocity first, then position with the new velocity: the maze) or
``explicit`` (position with the old velocity, then velocity: IBC's particle). An optional
``collide(pos, vel)`` hook runs after every sub-step and corrects both in place (the maze's walls);
it returns the (N,) bool contact mask of that sub-step.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

INTEGRATORS = ("semi_implicit", "explicit")
Collide = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class PointMassSim:
    """``num_envs`` point masses in ``dim`` dimensions (one body each)."""

    def __init__(self, num_envs: int, dim: int, *, kp: float, kd: float, substeps: int, substep_s: float,
                 gain: float = 1.0, integrator: str = "semi_implicit", collide: Collide | None = None,
                 device: str | torch.device = "cpu"):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        if integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {', '.join(INTEGRATORS)}, got {integrator!r}")
        self.num_envs, self.dim = num_envs, dim
        self.kp, self.kd, self.gain = kp, kd, gain
        self.substeps, self.substep_s, self.integrator = substeps, substep_s, integrator
        self.collide = collide
        self.device = torch.device(device)
        self.pos = torch.zeros(num_envs, dim, device=self.device)  # (N, D)
        self.vel = torch.zeros(num_envs, dim, device=self.device)  # (N, D)
        self.touching = torch.zeros(num_envs, dtype=torch.bool, device=self.device)

    def step(self, target: torch.Tensor) -> None:
        """Track set-points ``target`` (N, D) for one control step."""
        touching = torch.zeros_like(self.touching)
        for _ in range(self.substeps):
            acc = self.kp * (target - self.pos) - self.kd * self.vel
            if self.gain != 1.0:  # skipped at unit gain: the same numbers, one op fewer per sub-step
                acc = self.gain * acc
            if self.integrator == "semi_implicit":
                self.vel += acc * self.substep_s
                self.pos += self.vel * self.substep_s
            else:
                self.pos = self.pos + self.vel * self.substep_s
                self.vel = self.vel + acc * self.substep_s
            if self.collide is not None:
                touching |= self.collide(self.pos, self.vel)
        self.touching = touching

    def set_bodies(self, ids: torch.Tensor, pos: torch.Tensor, vel: torch.Tensor | None = None) -> None:
        """Place the masses of envs ``ids`` at ``pos`` (M, D), at rest unless ``vel`` is given."""
        self.pos[ids] = pos
        self.vel[ids] = 0.0 if vel is None else vel
        self.touching[ids] = False

    def get_state(self) -> dict[str, torch.Tensor]:
        return {"pos": self.pos.clone(), "vel": self.vel.clone(), "touching": self.touching.clone()}

    def set_state(self, state: dict[str, torch.Tensor]) -> None:
        for key in ("pos", "vel", "touching"):
            value = torch.as_tensor(state[key])
            if value.shape != getattr(self, key).shape:
                raise ValueError(f"point-mass state {key!r} is {tuple(value.shape)}, "
                                 f"this simulator has {tuple(getattr(self, key).shape)}")
            setattr(self, key, value.to(self.device, getattr(self, key).dtype).clone())

    def body_pos(self) -> torch.Tensor:
        return self.pos[:, None, :]  # (N, 1, D)

    def contacts(self) -> torch.Tensor:
        return self.touching[:, None]  # (N, 1)
