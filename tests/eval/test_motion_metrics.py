"""The motion metrics (eval/motion_metrics.py) against values derived independently.

SPARC: the known value of each profile is computed here by another method than the FFT: the
profile's continuous Fourier transform (in closed form, or by direct numerical integration),
its cut-off found by bisection, and the arc length integrated on a fine grid. Kinematics: exact
derivatives of polynomials. DTW: zero on itself and on a time-warped copy, a closed form for a
static pose with one body moved, and a brute-force dynamic programme.
"""

from __future__ import annotations

import numpy as np
import pytest

from imitate.eval import motion_metrics as mm

THR = mm.SPARC_AMP_THRESHOLD


def _bisect(g, lo: float, hi: float) -> float:
    """The root of g (g(lo) > 0 > g(hi)) by bisection."""
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def _arc(spectrum, fc: float, n: int = 20_001) -> float:
    """-(length of the curve spectrum(f), f in [0, fc], with f rescaled to [0, 1])."""
    u = np.linspace(0.0, 1.0, n)
    y = spectrum(u * fc)
    return -float(np.sum(np.hypot(np.diff(u), np.diff(y))))


def _hann_spectrum(x):
    """|FT| of one period of 1 - cos (a raised cosine of duration D), normalised, at x = f·D."""
    x = np.asarray(x, dtype=np.float64)
    return np.abs(np.sinc(x) / (1.0 - x**2))


def test_sparc_of_one_sinusoid_period_matches_its_closed_form_spectrum():
    """A speed profile of one period of a sinusoid, v = (1 - cos 2πt/D)/2: its spectrum is
    sinc(fD)/(1-(fD)²); the cut-off lies in the main lobe (the side lobes peak at 0.027 < 0.05)."""
    x_c = _bisect(lambda x: _hann_spectrum(x) - THR, 0.0, 1.99)
    expected = _arc(_hann_spectrum, x_c)
    assert expected == pytest.approx(-1.4084, abs=1e-4)
    for duration_s, dt_s, amplitude in [(1.0, 0.01, 1.0), (2.0, 1 / 30, 3.0), (0.5, 0.002, 0.2)]:
        t = np.arange(0.0, duration_s + dt_s / 2, dt_s)
        speed = amplitude * 0.5 * (1 - np.cos(2 * np.pi * t / duration_s))
        # finer zero padding converges to the continuous value; the default is within 1e-2
        assert float(mm.sparc(speed, dt_s, pad_level=8)) == pytest.approx(expected, abs=2e-3)
        assert float(mm.sparc(speed, dt_s)) == pytest.approx(expected, abs=1e-2)


def test_sparc_of_a_gaussian_bell_is_amplitude_and_duration_free():
    """exp(-t²/2σ²) has the spectrum exp(-2π²σ²f²): normalised to the cut-off it is
    exp(-ln(1/thr)·u²), the same curve for every σ."""
    expected = _arc(lambda u: np.exp(-np.log(1 / THR) * u**2), 1.0)
    for sigma_s, dt_s in [(0.3, 0.01), (0.15, 1 / 30), (1.0, 0.02)]:
        t = np.arange(-6 * sigma_s, 6 * sigma_s, dt_s)
        speed = 2.5 * np.exp(-(t**2) / (2 * sigma_s**2))
        assert float(mm.sparc(speed, dt_s, pad_level=8)) == pytest.approx(expected, abs=2e-3)
    # the example of the measure's authors: exp(-5 t²) on [-1, 1) at 100 Hz is -1.41403
    t = np.arange(-1, 1, 0.01)
    assert float(mm.sparc(np.exp(-5 * t**2), 0.01)) == pytest.approx(-1.41403, abs=1e-5)


def test_sparc_of_a_minimum_jerk_profile_matches_direct_integration():
    """v(τ) = 30τ²(1-τ)²: the Fourier transform integrated numerically on a fine time grid."""
    tau = np.linspace(0.0, 1.0, 4001)
    v = 30 * tau**2 * (1 - tau) ** 2

    def spectrum(x):
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        kernel = np.exp(-2j * np.pi * x[:, None] * tau[None, :])
        return np.abs(np.trapezoid(v * kernel, tau, axis=1))  # V(0) = 1 for this profile

    x_c = _bisect(lambda x: float(spectrum(x)[0]) - THR, 0.5, 1.67)
    expected = _arc(spectrum, x_c, n=4001)
    assert expected == pytest.approx(-1.408, abs=1e-3)
    duration_s, dt_s = 1.5, 1 / 60
    t = np.arange(0.0, duration_s + dt_s / 2, dt_s)
    s = t / duration_s
    assert float(mm.sparc(30 * s**2 * (1 - s) ** 2, dt_s, pad_level=8)) == pytest.approx(expected, abs=2e-3)


def test_sparc_caps_the_cut_off_and_ranks_smoothness():
    """A bell so short that its spectrum stays above the threshold past 10 Hz is cut at 10 Hz;
    two sub-movements are less smooth than one; batches are computed row by row."""
    sigma_s, dt_s = 0.01, 0.001
    t = np.arange(-1, 1, dt_s)
    narrow = np.exp(-(t**2) / (2 * sigma_s**2))
    expected = _arc(lambda f: np.exp(-2 * np.pi**2 * sigma_s**2 * f**2), mm.SPARC_FC_MAX_HZ)
    assert float(mm.sparc(narrow, dt_s)) == pytest.approx(expected, abs=2e-3)
    one = np.exp(-(t**2) / (2 * 0.1**2))
    two = np.exp(-((t + 0.3) ** 2) / (2 * 0.1**2)) + np.exp(-((t - 0.3) ** 2) / (2 * 0.1**2))
    batch = mm.sparc(np.stack([one, two, np.zeros_like(t)]), dt_s)
    assert batch.shape == (3,)
    assert batch[1] < batch[0] - 0.5
    assert batch[0] == pytest.approx(float(mm.sparc(one, dt_s)))
    assert np.isnan(batch[2])  # no movement, no spectrum


def test_sparc_cut_off_is_the_last_frequency_above_the_threshold():
    """Two bells 0.6 s apart: |V̂(f)| = exp(-2π²σ²f²)·|cos(0.6πf)| has zeros at 0.83, 2.5 ... Hz;
    the cut-off is the last crossing of the threshold (the paper's min{f: V̂(r) < thr ∀ r > f}),
    not the first, so the arc runs over several lobes."""
    sigma_s, gap_s, dt_s = 0.1, 0.6, 0.005
    spectrum = lambda f: np.exp(-2 * np.pi**2 * sigma_s**2 * f**2) * np.abs(np.cos(np.pi * f * gap_s))  # noqa: E731
    f = np.linspace(0.0, mm.SPARC_FC_MAX_HZ, 2_000_001)
    fc = f[np.nonzero(spectrum(f) >= THR)[0][-1]]
    assert fc > 3.0  # beyond the first zero at 0.83 Hz
    expected = _arc(spectrum, fc, n=2_000_001)
    t = np.arange(-3, 3, dt_s)
    two = np.exp(-((t + gap_s / 2) ** 2) / (2 * sigma_s**2)) + np.exp(-((t - gap_s / 2) ** 2) / (2 * sigma_s**2))
    assert float(mm.sparc(two, dt_s, pad_level=8)) == pytest.approx(expected, abs=5e-3)
    assert expected < -2.5  # vs -1.42 for one bell


def test_jerk_of_a_cubic_and_acceleration_of_a_parabola_are_exact():
    dt_s = 1 / 30
    t = np.arange(40) * dt_s
    cubic = np.stack([2.0 * t**3 - t**2 + t, -0.5 * t**3, np.full_like(t, 0.9)], axis=-1)
    k = mm.root_kinematics(cubic, dt_s)
    assert float(k["root_jerk_m_s3"]) == pytest.approx(6 * np.hypot(2.0, 0.5), rel=1e-6)
    parabola = np.stack([1.5 * t**2 + 0.2 * t, np.zeros_like(t), 0.9 - 0.5 * t**2], axis=-1)
    k = mm.root_kinematics(parabola, dt_s)
    assert float(k["root_acc_m_s2"]) == pytest.approx(np.hypot(3.0, 1.0), rel=1e-9)
    assert float(k["root_jerk_m_s3"]) == pytest.approx(0.0, abs=1e-6)
    # speed: forward differences of a straight line at constant velocity (1.2, 0.5, 0) m/s
    line = np.stack([1.2 * t, 0.5 * t, np.full_like(t, 0.9)], axis=-1)
    assert float(mm.root_kinematics(line, dt_s)["root_speed_m_s"]) == pytest.approx(1.3, rel=1e-9)
    # batched over episodes of equal length
    both = mm.root_kinematics(np.stack([cubic, parabola]), dt_s)["root_acc_m_s2"]
    assert both.shape == (2,) and both[1] == pytest.approx(np.hypot(3.0, 1.0))


def test_distance_travelled_of_a_straight_line_and_fall_rate():
    t = np.linspace(0, 4, 121)[:, None]
    start, end = np.array([1.0, -2.0, 0.9]), np.array([4.0, 2.0, 0.8])
    line = start + (end - start) * t / 4
    assert float(mm.distance_travelled_m(line)) == pytest.approx(5.0)
    assert float(mm.path_length_m(line)) == pytest.approx(5.0)
    there_and_back = np.concatenate([line, line[::-1]])
    assert float(mm.distance_travelled_m(there_and_back)) == pytest.approx(0.0, abs=1e-12)
    assert float(mm.path_length_m(there_and_back)) == pytest.approx(10.0)
    assert mm.fall_rate([True, False, False, True]) == 0.5


def _walker(n: int = 60, bodies: int = 5, seed: int = 0) -> np.ndarray:
    """A smooth made-up motion (n, bodies, 3) moving forward, bodies swinging about the root."""
    t = np.linspace(0, 2 * np.pi, n)
    g = np.random.default_rng(seed)
    amp, phase = g.uniform(0.1, 0.3, (bodies, 3)), g.uniform(0, 2 * np.pi, (bodies, 3))
    pos = amp * np.sin(t[:, None, None] + phase) + g.normal(size=(bodies, 3))
    return pos + np.stack([0.5 * t, 0 * t, 0 * t], axis=-1)[:, None, :]


def _dtw_brute(a: np.ndarray, b: np.ndarray) -> float:
    """sqrt of the least summed squared distance over warping paths, by a plain dynamic programme."""
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    acc = np.full((len(a) + 1, len(b) + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(len(a)):
        for j in range(len(b)):
            acc[i + 1, j + 1] = cost[i, j] + min(acc[i, j], acc[i, j + 1], acc[i + 1, j])
    return float(np.sqrt(acc[-1, -1]))


def test_dtw_pose_error_is_zero_on_itself_and_a_time_warped_copy():
    pos = _walker()
    assert mm.pose_error_dtw(pos, pos) == pytest.approx(0.0, abs=1e-12)
    # a time-warped copy: some frames held longer (a monotone re-timing that skips none)
    idx = np.sort(np.concatenate([np.arange(60), [3, 3, 10, 25, 25, 25, 40]]))
    assert mm.pose_error_dtw(pos[idx], pos) == pytest.approx(0.0, abs=1e-12)
    # the same motion played 1.5x slower (re-sampled by interpolation): small, not exactly 0,
    # and far below one body 5 cm off in every frame
    dense = _walker(240)
    slow_t = np.linspace(0, 239, 360)
    slow = np.stack(
        [np.stack([np.interp(slow_t, np.arange(240), dense[:, b, d]) for d in range(3)], -1) for b in range(5)], 1
    )
    shifted = dense.copy()
    shifted[:, 2] += np.array([0.05, 0.0, 0.0])
    assert 0.0 < mm.pose_error_dtw(slow, dense) < 0.2 * mm.pose_error_dtw(shifted, dense)
    # a root-relative measure: moving the whole body (root included) changes nothing
    assert mm.pose_error_dtw(pos + np.array([3.0, -1.0, 0.2]), pos) == pytest.approx(0.0, abs=1e-12)


def test_dtw_pose_error_of_a_shifted_body_has_its_closed_form():
    """A static pose with one body moved by d: every pair of frames costs d², the shortest path
    has max(T1, T2) pairs, so DTW = d·sqrt(max(T1, T2)) and the error is that over B bodies."""
    pose = np.random.default_rng(1).normal(size=(1, 6, 3))
    clip = np.repeat(pose, 40, axis=0)
    policy = np.repeat(pose, 50, axis=0)
    policy[:, 4] += np.array([0.0, 0.03, 0.04])  # d = 0.05 m
    assert mm.pose_error_dtw(policy, clip) == pytest.approx(0.05 * np.sqrt(50) / 6, rel=1e-9)
    a, b = _walker(30, 4, seed=2), _walker(25, 4, seed=3)
    rel = lambda x: mm.root_relative(x).reshape(len(x), -1)  # noqa: E731
    assert mm.pose_error_dtw(a, b) == pytest.approx(_dtw_brute(rel(a), rel(b)) / 4, rel=1e-9)


def test_dtw_pose_error_in_the_heading_frame_ignores_the_facing_direction():
    pos = _walker()
    yaw = 0.7
    c, s = np.cos(yaw), np.sin(yaw)
    turned = pos @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T
    q0 = np.tile([1.0, 0.0, 0.0, 0.0], (len(pos), 1))
    q1 = np.tile([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)], (len(pos), 1))
    assert mm.pose_error_dtw(turned, pos) > 0.01  # world axes (NEAR): a turned copy differs
    assert mm.pose_error_dtw(turned, pos, policy_root_quat=q1, clip_root_quat=q0) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="both root orientations"):
        mm.pose_error_dtw(turned, pos, policy_root_quat=q1)


def test_top_k_by_return_and_the_summary_report_both_means():
    returns = np.array([5.0, 1.0, 9.0, 7.0, 3.0])
    assert mm.top_k_by_return(returns, 2).tolist() == [2, 3]
    assert mm.top_k_by_return(returns, 10).tolist() == [2, 3, 0, 4, 1]
    episodes = [{"x": float(r), "fell": float(r < 4)} for r in returns]
    episodes[0]["y"] = float("nan")  # a too-short episode's metric is skipped, not averaged in
    summary = mm.summarize(episodes, returns, k=2)
    assert summary["top"]["x"] == pytest.approx(8.0) and summary["all"]["x"] == pytest.approx(5.0)
    assert summary["all"]["fall_rate"] == pytest.approx(0.4) and summary["top"]["fall_rate"] == 0.0
    flat = mm.flatten_summary(summary)
    assert flat["motion_x"] == pytest.approx(5.0) and flat["motion_top2_x"] == pytest.approx(8.0)
    assert np.isnan(flat["motion_y"])


def test_episode_metrics_of_a_walking_line_and_a_too_short_episode():
    dt_s = 1 / 30
    t = np.arange(90) * dt_s
    root = np.stack([1.0 * t, 0 * t, 0.9 + 0.02 * np.sin(2 * np.pi * 2 * t)], axis=-1)
    body = _walker(90)
    m = mm.episode_metrics(root, dt_s, body, body)
    assert m["pose_error_dtw_m"] == pytest.approx(0.0, abs=1e-12)
    assert m["distance_m"] == pytest.approx(89 * dt_s)
    assert m["sparc_root_speed"] < 0 and m["sparc_root_vel_axes"] < 0  # y is still: left out
    short = mm.episode_metrics(root[:3], dt_s)
    assert np.isnan(short["root_jerk_m_s3"]) and short["frames"] == 3.0
