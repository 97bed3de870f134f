"""DeepMimic-style tracking reward terms (Peng et al. 2018): a product of exp(−‖err‖²/σ) terms.

Each term is a pure batched torch function of the simulated state and the reference state, both
in the *same* frame: the env moves the reference into each episode's frame (its yaw offset and
origin, see `tasks/humanoid/tracking.py`), so every term here is invariant to where an episode
started by construction (all errors are norms of differences, and the orientation error is the
geodesic angle of q_ref⁻¹ ⊗ q, unchanged when both are turned by the same yaw). No Euler angles
of the root are used anywhere, so the cartwheel's upside-down frames are as well defined as any.

Tolerance: an error norm below `tol` counts as 0 (e = max(‖err‖ − tol, 0)); then r = exp(−e²/σ).
A term with σ ≤ 0 is switched off (factor 1, not logged).

State dicts (N envs, world/episode frame, quaternions w,x,y,z):
  root_pos (N,3) m, root_quat (N,4), lin_vel (N,3) m/s, ang_vel (N,3) rad/s (world),
  joint_pos (N,28) rad, joint_vel (N,28) rad/s, ee_pos (N,4,3) m (hands, feet: model.END_EFFECTORS)
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from imitate.utils.rotations import quat_angle, wrap_angle

State = dict[str, torch.Tensor]


def kernel(err: torch.Tensor, sigma: float, tol: float = 0.0) -> torch.Tensor:
    """exp(−max(err − tol, 0)² / σ) for error norms err (N,)."""
    e = (err - tol).clamp_min(0.0)
    return torch.exp(-e * e / sigma)


def base_height_error(cur: State, ref: State) -> torch.Tensor:
    return (cur["root_pos"][:, 2] - ref["root_pos"][:, 2]).abs()


def joint_pos_error(cur: State, ref: State) -> torch.Tensor:
    return wrap_angle(cur["joint_pos"] - ref["joint_pos"]).norm(dim=-1)


def base_orientation_error(cur: State, ref: State) -> torch.Tensor:
    return quat_angle(ref["root_quat"], cur["root_quat"])


def base_velocity_error(cur: State, ref: State) -> torch.Tensor:
    return (cur["lin_vel"] - ref["lin_vel"]).norm(dim=-1)


def base_ang_velocity_error(cur: State, ref: State) -> torch.Tensor:
    return (cur["ang_vel"] - ref["ang_vel"]).norm(dim=-1)


def joint_vel_error(cur: State, ref: State) -> torch.Tensor:
    return (cur["joint_vel"] - ref["joint_vel"]).norm(dim=-1)


def end_effector_error(cur: State, ref: State) -> torch.Tensor:
    """sqrt(Σ_e ‖p_e − p_e,ref‖²) over the 4 end effectors (m), global positions."""
    return (cur["ee_pos"] - ref["ee_pos"]).pow(2).sum(dim=(-1, -2)).sqrt()


def action_rate_error(action: torch.Tensor, prev_action: torch.Tensor) -> torch.Tensor:
    return (action - prev_action).norm(dim=-1)


# Terms that compare state with reference; action_rate compares consecutive actions.
STATE_TERMS: dict[str, Callable[[State, State], torch.Tensor]] = {
    "base_height": base_height_error,
    "joint_pos": joint_pos_error,
    "base_orientation": base_orientation_error,
    "base_velocity": base_velocity_error,
    "base_ang_velocity": base_ang_velocity_error,
    "joint_vel": joint_vel_error,
    "end_effector": end_effector_error,
}
TERM_NAMES: tuple[str, ...] = tuple(STATE_TERMS) + ("action_rate",)


def tracking_terms(
    cur: State, ref: State, action: torch.Tensor, prev_action: torch.Tensor, params: dict[str, tuple[float, float]]
) -> dict[str, torch.Tensor]:
    """Per-term rewards {name: (N,)} for the terms with σ > 0 in `params` {name: (σ, tol)}."""
    out = {}
    for name, (sigma, tol) in params.items():
        if sigma <= 0:
            continue
        err = action_rate_error(action, prev_action) if name == "action_rate" else STATE_TERMS[name](cur, ref)
        out[name] = kernel(err, sigma, tol)
    return out


def tracking_reward(terms: dict[str, torch.Tensor]) -> torch.Tensor | None:
    """The product of the terms (N,); None when there are none (the caller's reward is 1)."""
    r: torch.Tensor | None = None
    for value in terms.values():
        r = value if r is None else r * value
    return r


def tracking_errors(cur: State, ref: State) -> dict[str, torch.Tensor]:
    """DeepMimic's tracking errors per env (N,): root position (m), mean |joint angle error|
    (rad), mean end-effector distance (m), root orientation (rad)."""
    return {
        "root_pos_m": (cur["root_pos"] - ref["root_pos"]).norm(dim=-1),
        "joint_rad": wrap_angle(cur["joint_pos"] - ref["joint_pos"]).abs().mean(dim=-1),
        "end_effector_m": (cur["ee_pos"] - ref["ee_pos"]).norm(dim=-1).mean(dim=-1),
        "root_rot_rad": quat_angle(ref["root_quat"], cur["root_quat"]),
    }
