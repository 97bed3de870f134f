"""Motion data sets: a shipped name, one clip, a clip file or a weighted YAML list; every bad input
one MotionError line; windows of motion for the oracle."""

from pathlib import Path

import numpy as np
import pytest

from imitate.data.motion import MotionError, MotionLibrary, resolve_motion, shipped_datasets
from imitate.data.motion.clip import find_clip
from imitate.data.motion.dataset import SHIPPED_DIR, load_motion_list


def _yaml(tmp_path: Path, text: str, name: str = "motions.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_data_sets_resolve_to_their_clips():
    assert shipped_datasets() == ["punch", "run", "spinkick", "strike", "walk"]
    walk = resolve_motion("walk")  # the data set wins over the clip's short name
    assert walk.clips == (
        "humanoid3d_walk",
        "walker/0walk_forward",
        "walker/turn_left0",
        "walker/turn_left1",
        "walker/turn_right0",
        "walker/turn_right1",
    )
    assert walk.weights == (1.0, 1.0, 0.5, 0.5, 0.5, 0.5) and walk.task_reward == "dist"
    assert [resolve_motion(n).task_reward for n in ("run", "spinkick", "punch")] == ["dist", "time", "time"]
    assert resolve_motion("punch").paths == (find_clip("humanoid3d_punch"),)
    lib = walk.library()
    assert lib.names == list(walk.clips)
    np.testing.assert_allclose(lib.weights, np.array(walk.weights) / sum(walk.weights))
    # the YAML files ship with the package
    assert all((SHIPPED_DIR / f"{n}.yaml").is_file() for n in shipped_datasets())


def test_one_clip_by_name_or_file():
    one = resolve_motion("humanoid3d_run")
    assert one.paths == (find_clip("humanoid3d_run"),) and one.weights == (1.0,) and one.task_reward is None
    path = find_clip("walker/turn_left0")
    assert resolve_motion(str(path)).paths == (path,)
    assert resolve_motion("walker/turn_left0").paths == (path,)


def test_yaml_lists_plain_or_mapped_relative_paths_and_near_file_keys(tmp_path):
    local = tmp_path / "clips" / "mine.txt"
    local.parent.mkdir()
    local.write_text(find_clip("humanoid3d_walk").read_text())
    listed = _yaml(
        tmp_path,
        "- {clip: humanoid3d_run, weight: 3}\n- {file: clips/mine.txt, weight: 1.0e-1}\n- humanoid3d_punch\n"
        "- {clip: humanoid3d_kick, weight: '2e-1'}\n",
    )
    data = resolve_motion(str(listed))
    assert data.paths == (
        find_clip("humanoid3d_run"),
        local,
        find_clip("humanoid3d_punch"),
        find_clip("humanoid3d_kick"),
    )
    assert data.weights == (3.0, 0.1, 1.0, 0.2) and data.task_reward is None
    mapped = _yaml(tmp_path, "task_reward: height\nmotions:\n  - {clip: humanoid3d_jump}\n", "jump.yml")
    jump = resolve_motion(str(mapped))
    assert jump.task_reward == "height" and jump.weights == (1.0,) and jump.name == str(mapped)
    lib = load_motion_list(listed).library()
    assert isinstance(lib, MotionLibrary) and lib.num_clips == 4
    np.testing.assert_allclose(lib.weights.sum(), 1.0)


BAD = [
    ("empty_name", None, "", "motion is empty"),
    ("unknown_name", None, "nosuchmotion", "unknown motion clip or data set 'nosuchmotion'"),
    ("unknown_clip_in_list", "- {clip: nosuchclip, weight: 1}\n", None, "entry 1: unknown motion clip 'nosuchclip'"),
    ("weight_zero", "- {clip: humanoid3d_walk, weight: 1}\n- {clip: humanoid3d_run, weight: 0}\n", None, "entry 2"),
    ("weight_negative", "- {clip: humanoid3d_walk, weight: -1}\n", None, "weight must be a positive number, got -1"),
    (
        "weight_text",
        "- {clip: humanoid3d_walk, weight: heavy}\n",
        None,
        "weight must be a positive number, got 'heavy'",
    ),
    ("weight_bool", "- {clip: humanoid3d_walk, weight: true}\n", None, "weight must be a positive number, got True"),
    ("weight_nan", "- {clip: humanoid3d_walk, weight: .nan}\n", None, "weight must be a positive number, got nan"),
    ("weight_list", "- {clip: humanoid3d_walk, weight: [1]}\n", None, "weight must be a positive number"),
    ("empty_list", "[]\n", None, "the motion list is empty"),
    ("empty_file", "", None, "must be a list of {clip: NAME_or_PATH, weight: W} entries, got NoneType"),
    ("not_a_list", "clip: humanoid3d_walk\n", None, "unknown keys ['clip']"),
    ("a_number", "3\n", None, "must be a list of {clip: NAME_or_PATH, weight: W} entries, got int"),
    ("mapping_without_list", "task_reward: time\n", None, "got NoneType"),
    ("bad_task_reward", "task_reward: speed\nmotions: [humanoid3d_walk]\n", None, "task_reward must be one of"),
    ("entry_not_mapping", "- [humanoid3d_walk, 1]\n", None, "entry 1 must be {clip: NAME_or_PATH, weight: W}"),
    ("entry_unknown_key", "- {clip: humanoid3d_walk, speed: 1}\n", None, "got keys ['clip', 'speed']"),
    ("entry_no_clip", "- {weight: 1}\n", None, "must have one 'clip' (or 'file')"),
    ("entry_clip_number", "- {clip: 7}\n", None, "clip must be a clip name or path, got 7"),
    ("entry_nested_list", "- {clip: other.yaml}\n", None, "entries are clips, not motion lists"),
    ("not_yaml", "- {clip: [unclosed\n", None, "not valid YAML"),
    ("list_missing", None, "nowhere/motions.yaml", "motion list not found"),
]


@pytest.mark.parametrize("case, text, spec, expected", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_motion_error_line(case, text, spec, expected, tmp_path):
    if text is not None:
        spec = str(_yaml(tmp_path, text))
    with pytest.raises(MotionError) as info:
        resolve_motion(spec)
    message = str(info.value)
    assert expected in message and "\n" not in message, message


def test_a_file_that_is_not_a_clip_or_a_list(tmp_path):
    other = tmp_path / "walk.npz"
    other.write_bytes(b"\x00")
    with pytest.raises(MotionError, match="not a motion clip"):
        resolve_motion(str(other))
    with pytest.raises(MotionError, match="is a directory"):
        resolve_motion(str(tmp_path))
    with pytest.raises(MotionError, match=r"entry 1 \(walk.npz\): not a motion clip"):
        resolve_motion(str(_yaml(tmp_path, "- walk.npz\n")))
    broken = tmp_path / "broken.txt"
    broken.write_text("{not json")
    data = resolve_motion(str(broken))  # located here, read when loaded: still one line
    with pytest.raises(MotionError, match="not a DeepMimic motion file"):
        data.library(cache_dir=tmp_path)


def test_windows_follow_weights_and_stay_inside_one_shot_clips():
    lib = MotionLibrary.from_names(["humanoid3d_walk", "humanoid3d_punch", "humanoid3d_kick"], weights=[2, 1, 1])
    ids, start_s, length_s = lib.sample_windows(20000, np.random.default_rng(0), window_s=2.0)
    np.testing.assert_allclose(np.bincount(ids, minlength=3) / len(ids), [0.5, 0.25, 0.25], atol=0.015)
    walk, punch, kick = (ids == c for c in range(3))
    assert np.all(length_s[walk] == 2.0) and start_s[walk].max() > 0.95 * lib.durations[0]  # loops: any phase
    assert np.all(start_s[punch] + length_s[punch] <= lib.durations[1] + 1e-12)  # one-shot: inside the clip
    assert np.all(length_s[kick] == lib.durations[2]) and np.all(start_s[kick] == 0)  # shorter than 2 s: all of it
