"""Feature masks of the humanoid's 105-d style observation by body part (NEAR's upper- and
lower-body masks; docs/humanoid_imitation.md#feature-masks).

One table, ``MASK_BODIES``, names the bodies of each mask. A body selects the style numbers that
belong to it: the rotation and the velocities of the joint at its top (a body's origin is that
joint, ``humanoid_model``), and its position when it is an end effector (hands, feet). The root
features (height, rotation, linear and angular velocity: numbers 0–12) are kept by every mask.

NEAR's names on our model: "abdomen" is the ``chest`` joint (pelvis to chest), "hands" the
``*_wrist`` bodies (no joint; their positions), "feet" the ``*_ankle`` bodies (the ankle joints
and the foot positions), "neck" the joint of the head.

Torch-free (``options.py`` reads the names); the column layout follows ``observations.style_obs``
(a test compares the two).
"""

from __future__ import annotations

ALL = "all"  # no mask: every style number
MASK_BODIES: dict[str, tuple[str, ...]] = {
    "upper": ("neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist"),
    "lower": ("chest", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle"),
}
MASK_NAMES: tuple[str, ...] = (ALL, *MASK_BODIES)
ROOT_COLUMNS = tuple(range(13))  # root height (1), rotation (6), linear and angular velocity (3 + 3)


def style_layout() -> dict[str, tuple[int, ...]]:
    """The style columns of each body (``root``: the root features), in ``style_obs``'s order:
    root (13), 3-DoF joints as tangent + normal (6 each), 1-DoF joint angles, joint velocities
    (``JOINT_NAMES`` order), end-effector positions (3 each)."""
    from imitate.data.motion import humanoid_model as hm  # numpy-only

    cols: dict[str, list[int]] = {"root": list(ROOT_COLUMNS)}
    nxt = len(ROOT_COLUMNS)

    def take(body: str, n: int) -> None:
        nonlocal nxt
        cols.setdefault(body, []).extend(range(nxt, nxt + n))
        nxt += n

    for g in (g for g in hm.JOINT_GROUPS if g in hm.EULER_ORDERS):
        take(g, 6)
    for g in (g for g in hm.JOINT_GROUPS if g not in hm.EULER_ORDERS):
        take(g, 1)
    for g in hm.JOINT_GROUPS:
        take(g, hm.JOINT_SLICES[g].stop - hm.JOINT_SLICES[g].start)
    for body in hm.END_EFFECTORS:
        take(body, 3)
    return {body: tuple(c) for body, c in cols.items()}


def style_dim() -> int:
    """Numbers in the style observation (105)."""
    return sum(len(c) for c in style_layout().values())


def style_columns(mask: str) -> tuple[int, ...] | None:
    """The style columns ``mask`` keeps, ascending (the root's and its bodies'); None for ``all``."""
    if mask == ALL:
        return None
    if mask not in MASK_BODIES:
        raise ValueError(f"unknown feature mask {mask!r}; masks: {', '.join(MASK_NAMES)}")
    layout = style_layout()
    return tuple(sorted(set(ROOT_COLUMNS).union(*(layout.get(b, ()) for b in MASK_BODIES[mask]))))


def pair_columns(mask: str) -> tuple[int, ...] | None:
    """The columns of a style pair (s_t, s_t+1) ``mask`` keeps: its style columns in each half."""
    cols = style_columns(mask)
    if cols is None:
        return None
    dim = style_dim()
    return cols + tuple(c + dim for c in cols)
