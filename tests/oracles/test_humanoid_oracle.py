"""The humanoid's expert data straight from clips: observation-only demonstrations of style
features, windows drawn by clip weight, readable by NEAR step 1 and AMP like any demo file."""

import numpy as np
import pytest

from imitate.data.dataset import Demonstrations
from imitate.oracles.humanoid import humanoid_oracle
from imitate.tasks.humanoid.options import HumanoidOptions

CHI2_5DOF_P001 = 20.52  # chi-square, 5 degrees of freedom, p = 0.001


def test_walk_windows_by_weight_as_style_feature_demonstrations(tmp_path):
    demos = humanoid_oracle(600, seed=0, cfg=HumanoidOptions(motion="walk"))
    meta = demos.metadata
    assert demos.actions is None and demos.obs.shape[1] == 105 and demos.num_episodes == 600
    assert np.all(np.diff(demos.episode_ends, prepend=0) == 61)  # 2 s windows at 30 Hz, looping clips
    assert meta["task"] == "humanoid" and meta["motion"] == "walk" and meta["window_s"] == 2.0
    assert meta["clips"][0] == "humanoid3d_walk" and len(meta["clips"]) == 6
    np.testing.assert_allclose(meta["clip_weights"], np.array([2, 2, 1, 1, 1, 1]) / 8)
    counts = np.array([meta["episode_clips"].count(c) for c in meta["clips"]])
    expected = 600 * np.array(meta["clip_weights"])
    assert ((counts - expected) ** 2 / expected).sum() < CHI2_5DOF_P001, counts
    # NEAR step 1 and AMP read consecutive pairs from the saved file
    path = demos.save(tmp_path / "walk.npz")
    loaded = Demonstrations.load(path, task="humanoid")
    assert loaded.transitions().shape == (600 * 60, 210)
    np.testing.assert_array_equal(loaded.obs, demos.obs)
    # one seed, one data set
    again = humanoid_oracle(600, seed=0, cfg=HumanoidOptions(motion="walk"))
    np.testing.assert_array_equal(again.obs, demos.obs)
    assert not np.array_equal(humanoid_oracle(600, seed=1, cfg=HumanoidOptions(motion="walk")).obs, demos.obs)


def test_one_shot_windows_stay_inside_the_clip():
    demos = humanoid_oracle(40, seed=3, cfg=HumanoidOptions(motion="humanoid3d_kick", demo_seconds=3.0))
    lengths = np.diff(demos.episode_ends, prepend=0)
    assert np.all(lengths == lengths[0]) and lengths[0] == 46  # the whole 1.53 s kick
    assert demos.metadata["episode_start_s"] == [0.0] * 40
    punch = humanoid_oracle(40, seed=3, cfg=HumanoidOptions(motion="punch", demo_seconds=1.0))
    starts = np.array(punch.metadata["episode_start_s"])
    assert np.all(np.diff(punch.episode_ends, prepend=0) == 31) and starts.max() + 1.0 <= 2.13 + 1e-6
    with pytest.raises(ValueError, match="at least 1"):
        humanoid_oracle(0)
