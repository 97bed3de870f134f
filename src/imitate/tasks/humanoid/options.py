"""Options of the humanoid tasks (flat `key=value` keys of every run on them): tracking
(`TrackingOptions`, `CartwheelOptions`) and imitation from observation (`HumanoidOptions`).

Kept torch-free so that `imitate list` and config parsing do not import the simulator.
Tracking reward terms: `sigma_<term>` (σ of exp(−e²/σ); 0 switches the term off) and `tol_<term>` (an error
norm below it counts as 0); `reward_form=additive` uses DeepMimic's weighted sum instead (`w_<term>`),
whose root term is the product of the `base_*` terms. Units: m for heights/positions, rad for angles, m/s, rad/s; the
joint and end-effector errors are norms over all joints / all four end effectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from imitate.config import Checked, ConfigError, option
from imitate.tasks.humanoid.masks import MASK_NAMES, pair_columns

TERMS = (
    "base_height",
    "joint_pos",
    "base_orientation",
    "base_velocity",
    "base_ang_velocity",
    "joint_vel",
    "end_effector",
    "action_rate",
)
ADDITIVE_TERMS = ("pose", "velocity", "end_effector", "root", "com")  # DeepMimic's, with the w_* weights


def check_bodies(names: str, key: str = "contact_bodies") -> tuple[str, ...]:
    """The comma-separated body names of ``key``, each one of the model's."""
    from imitate.data.motion.humanoid_model import BODY_NAMES  # numpy-only module

    bodies = tuple(b.strip() for b in names.split(",") if b.strip())
    bad = [b for b in bodies if b not in BODY_NAMES]
    if bad:
        raise ConfigError(f"{key}: unknown bodies {bad}; bodies: {', '.join(BODY_NAMES)}")
    return bodies


def _sigma(default: float, term: str) -> float:
    return option(default, f"σ of the {term} term's kernel exp(−e²/σ); 0 switches it off", ge=0)


def _tol(term: str) -> float:
    return option(0.0, f"{term} error norm that still counts as 0", ge=0)


ENGINES = ("c", "warp")


def _engine() -> str:
    return option(
        "c",
        "physics engine: c (MuJoCo's C engine) or warp (MuJoCo Warp: on the GPU where device=cuda, "
        "else its slow CPU mode; the warp extra, docs/humanoid.md#engines)",
        choices=ENGINES,
    )


def check_engine(engine: str) -> None:
    """``engine=warp`` needs MuJoCo Warp installed: one line, before any env is built."""
    import importlib.util

    if engine == "warp" and importlib.util.find_spec("mujoco_warp") is None:
        raise ConfigError("engine=warp needs MuJoCo Warp: pip install 'imitate[warp]' (mujoco-warp 4.0.0)")


@dataclass
class TrackingOptions(Checked):
    """Tracking of one reference clip (DeepMimic, Peng et al. 2018)."""

    clip: str = option("humanoid3d_walk", "the reference clip: any clip of `imitate motion list`, or a .txt path")
    loop: str = option(
        "auto",
        "auto: the clip's own Loop; wrap: repeat it; none: the episode ends with the clip",
        choices=("auto", "wrap", "none"),
    )
    action_mode: str = option(
        "default",
        "default: PD target = default pose (hinges 0) + action_scale*a, DeepMimic's absolute targets; "
        "reference: reference pose + action_scale*a (residual actions, our CPU-budget option)",
        choices=("default", "reference"),
    )
    action_scale: float = option(
        1.5, "rad per unit action (absolute targets: 1.5 stands in for joint ranges; residual runs used 0.5)", gt=0
    )
    rsi: bool = option(True, "reference state initialisation at a random phase (else phase 0)")
    engine: str = _engine()
    reference_on_frames: bool = option(
        True,
        "RSI starts on a clip frame, so when the control period is whole clip frames (walk, cartwheel) the "
        "reference is a clip frame every step, its kinematics computed once per frame; false: any start time, "
        "the reference interpolated and its FK run every step",
    )
    episode_seconds: float = option(10.0, "time limit (truncation) for looping clips", gt=0)
    reset_yaw_range: float = option(3.141592653589793, "each episode starts turned by U(-r, r) rad about z", ge=0)
    reset_origin_range_m: float = option(0.0, "... and shifted by U(-r, r) m in x and y", ge=0)
    min_base_height_m: float = option(0.3, "fall: root below this height", ge=0)
    contact_bodies: str = option(
        "right_ankle,left_ankle", "bodies allowed to touch the ground; any other touching is a fall"
    )
    max_root_error_m: float = option(
        0.0, "> 0: also end the episode when the root is this far from the reference", ge=0
    )
    obs_target: bool = option(True, "append the reference root position / heading relative to ours (5 numbers)")
    style_obs: bool = option(
        False, "also build the 105-d style observation (NEAR/AMP features, StepResult.transition) every step"
    )
    reward_form: str = option(
        "product",
        "product: the assignment's Π exp(-e²/σ) of the sigma_* terms; additive: DeepMimic's weighted sum "
        "of pose, velocity, end-effector, root and centre-of-mass kernels (w_* weights; docs/tracking.md)",
        choices=("product", "additive"),
    )
    w_pose: float = option(0.5, "additive reward: weight of the pose term exp(-2 Σ joint angle²)", ge=0)
    w_velocity: float = option(0.05, "additive reward: weight of the velocity term exp(-0.1 Σ |Δω_joint|²)", ge=0)
    w_end_effector: float = option(0.15, "additive reward: weight of the end-effector term exp(-40 Σ |Δp|²)", ge=0)
    w_root: float = option(0.2, "additive reward: weight of the root term, the product of the base_* sigma terms", ge=0)
    w_com: float = option(0.1, "additive reward: weight of the centre-of-mass term exp(-10 |Δcom|²)", ge=0)
    sigma_base_height: float = _sigma(0.01, "base_height")
    tol_base_height: float = _tol("base_height")
    sigma_joint_pos: float = _sigma(1.0, "joint_pos")
    tol_joint_pos: float = _tol("joint_pos")
    sigma_base_orientation: float = _sigma(0.25, "base_orientation")
    tol_base_orientation: float = _tol("base_orientation")
    sigma_base_velocity: float = _sigma(1.0, "base_velocity")
    tol_base_velocity: float = _tol("base_velocity")
    sigma_base_ang_velocity: float = _sigma(0.0, "base_ang_velocity")
    tol_base_ang_velocity: float = _tol("base_ang_velocity")
    sigma_joint_vel: float = _sigma(0.0, "joint_vel")
    tol_joint_vel: float = _tol("joint_vel")
    sigma_end_effector: float = _sigma(0.1, "end_effector")
    tol_end_effector: float = _tol("end_effector")
    sigma_action_rate: float = _sigma(40.0, "action_rate")
    tol_action_rate: float = _tol("action_rate")

    def check(self) -> None:
        check_bodies(self.contact_bodies)
        check_engine(self.engine)
        from imitate.data.motion.clip import find_clip  # numpy-only; names the clip list on a typo

        find_clip(self.clip)

    def reward_params(self) -> dict[str, tuple[float, float]]:
        return {t: (float(getattr(self, f"sigma_{t}")), float(getattr(self, f"tol_{t}"))) for t in TERMS}

    def additive_weights(self) -> dict[str, float]:
        """The additive reward's weight of each of its terms (tasks/humanoid/rewards.py ADDITIVE_TERMS)."""
        return {t: float(getattr(self, f"w_{t}")) for t in ADDITIVE_TERMS}


@dataclass
class CartwheelOptions(TrackingOptions):
    """The cartwheel puts its hands on the ground: they may touch it."""

    clip: str = option("humanoid3d_cartwheel", "the reference clip: any clip of `imitate motion list`, or a .txt path")
    contact_bodies: str = option(
        "right_ankle,left_ankle,right_wrist,left_wrist",
        "bodies allowed to touch the ground; any other touching is a fall",
    )


@dataclass
class HumanoidOptions(Checked):
    """Imitation from observation of motion clips (NEAR, AMP): absolute PD targets, no
    reference and no phase in the observation, reference state initialisation from a data set."""

    # options an energy run (NEAR step 1) must share with the run that uses it (inputs.py)
    STYLE_KEYS: ClassVar[tuple[str, ...]] = ("motion", "mask")

    motion: str = option(
        "walk",
        "a data set (walk, run, spinkick, punch), a clip of `imitate motion list`, a clip file, "
        "or a YAML list of {clip, weight} (docs/humanoid_imitation.md)",
    )
    task_reward: str = option(
        "auto",
        "time: 1 per step; dist: clamp(forward pelvis speed, 0, 0.5 m/s)/0.5; height: clamp(pelvis z, 0, 2.5 m)/2.5; "
        "auto: the data set's own (walk, run: dist; spinkick, punch: time), else time",
        choices=("auto", "time", "dist", "height"),
    )
    action_scale: float = option(1.5, "rad per unit action: PD target = default pose (hinges 0) + action_scale*a", gt=0)
    rsi: bool = option(True, "reference state initialisation: a clip by weight at a uniform phase (else phase 0)")
    engine: str = _engine()
    episode_seconds: float = option(10.0, "time limit (truncation; surviving to it is a success)", gt=0)
    reset_yaw_range: float = option(math.pi, "each episode starts turned by U(-r, r) rad about z", ge=0)
    contact_bodies: str = option(
        "right_ankle,left_ankle", "bodies allowed to touch the ground; any other touching it low is a fall"
    )
    fall_height_m: float = option(
        0.3, "a body not in contact_bodies that touches the ground is a fall when its origin is below this", gt=0
    )
    min_base_height_m: float = option(0.3, "fall: root (pelvis) below this height", ge=0)
    demo_seconds: float = option(
        2.0, "oracle: each demonstration is a window of this many seconds of a clip, from a uniform phase", gt=0
    )
    mask: str = option(
        "all",
        "style numbers NEAR's energy and AMP's discriminator score: all, or upper|lower: the root's and "
        "those of the upper or lower body's joints and end effectors (tasks/humanoid/masks.py)",
        choices=MASK_NAMES,
    )

    def check(self) -> None:
        check_bodies(self.contact_bodies)
        check_engine(self.engine)
        from imitate.data.motion.dataset import resolve_motion  # numpy/yaml only; one line on a bad list

        resolve_motion(self.motion)

    def pair_columns(self) -> tuple[int, ...] | None:
        """The columns of a style pair (s_t, s_t+1) that ``mask`` keeps; None: all of them."""
        return pair_columns(self.mask)

    def resolved_task_reward(self, suggested: str | None) -> str:
        """The task reward term: ``task_reward``, or for ``auto`` the data set's ``suggested`` one
        (time when it names none)."""
        return self.task_reward if self.task_reward != "auto" else suggested or "time"


def _goal_task_reward(name: str, formula: str) -> str:
    """The ``task_reward`` option of a goal task: its own reward ``name`` by default."""
    return option(
        name,
        f"{name}: {formula} (docs/humanoid_imitation.md#goal-tasks); time: 1 per step; dist: clamp(forward "
        "pelvis speed, 0, 0.5 m/s)/0.5; height: clamp(pelvis z, 0, 2.5 m)/2.5; auto: the data set's own",
        choices=(name, "auto", "time", "dist", "height"),
    )


@dataclass
class GoalOptions(HumanoidOptions):
    """A goal on top of imitation from observation (``tasks/humanoid/goals.py``): the goal is drawn
    at reset at U(−goal_angle_deg, goal_angle_deg) from the character's heading and U(goal_min_m,
    goal_max_m) from its pelvis; its features follow the style observation in the policy's."""

    goal_angle_deg: float = option(
        120.0, "the goal is drawn at U(-a, a) degrees from the character's heading", ge=0, le=180
    )
    goal_min_m: float = option(2.0, "... and U(goal_min_m, goal_max_m) m from the pelvis (horizontal)", ge=0)
    goal_max_m: float = option(6.0, "the farthest a goal is drawn from the pelvis (m)", ge=0)
    local_root_obs: bool = option(
        True,
        "true: the policy sees the root rotation relative to its heading (the style features, AMP's "
        "localRootObs=True); false: the root rotation in the world frame (AMP's default)",
    )

    def check(self) -> None:
        super().check()
        if self.goal_min_m > self.goal_max_m:
            raise ConfigError(f"goal_min_m={self.goal_min_m} is more than goal_max_m={self.goal_max_m}")


@dataclass
class TargetOptions(GoalOptions):
    """Target reaching (NEAR's): a target on the ground; success within ``success_m`` of it."""

    task_reward: str = _goal_task_reward(
        "target", "0.6 exp(-0.5 d²) + 0.3 tanh(2.5 a) + 0.1 (1 - (|v| - 2)²) + 1 if d < 1.25 m"
    )
    success_m: float = option(1.0, "success: the pelvis comes within this horizontal distance (m) of the target", gt=0)


@dataclass
class StrikeOptions(GoalOptions):
    """Strike (NEAR's): knock a 1 x 1 x 2 m, 0.25 kg box over with a hand."""

    task_reward: str = _goal_task_reward(
        "strike", "approach + hand-to-box terms until a hand knocks the box over, then 1"
    )
    goal_min_m: float = option(
        1.0, "... and U(goal_min_m, goal_max_m) m from the pelvis (box centre, horizontal)", ge=0
    )
    goal_max_m: float = option(4.0, "the farthest the box is drawn from the pelvis (m)", ge=0)
    knock_tilt_deg: float = option(
        45.0, "the box is knocked over when its up axis tilts beyond this (degrees)", gt=0, lt=90
    )

    def check(self) -> None:
        super().check()
        if self.engine != "c":  # MuJoCo Warp does not hand back the sensors of every substep
            raise ConfigError(
                "humanoid-strike runs on engine=c only: it reads the hands' contact sensors every physics step"
            )
