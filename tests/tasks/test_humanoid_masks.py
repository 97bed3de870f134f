"""Feature masks by body name (tasks/humanoid/masks.py): the columns each mask keeps, checked
against hand-counted indices of the layout observations.style_obs documents, and against
style_obs itself (perturbing a body's joint or position moves exactly that body's columns)."""

import pytest
import torch

from imitate.config import ConfigError
from imitate.data.motion import humanoid_model as hm
from imitate.runner import resolve_config
from imitate.tasks.humanoid import masks
from imitate.tasks.humanoid import observations as ob

ROOT = set(range(13))
# hand-counted from style_obs's order: root 0-12; 3-DoF joints × 6 (chest 13, neck 19, right
# shoulder 25, left shoulder 31, right hip 37, right ankle 43, left hip 49, left ankle 55);
# 1-DoF angles (right elbow 61, left elbow 62, right knee 63, left knee 64); joint velocities
# 65-92 in JOINT_NAMES order; hands 93-98, feet 99-104
UPPER = ROOT | set(range(19, 37)) | {61, 62} | set(range(68, 79)) | set(range(93, 99))
LOWER = ROOT | set(range(13, 19)) | set(range(37, 61)) | {63, 64} | set(range(65, 68)) | set(range(79, 93))
LOWER |= set(range(99, 105))


def test_the_masks_select_the_documented_columns_and_keep_the_root():
    assert masks.style_dim() == ob.STYLE_OBS_DIM == 105
    assert set(masks.style_columns("upper")) == UPPER
    assert set(masks.style_columns("lower")) == LOWER
    assert UPPER & LOWER == ROOT  # the two halves share only the root
    assert UPPER | LOWER == set(range(105))
    assert masks.style_columns("all") is None and masks.pair_columns("all") is None
    pair = masks.pair_columns("upper")
    assert pair == tuple(sorted(UPPER)) + tuple(c + 105 for c in sorted(UPPER))
    with pytest.raises(ValueError, match="unknown feature mask 'arms'"):
        masks.style_columns("arms")


def _state(n: int = 3) -> dict:
    g = torch.Generator().manual_seed(0)
    quat = torch.randn(n, 4, generator=g)
    return {
        "root_pos": torch.randn(n, 3, generator=g),
        "root_quat": quat / quat.norm(dim=1, keepdim=True),
        "lin_vel": torch.randn(n, 3, generator=g),
        "ang_vel": torch.randn(n, 3, generator=g),
        "joint_pos": torch.randn(n, hm.NUM_DOF, generator=g),
        "joint_vel": torch.randn(n, hm.NUM_DOF, generator=g),
        "body_pos": torch.randn(n, hm.NUM_BODIES, 3, generator=g),
    }


def _moved_columns(key: str, index) -> set[int]:
    """The style columns that change when ``state[key][:, index]`` is nudged."""
    state = _state()
    base = ob.style_obs(dict(state))
    nudged = {k: v.clone() for k, v in state.items()}
    nudged[key][:, index] += 0.3
    return set((ob.style_obs(nudged) - base).abs().amax(0).gt(1e-6).nonzero().flatten().tolist())


@pytest.mark.parametrize("body", [g for g in hm.JOINT_GROUPS] + list(hm.END_EFFECTORS))
def test_each_bodys_columns_are_the_ones_style_obs_moves_for_it(body):
    moved: set[int] = set()
    if body in hm.JOINT_SLICES:
        moved |= _moved_columns("joint_pos", hm.JOINT_SLICES[body]) | _moved_columns("joint_vel", hm.JOINT_SLICES[body])
    if body in hm.END_EFFECTORS:
        moved |= _moved_columns("body_pos", hm.BODY_NAMES.index(body))
    assert moved == set(masks.style_layout()[body])


def test_the_root_columns_are_the_root_features():
    moved = _moved_columns("root_quat", slice(None)) | _moved_columns("lin_vel", slice(None))
    moved |= _moved_columns("ang_vel", slice(None)) | _moved_columns("root_pos", 2)
    assert ROOT <= moved  # the root's own numbers; its rotation also turns the hand and foot positions
    assert moved - ROOT <= set(range(93, 105))


def test_mask_is_a_humanoid_option_with_a_one_line_error():
    assert resolve_config("humanoid", "energy", {"mask": "lower"}, check_inputs=False).task_options.mask == "lower"
    with pytest.raises(ConfigError, match="mask must be one of all, upper, lower"):
        resolve_config("humanoid", "amp", {"mask": "arms"}, check_inputs=False)
