"""The humanoid character: names, orders, gains and rates, in one place.

The MJCF (assets/humanoid.xml) is the DeepMimic humanoid (pybullet_data/humanoid/humanoid.urdf)
at life size, Z-up (x forward, y left, z up), 45 kg. qpos = [root pos (3), root quat w,x,y,z (4),
28 hinge angles in `JOINT_NAMES` order]; qvel = [root lin vel world (3), root ang vel local (3),
28 hinge rates]. Actuator i is a PD position servo on hinge i (ctrl = target angle, rad).

Each 3-DoF DeepMimic joint (chest, neck, shoulders, hips, ankles) is three hinges in one body,
applied in the intrinsic Euler order `EULER_ORDERS[joint]` (rotation = R_a(θ0) R_b(θ1) R_c(θ2)).
The orders were chosen from all 20 shipped clips so the middle angle (singular at ±90°) stays
small: max |middle| over all frames is 25° (chest), 38° (neck), 51-56° (hips), 46-51° (ankles),
75-80° (shoulders).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ASSET_PATH = Path(__file__).parent / "assets" / "humanoid.xml"

CONTROL_HZ = 30
PHYSICS_HZ = 120
SUBSTEPS = PHYSICS_HZ // CONTROL_HZ  # physics steps per control step
CONTROL_DT_S = 1.0 / CONTROL_HZ

# DeepMimic joints in the order of a clip frame: (name, number of DoF).
FRAME_JOINTS: tuple[tuple[str, int], ...] = (
    ("chest", 3),
    ("neck", 3),
    ("right_hip", 3),
    ("right_knee", 1),
    ("right_ankle", 3),
    ("right_shoulder", 3),
    ("right_elbow", 1),
    ("left_hip", 3),
    ("left_knee", 1),
    ("left_ankle", 3),
    ("left_shoulder", 3),
    ("left_elbow", 1),
)

EULER_ORDERS: dict[str, str] = {
    "chest": "yzx",
    "neck": "zxy",
    "right_shoulder": "xzy",
    "left_shoulder": "xzy",
    "right_hip": "yxz",
    "left_hip": "yxz",
    "right_ankle": "yxz",
    "left_ankle": "yxz",
}

# 3-DoF joints and 1-DoF joints in MuJoCo's qpos order (depth-first over the body tree).
JOINT_GROUPS: tuple[str, ...] = (
    "chest",
    "neck",
    "right_shoulder",
    "right_elbow",
    "left_shoulder",
    "left_elbow",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
)


def _joint_names() -> tuple[str, ...]:
    names = []
    for g in JOINT_GROUPS:
        names += [f"{g}_{a}" for a in EULER_ORDERS[g]] if g in EULER_ORDERS else [g]
    return tuple(names)


JOINT_NAMES: tuple[str, ...] = _joint_names()  # 28 actuated hinges = qpos[7:] = ctrl order
NUM_DOF = len(JOINT_NAMES)
# Slice of each DeepMimic joint inside the 28-vector.
JOINT_SLICES: dict[str, slice] = {}
_i = 0
for _g in JOINT_GROUPS:
    _n = 3 if _g in EULER_ORDERS else 1
    JOINT_SLICES[_g] = slice(_i, _i + _n)
    _i += _n

# Bodies in MuJoCo order (index 0 = world is left out: body id = index + 1).
BODY_NAMES: tuple[str, ...] = (
    "root",
    "chest",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
)
NUM_BODIES = len(BODY_NAMES)
# Body names follow the URDF links: "right_hip" is the thigh, "right_knee" the shin,
# "right_ankle" the foot, "right_shoulder" the upper arm, "right_elbow" the forearm,
# "right_wrist" the hand, "neck" the head. Each body's origin is the joint at its top.
END_EFFECTORS: tuple[str, ...] = ("right_wrist", "left_wrist", "right_ankle", "left_ankle")
FEET: tuple[str, ...] = ("right_ankle", "left_ankle")
# pybullet link index of each body (URDF_MAINTAIN_LINK_ORDER; -1 = base) for cross-checks.
PYBULLET_LINK: dict[str, int] = {
    "root": -1,
    "chest": 1,
    "neck": 2,
    "right_hip": 3,
    "right_knee": 4,
    "right_ankle": 5,
    "right_shoulder": 6,
    "right_elbow": 7,
    "right_wrist": 8,
    "left_hip": 9,
    "left_knee": 10,
    "left_ankle": 11,
    "left_shoulder": 12,
    "left_elbow": 13,
    "left_wrist": 14,
}

# PD gains (N·m/rad, N·m·s/rad) and torque limits (N·m) per DeepMimic joint: DeepMimic's values.
GAINS: dict[str, tuple[float, float, float]] = {  # joint: (kp, kv, torque limit)
    "chest": (1000.0, 100.0, 200.0),
    "neck": (100.0, 10.0, 50.0),
    "right_hip": (500.0, 50.0, 200.0),
    "left_hip": (500.0, 50.0, 200.0),
    "right_knee": (500.0, 50.0, 150.0),
    "left_knee": (500.0, 50.0, 150.0),
    "right_ankle": (400.0, 40.0, 90.0),
    "left_ankle": (400.0, 40.0, 90.0),
    "right_shoulder": (400.0, 40.0, 100.0),
    "left_shoulder": (400.0, 40.0, 100.0),
    "right_elbow": (300.0, 30.0, 60.0),
    "left_elbow": (300.0, 30.0, 60.0),
}
KP = np.array([GAINS[g][0] for g in JOINT_GROUPS for _ in range(JOINT_SLICES[g].stop - JOINT_SLICES[g].start)])
KV = np.array([GAINS[g][1] for g in JOINT_GROUPS for _ in range(JOINT_SLICES[g].stop - JOINT_SLICES[g].start)])
TORQUE_LIMIT = np.array(
    [GAINS[g][2] for g in JOINT_GROUPS for _ in range(JOINT_SLICES[g].stop - JOINT_SLICES[g].start)]
)

# URDF -> our frame: +90° about x maps Y-up (x fwd, y up, z right) to Z-up (x fwd, y left, z up).
Y_TO_Z_ROT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
Y_TO_Z_QUAT = np.array([np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0])  # (w, x, y, z)


NQ = 7 + NUM_DOF  # the character's qpos (35) and qvel (34); a scene's props come after them
NV = 6 + NUM_DOF


def scene_xml(props: str = "", sensors: str = "") -> str:
    """The character's MJCF with ``props`` (MJCF bodies: a strike box, a target marker) added to
    the world after it, so its bodies, joints and actuators keep their ids and qpos/qvel addresses
    (props' coordinates follow at ``NQ``, ``NV``), and ``sensors`` (MJCF sensor elements)."""
    text = ASSET_PATH.read_text()
    if props:
        text = text.replace("</worldbody>", f"{props}\n  </worldbody>", 1)
    if sensors:
        text = text.replace("</mujoco>", f"  <sensor>{sensors}</sensor>\n</mujoco>", 1)
    return text


def load_model(self_collision: bool = True, timestep_s: float | None = None, props: str = "", sensors: str = ""):
    """Compile the MJCF (with ``props`` and ``sensors``: ``scene_xml``). `self_collision=False`
    leaves only body-floor contacts (faster)."""
    import mujoco

    if props or sensors:
        model = mujoco.MjModel.from_xml_string(scene_xml(props, sensors))
    else:
        model = mujoco.MjModel.from_xml_path(str(ASSET_PATH))
    if timestep_s is not None:
        model.opt.timestep = timestep_s
    if not self_collision:
        floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "floor")
        for g in range(model.ngeom):
            if g != floor:  # bodies collide with the floor only
                model.geom_contype[g] = 2
                model.geom_conaffinity[g] = 0
        model.geom_conaffinity[floor] = 2 | 1
    check_model(model)
    return model


def check_model(model) -> None:
    """Fail loudly if the XML drifted from the names and orders this module promises."""
    import mujoco

    names = tuple(model.joint(j).name for j in range(1, min(model.njnt, NUM_DOF + 1)))  # props' joints follow
    if names != JOINT_NAMES:
        raise ValueError(f"humanoid.xml joint order {names} differs from model.JOINT_NAMES")
    bodies = tuple(model.body(b).name for b in range(1, min(model.nbody, NUM_BODIES + 1)))
    if bodies != BODY_NAMES:
        raise ValueError(f"humanoid.xml body order {bodies} differs from model.BODY_NAMES")
    for i in range(model.nu):
        if model.actuator_trntype[i] != mujoco.mjtTrn.mjTRN_JOINT or model.actuator_trnid[i, 0] != i + 1:
            raise ValueError(f"actuator {i} does not drive hinge {JOINT_NAMES[i]}")


def body_ids(names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Indices into `BODY_NAMES` (= MuJoCo body id - 1)."""
    return np.array([BODY_NAMES.index(n) for n in names])
