"""A composed policy's pose error against each source, on its mask's bodies (eval/source_pose.py)."""

import numpy as np
import pytest

from imitate.algos.labelled_runs import composed_sources
from imitate.data.motion import humanoid_model as hm
from imitate.eval import motion_metrics as mm
from imitate.eval.source_pose import Source, clip_frames, mask_body_indices, source_pose_errors
from imitate.utils.io import save_yaml

DT = 1 / 30


def test_mask_bodies_name_the_masks_bodies():
    assert mask_body_indices("all") is None
    upper = [hm.BODY_NAMES[i] for i in mask_body_indices("upper")]
    assert "right_wrist" in upper and "right_knee" not in upper and "root" not in upper
    with pytest.raises(ValueError, match="unknown feature mask 'arms'"):
        mask_body_indices("arms")


def test_dtw_over_a_subset_of_bodies_ignores_the_others():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 15, 3))
    b = a.copy()
    b[:, 9:] += 1.0  # the legs differ, the upper body does not
    upper = mask_body_indices("upper")
    assert mm.pose_error_dtw(a, b, bodies=upper) == 0.0
    assert mm.pose_error_dtw(a, b, bodies=mask_body_indices("lower")) > 0.1


def _policy_from(motion: str, steps: int):
    body, quat = clip_frames(motion, steps, DT)[0]
    return body[None], quat[None], np.ones((1, len(body)), bool)


def test_a_policy_that_plays_the_walk_matches_the_walk_not_the_punch():
    body, quat, alive = _policy_from("walk", 60)
    sources = [Source("walk", "walk", "lower"), Source("punch", "punch", "upper")]
    out = source_pose_errors(body, quat, alive, np.zeros(1), DT, sources)
    assert out["motion_pose_error_dtw_m_walk"] == pytest.approx(0.0, abs=1e-9)
    assert out["motion_pose_error_dtw_m_punch"] > 0.05
    assert out["motion_top1_pose_error_dtw_m_walk"] == pytest.approx(0.0, abs=1e-9)


def test_the_punch_source_compares_only_the_upper_body():
    """A punch whose legs are moved still matches the punch on the upper body exactly."""
    body, quat, alive = _policy_from("punch", 40)
    moved = body.copy()
    legs = list(mask_body_indices("lower"))[1:]  # the hips, knees, ankles (the chest is in "lower" too)
    moved[:, :, legs] += np.array([0.0, 0.0, 0.3])
    out = source_pose_errors(moved, quat, alive, np.zeros(1), DT, [Source("punch", "punch", "upper")])
    assert out["motion_pose_error_dtw_m_punch"] == pytest.approx(0.0, abs=1e-9)
    whole = source_pose_errors(moved, quat, alive, np.zeros(1), DT, [Source("punch", "punch", "all")])
    assert whole["motion_pose_error_dtw_m_punch"] > 0.01


def _run(tmp_path, name, algo, motion, mask):
    d = tmp_path / name
    d.mkdir()
    save_yaml({"task": "humanoid", "algo": algo, "task_options": {"motion": motion, "mask": mask}}, d / "config.yaml")
    return d


class Cfg:
    def __init__(self, energy="", discriminators=""):
        self.energy, self.discriminators = energy, discriminators


def test_composed_sources_read_each_runs_motion_and_mask(tmp_path):
    walk = _run(tmp_path, "w", "energy", "walk", "lower")
    punch = _run(tmp_path, "p", "energy", "punch", "upper")
    assert composed_sources(Cfg(energy=f"walk:{walk},punch:{punch}")) == [
        ("walk", "walk", "lower"),
        ("punch", "punch", "upper"),
    ]
    assert composed_sources(Cfg(energy=str(walk))) == []  # one model: no composition
    assert composed_sources(Cfg()) == []
