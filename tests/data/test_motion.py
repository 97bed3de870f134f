"""Motion clips and the motion library: cache, interpolation, slerp, looping, phase, sampling, video."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import imitate
from imitate.data.motion import MotionError, MotionLibrary, available_clips, load_clip
from imitate.data.motion.clip import CLIPS_DIR, MotionClip
from imitate.utils import rotations as rot


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("motions")


@pytest.fixture(scope="module")
def lib(cache):
    return MotionLibrary.from_names(
        ["humanoid3d_walk", "humanoid3d_cartwheel", "humanoid3d_kick"], weights=[2.0, 1.0, 1.0], cache_dir=cache
    )


def test_all_clips_load(cache):
    names = available_clips()
    assert len([n for n in names if n.startswith("humanoid3d_")]) == 15
    assert len([n for n in names if n.startswith("walker/")]) == 5
    for name in names:
        clip = load_clip(name, cache_dir=cache)
        assert clip.joint_pos.shape == (clip.num_frames, 28) and np.isfinite(clip.joint_vel).all()
        assert clip.body_pos.shape == (clip.num_frames, 15, 3)
    assert load_clip("humanoid3d_backflip", cache_dir=cache).fps == pytest.approx(16, rel=1e-3)
    assert load_clip("walk", cache_dir=cache).fps == pytest.approx(30, rel=1e-3)


def test_clips_ship_with_the_package_without_pybullet(monkeypatch, tmp_path):
    """The clips are package data: listing and loading them never imports pybullet (a dev extra)."""
    monkeypatch.setitem(sys.modules, "pybullet_data", None)  # `import pybullet_data` now fails
    assert CLIPS_DIR.is_relative_to(Path(imitate.__file__).parent)
    assert (CLIPS_DIR / "NOTICE").is_file()
    assert len(available_clips()) == 20
    assert load_clip("walker/turn_left0", cache_dir=tmp_path).num_frames > 2


def test_packaged_clips_are_pybullets_unchanged():
    """The packaged files are byte for byte the ones pybullet ships (where pybullet is installed)."""
    pybullet_data = pytest.importorskip("pybullet_data")
    theirs = Path(pybullet_data.getDataPath()) / "data" / "motions"
    for name in available_clips():
        rel = f"{name}.txt"
        assert (CLIPS_DIR / rel).read_bytes() == (theirs / rel).read_bytes(), name


def test_cache_round_trip_and_invalidation(tmp_path):
    clip = load_clip("humanoid3d_run", cache_dir=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob(".*.tmp"))
    again = load_clip("humanoid3d_run", cache_dir=tmp_path)
    for k in MotionClip._ARRAYS:
        np.testing.assert_array_equal(getattr(again, k), getattr(clip, k))
    assert again.loop and again.name == "humanoid3d_run"
    files[0].write_bytes(b"garbage")  # a corrupt cache is rebuilt, not trusted
    third = load_clip("humanoid3d_run", cache_dir=tmp_path)
    np.testing.assert_array_equal(third.joint_pos, clip.joint_pos)
    with pytest.raises(MotionError, match="stale"):
        MotionClip.load(files[0], key="another-key")


def test_malformed_clip_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(json.dumps({"Loop": "wrap", "Frames": [[0.1] * 10, [0.0] * 10]}))
    with pytest.raises(MotionError, match=r"\(T>=2, 44\)"):
        load_clip(bad, cache_dir=tmp_path)
    with pytest.raises(MotionError, match="unknown motion clip"):
        load_clip("no_such_clip", cache_dir=tmp_path)


def test_euler_round_trip_all_orders():
    rng = np.random.default_rng(0)
    q = rot.quat_normalize(rng.normal(size=(200, 4)))
    for order in ("xyz", "xzy", "yxz", "yzx", "zxy", "zyx"):
        e = rot.quat_to_euler(q, order)
        assert np.abs(e[:, 1]).max() <= np.pi / 2 + 1e-12
        np.testing.assert_allclose(np.abs(np.sum(rot.euler_to_quat(e, order) * q, -1)), 1.0, atol=1e-9)


def test_slerp_unit_norm_and_endpoints():
    rng = np.random.default_rng(1)
    a, b = rot.quat_normalize(rng.normal(size=(2, 500, 4)))
    t = rng.random(500)
    s = rot.quat_slerp(a, b, t)
    np.testing.assert_allclose(np.linalg.norm(s, axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(rot.quat_slerp(a, b, np.zeros(500)) * a, -1)), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(np.sum(rot.quat_slerp(a, b, np.ones(500)) * b, -1)), 1.0, atol=1e-9)
    # constant angular speed: the angle to a grows linearly in t
    ang = lambda x, y: 2 * np.arccos(np.clip(np.abs(np.sum(x * y, -1)), 0, 1))  # noqa: E731
    np.testing.assert_allclose(ang(a, s), t * ang(a, b), atol=1e-6)


def test_interpolation_hits_frames_and_stays_between(lib):
    for c, clip in enumerate(lib.clips):
        n = clip.num_frames - 1  # the last frame time is the next cycle's start for looping clips
        st = lib.state(np.full(n, c), clip.times[:n])
        np.testing.assert_allclose(st.qpos(), clip.qpos()[:n], atol=1e-9)
        np.testing.assert_allclose(st.body_pos, clip.body_pos[:n], atol=1e-9)
        np.testing.assert_allclose(st.joint_vel, clip.joint_vel[:n], atol=1e-9)
        mid = 0.5 * (clip.times[:n] + clip.times[1 : n + 1])
        sm = lib.state(np.full(n, c), mid)
        lo = np.minimum(clip.joint_pos[:n], clip.joint_pos[1 : n + 1]) - 1e-12
        hi = np.maximum(clip.joint_pos[:n], clip.joint_pos[1 : n + 1]) + 1e-12
        assert np.all((sm.joint_pos >= lo) & (sm.joint_pos <= hi))
        np.testing.assert_allclose(sm.joint_pos, 0.5 * (clip.joint_pos[:n] + clip.joint_pos[1 : n + 1]), atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(sm.root_quat, axis=-1), 1.0, atol=1e-12)
        # the root rotation at mid-interval is halfway (geodesic) between the frames
        ang = lambda x, y: 2 * np.arccos(np.clip(np.abs(np.sum(x * y, -1)), 0, 1))  # noqa: E731
        np.testing.assert_allclose(
            ang(sm.root_quat, clip.root_quat[:n]), 0.5 * ang(clip.root_quat[1 : n + 1], clip.root_quat[:n]), atol=1e-6
        )


def test_velocities_are_derivative_of_interpolation(lib):
    c = 1  # cartwheel
    rng = np.random.default_rng(3)
    t = rng.uniform(0, lib.durations[c] - 0.05, 50)
    h = 1e-5
    ids = np.full(50, c)
    i0a = lib.frame_index(ids, t)[0]
    keep = lib.frame_index(ids, t + h)[0] == i0a  # same interval on both sides
    s0, s1 = lib.state(ids[keep], t[keep]), lib.state(ids[keep], t[keep] + h)
    np.testing.assert_allclose((s1.joint_pos - s0.joint_pos) / h, s0.joint_vel, atol=1e-4)
    np.testing.assert_allclose((s1.root_pos - s0.root_pos) / h, s0.root_lin_vel, atol=1e-4)
    dq = rot.quat_mul(s1.root_quat, rot.quat_conj(s0.root_quat))
    np.testing.assert_allclose(rot.quat_to_axis_angle(dq) / h, s0.root_ang_vel, atol=1e-3)


def test_looping_walk_advances_one_stride_per_cycle(lib):
    dur = lib.durations[0]
    t = np.array([0.3, 0.3 + dur, 0.3 + 2 * dur, 0.3 + 5 * dur])
    st = lib.state(np.zeros(4, dtype=int), t)
    step = np.diff(st.root_pos, axis=0) / np.array([[1], [1], [3]])
    np.testing.assert_allclose(step[:, 0], 1.23859, atol=1e-9)  # +x, one stride per cycle
    np.testing.assert_allclose(step[:, 1:], 0.0, atol=1e-9)
    np.testing.assert_allclose(st.joint_pos - st.joint_pos[0], 0.0, atol=1e-9)  # same pose
    np.testing.assert_allclose(st.phase, 0.3 / dur, atol=1e-9)
    # bodies are carried with the root
    np.testing.assert_allclose(
        st.body_pos[3] - st.body_pos[0], np.broadcast_to([5 * 1.23859, 0, 0], (15, 3)), atol=1e-9
    )


def test_looping_with_heading_turns_each_cycle(cache):
    lib = MotionLibrary.from_names(["walker/turn_left0"], cache_dir=cache, loop_heading=True)
    _, dyaw = lib.clips[0].cycle_offset()
    assert dyaw == pytest.approx(np.pi / 6, abs=0.01)  # the clip turns ~30° per cycle
    dur = lib.durations[0]
    st = lib.state(np.zeros(3, dtype=int), np.array([0.0, dur, 2 * dur]))
    yaw = 2 * np.arctan2(rot.heading_quat(st.root_quat)[:, 3], rot.heading_quat(st.root_quat)[:, 0])
    np.testing.assert_allclose(np.diff(yaw), dyaw, atol=1e-6)
    np.testing.assert_allclose(st.root_pos[1, :2], lib.clips[0].root_pos[-1, :2], atol=1e-9)  # cycle seam
    # second cycle displacement = first one turned by dyaw
    d1, d2 = st.root_pos[1, :2] - st.root_pos[0, :2], st.root_pos[2, :2] - st.root_pos[1, :2]
    c, s = np.cos(dyaw), np.sin(dyaw)
    np.testing.assert_allclose(d2, [c * d1[0] - s * d1[1], s * d1[0] + c * d1[1]], atol=1e-9)


def test_per_frame_tables_follow_the_clip_into_later_turning_cycles(cache):
    """``points`` and ``rates`` interpolate any per-frame table like the bodies and the root: the
    body table gives ``state``'s bodies, and the rates of its forward differences are the
    derivative of its points, in cycles turned by the clip's heading change too."""
    lib = MotionLibrary.from_names(["walker/turn_left0"], cache_dir=cache, loop_heading=True)
    clip = lib.clips[0]
    rng = np.random.default_rng(5)
    t = rng.uniform(0.0, 3.0 * lib.durations[0], 40)  # three cycles
    ids = np.zeros(len(t), dtype=int)
    f = lib.locate(ids, t)
    np.testing.assert_array_equal(lib.points(f, clip.body_pos), lib.state(ids, t).body_pos)
    rate_table = np.diff(clip.body_pos, axis=0) / clip.dt[:, None, None]
    rate_table = np.concatenate([rate_table, rate_table[-1:]])  # the last frame's: never read
    h = 1e-6
    f1 = lib.locate(ids, t + h)
    keep = f1.i0 == f.i0  # the same interval on both sides
    numeric = (lib.points(f1, clip.body_pos) - lib.points(f, clip.body_pos)) / h
    np.testing.assert_allclose(numeric[keep], lib.rates(f, rate_table)[keep], atol=1e-4)
    assert np.abs(f.cycle).max() >= 2


def test_non_looping_clip_holds_last_frame_and_phase(lib):
    c = 2  # kick: Loop none
    clip = lib.clips[c]
    assert not clip.loop
    st = lib.state(np.full(3, c), np.array([clip.duration_s, clip.duration_s + 1.0, -1.0]))
    np.testing.assert_allclose(st.qpos()[:2], np.stack([clip.qpos()[-1]] * 2), atol=1e-12)
    np.testing.assert_allclose(st.qpos()[2], clip.qpos()[0], atol=1e-12)
    np.testing.assert_allclose(st.phase, [1.0, 1.0, 0.0])


def test_sampling_follows_weights_and_ranges(lib):
    rng = np.random.default_rng(4)
    ids, t = lib.sample(20000, rng, end_margin_s=0.1)
    freq = np.bincount(ids, minlength=3) / len(ids)
    np.testing.assert_allclose(freq, [0.5, 0.25, 0.25], atol=0.02)
    assert np.all(t >= 0) and np.all(t <= lib.durations[ids] - 0.1)
    np.testing.assert_array_equal(
        lib.sample(100, np.random.default_rng(5))[1], lib.sample(100, np.random.default_rng(5))[1]
    )
    with pytest.raises(MotionError, match="weights"):
        MotionLibrary(lib.clips, weights=[1.0, -1.0, 0.0])


def test_stick_figure_video(tmp_path, cache):
    import imageio.v2 as imageio

    from imitate.viz.motion import clip_qpos, write_qpos_video

    qpos = clip_qpos("humanoid3d_walk", seconds=0.2, fps=15, cache_dir=cache)
    assert qpos.shape == (4, 35)
    path, used = write_qpos_video(qpos, tmp_path / "walk.mp4", fps=15, renderer="stick", width=160, height=96)
    assert used == "stick" and path.exists()
    reader = imageio.get_reader(path)
    assert reader.count_frames() == 4
    frames = [reader.get_data(i) for i in range(4)]
    reader.close()
    f = np.asarray(frames[0]).astype(float)
    assert f.std() > 5  # something is drawn, not a blank frame
    assert not np.allclose(np.asarray(frames[0], float), np.asarray(frames[-1], float))  # it moves
    with pytest.raises(ValueError, match=r"\(T, 35\)"):
        write_qpos_video(qpos[:, :30], tmp_path / "x.mp4", renderer="stick")
