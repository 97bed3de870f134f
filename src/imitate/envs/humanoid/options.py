"""Options of the humanoid tracking tasks (flat `key=value` keys of every run on them).

Kept torch-free so that `imitate list` and config parsing do not import the simulator.
Reward terms: `sigma_<term>` (σ of exp(−e²/σ); 0 switches the term off) and `tol_<term>` (an error
norm below it counts as 0). Units: m for heights/positions, rad for angles, m/s, rad/s; the
joint and end-effector errors are norms over all joints / all four end effectors.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from imitate.config import ConfigError

TERMS = ("base_height", "joint_pos", "base_orientation", "base_velocity", "base_ang_velocity",
         "joint_vel", "end_effector", "action_rate")


@dataclass
class TrackingOptions:
    """Tracking of one reference clip (SPEC §2)."""
    clip: str = "humanoid3d_walk"  # the reference clip: any clip of `imitate motion list`, or a .txt path
    loop: str = "auto"  # auto: the clip's own Loop; wrap: repeat it; none: the episode ends with the clip
    action_mode: str = "reference"  # reference: PD target = reference pose + action_scale*a; default: default pose + action_scale*a
    action_scale: float = 0.5  # rad per unit action
    rsi: bool = True  # reference state initialisation at a random phase (else phase 0)
    episode_seconds: float = 10.0  # time limit (truncation) for looping clips
    reset_yaw_range: float = 3.141592653589793  # each episode starts turned by U(-r, r) rad about z
    reset_origin_range_m: float = 0.0  # ... and shifted by U(-r, r) m in x and y
    min_base_height_m: float = 0.3  # fall: root below this height
    contact_bodies: str = "right_ankle,left_ankle"  # bodies allowed to touch the ground; any other touching is a fall
    max_root_error_m: float = 0.0  # > 0: also end the episode when the root is this far from the reference
    obs_target: bool = True  # append the reference root position / heading relative to ours (5 numbers)
    sigma_base_height: float = 0.01
    tol_base_height: float = 0.0
    sigma_joint_pos: float = 1.0
    tol_joint_pos: float = 0.0
    sigma_base_orientation: float = 0.25
    tol_base_orientation: float = 0.0
    sigma_base_velocity: float = 1.0
    tol_base_velocity: float = 0.0
    sigma_base_ang_velocity: float = 0.0
    tol_base_ang_velocity: float = 0.0
    sigma_joint_vel: float = 0.0
    tol_joint_vel: float = 0.0
    sigma_end_effector: float = 0.1
    tol_end_effector: float = 0.0
    sigma_action_rate: float = 40.0
    tol_action_rate: float = 0.0

    def validate(self) -> None:
        if self.loop not in ("auto", "wrap", "none"):
            raise ConfigError(f"loop must be auto, wrap or none, got {self.loop!r}")
        if self.action_mode not in ("reference", "default"):
            raise ConfigError(f"action_mode must be 'reference' or 'default', got {self.action_mode!r}")
        if self.action_scale <= 0 or self.episode_seconds <= 0:
            raise ConfigError("action_scale and episode_seconds must be positive")
        for f in fields(TrackingOptions):
            if f.name.startswith(("sigma_", "tol_")) and getattr(self, f.name) < 0:
                raise ConfigError(f"{f.name} must be ≥ 0 (σ = 0 switches a term off), got {getattr(self, f.name)}")
        from imitate.envs.humanoid.model import BODY_NAMES  # numpy-only module
        bad = [b for b in self.contact_bodies.split(",") if b.strip() and b.strip() not in BODY_NAMES]
        if bad:
            raise ConfigError(f"contact_bodies: unknown bodies {bad}; bodies: {', '.join(BODY_NAMES)}")

    def reward_params(self) -> dict[str, tuple[float, float]]:
        return {t: (float(getattr(self, f"sigma_{t}")), float(getattr(self, f"tol_{t}"))) for t in TERMS}


@dataclass
class CartwheelOptions(TrackingOptions):
    """The cartwheel puts its hands on the ground: they may touch it."""
    clip: str = "humanoid3d_cartwheel"
    contact_bodies: str = "right_ankle,left_ankle,right_wrist,left_wrist"


def options_from(cfg) -> TrackingOptions:
    """The tracking options out of any run config (missing fields take TrackingOptions defaults)."""
    if isinstance(cfg, TrackingOptions):
        return cfg
    base = TrackingOptions()
    return TrackingOptions(**{f.name: getattr(cfg, f.name, getattr(base, f.name)) for f in fields(TrackingOptions)})
