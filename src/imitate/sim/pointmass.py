"""Point masses tracking PD set-points, batched in torch (the maze's disc, the N-D particle).

Each control step holds a set-point for ``substeps`` sub-steps of ``substep_s``:
acc = gain · (kp · (target − pos) − kd · vel). ``integrator`` picks the update order:
``semi_implicit`` (velocity first, then position with the new velocity: the maze) or
``explicit`` (position with the old velocity, then velocity: IBC's particle). An optional
``collide(pos, vel)`` hook runs after every sub-step and corrects both in place (the maze's walls);
an optional ``touching(pos)`` says which masses are in contact now, evaluated only when
``contacts()`` is asked (not on every sub-step, where it would cost as much as the walls).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

INTEGRATORS = ("semi_implicit", "explicit")
Collide = Callable[[torch.Tensor, torch.Tensor], None]
Touching = Callable[[torch.Tensor], torch.Tensor]


class PointMassSim:
    """``num_envs`` point masses in ``dim`` dimensions (one body each)."""

    def __init__(
        self,
        num_envs: int,
        dim: int,
        *,
        kp: float,
        kd: float,
        substeps: int,
        substep_s: float,
        gain: float = 1.0,
        integrator: str = "semi_implicit",
        collide: Collide | None = None,
        touching: Touching | None = None,
        device: str | torch.device = "cpu",
    ):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        if integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {', '.join(INTEGRATORS)}, got {integrator!r}")
        self.num_envs, self.dim = num_envs, dim
        self.kp, self.kd, self.gain = kp, kd, gain
        self.substeps, self.substep_s, self.integrator = substeps, substep_s, integrator
        self.collide, self.touching = collide, touching
        self.device = torch.device(device)
        self.pos = torch.zeros(num_envs, dim, device=self.device)  # (N, D)
        self.vel = torch.zeros(num_envs, dim, device=self.device)  # (N, D)

    def step(self, target: torch.Tensor) -> None:
        """Track set-points ``target`` (N, D) for one control step."""
        semi_implicit, dt = self.integrator == "semi_implicit", self.substep_s
        # In place into two scratch tensors: the same IEEE operations in the same order as
        # acc = gain·(kp·(target − pos) − kd·vel), without allocating ~8 small tensors per sub-step.
        acc, tmp = torch.empty_like(self.pos), torch.empty_like(self.pos)
        pos, vel = self.pos, self.vel
        for _ in range(self.substeps):
            torch.sub(target, pos, out=acc).mul_(self.kp)
            acc.sub_(torch.mul(vel, self.kd, out=tmp))
            if self.gain != 1.0:  # skipped at unit gain: the same numbers, one op fewer per sub-step
                acc.mul_(self.gain)
            if semi_implicit:  # velocity first, then position with the new velocity
                vel.add_(acc.mul_(dt))
                pos.add_(torch.mul(vel, dt, out=tmp))
            else:  # position with the old velocity, then velocity
                pos.add_(torch.mul(vel, dt, out=tmp))
                vel.add_(acc.mul_(dt))
            if self.collide is not None:
                self.collide(pos, vel)

    def set_bodies(self, ids: torch.Tensor, pos: torch.Tensor, vel: torch.Tensor | None = None) -> None:
        """Place the masses of envs ``ids`` at ``pos`` (M, D), at rest unless ``vel`` is given."""
        self.pos[ids] = pos
        self.vel[ids] = 0.0 if vel is None else vel

    def get_state(self) -> dict[str, torch.Tensor]:
        return {"pos": self.pos.clone(), "vel": self.vel.clone()}

    def set_state(self, state: dict[str, torch.Tensor]) -> None:
        for key in ("pos", "vel"):
            value = torch.as_tensor(state[key])
            if value.shape != getattr(self, key).shape:
                raise ValueError(
                    f"point-mass state {key!r} is {tuple(value.shape)}, "
                    f"this simulator has {tuple(getattr(self, key).shape)}"
                )
            setattr(self, key, value.to(self.device, getattr(self, key).dtype).clone())

    def body_pos(self) -> torch.Tensor:
        return self.pos[:, None, :]  # (N, 1, D)

    def contacts(self) -> torch.Tensor:
        if self.touching is None:
            return torch.zeros(self.num_envs, 1, dtype=torch.bool, device=self.device)
        return self.touching(self.pos)[:, None]  # (N, 1)
