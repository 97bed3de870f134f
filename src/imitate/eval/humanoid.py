"""Evaluation of a tracking (DeepMimic) run: tracking errors, per-term reward plot, JSON dump, video.

Two rollouts of the deterministic policy:
  1. `episodes` envs, one episode each, started as in training (RSI at a random phase): success
     rate, length, return, mean per-step reward and per-term rewards, and DeepMimic's tracking
     errors (root position m, joint angle rad, end effector m, root rotation rad), each the mean
     over an episode's steps, then over episodes. With ``motion_metrics``, also NEAR's motion
     metrics (eval/motion_metrics.py, docs/humanoid_metrics.md) of each episode: the DTW pose
     error against the reference the episode tracked (same start time, same frame), root speed,
     acceleration, jerk, SPARC, distance and falls, as ``motion_<metric>`` (all episodes) and
     ``motion_top20_<metric>`` (the 20 highest tracking returns, NEAR's protocol); the reference's
     own values over the same windows as ``motion_clip_<metric>``. Frames are the states at the
     start of each control step (30 Hz) while the episode runs; the state an episode ends in is
     not kept (the env has reset it by then). Also how far through its reference window each
     episode got (``clip_fraction``) and, where the reference turns over, the share of episodes
     that carried the full rotation through (``rotation_completed_rate``; eval/clip_progress.py).
  2. one episode from phase 0 (no RSI), recorded: `plots/reward_terms.png` (each term and the
     product over time), `eval/episode.json` (observations, actions, rewards, dones, terms,
     errors per step) and, with `video=True`, `videos/policy.mp4`: the episode beside the clip
     from phase 0 (viz/motion.py: MuJoCo rendering, else a matplotlib stick figure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from imitate.eval.clip_progress import ClipProgress


class MotionRecorder:
    """Root and body positions of the policy and of its reference, per env, while episodes run."""

    CLIP_KEYS = ("root_speed_m_s", "root_acc_m_s2", "root_jerk_m_s3", "sparc_root_vel_axes", "sparc_root_speed")

    def __init__(self, env):
        self.env = env
        self.policy: list[np.ndarray] = []  # per step (N, 15, 3) m
        self.reference: list[np.ndarray] = []
        self.active: list[np.ndarray] = []  # per step (N,) bool

    def before_step(self, active: torch.Tensor) -> None:
        """Keep this step's starting state of every env (the active mask picks episodes later)."""
        from imitate.tasks.humanoid.tracking import motion, reference

        env = self.env
        self.policy.append(env.sim.body_pos().copy())
        self.reference.append(reference(env, motion(env), env.buffers["time_s"]).body_pos)
        self.active.append(active.cpu().numpy().copy())

    def metrics(self, returns: np.ndarray, fell: np.ndarray) -> tuple[dict[str, Any], list[dict[str, float]]]:
        """Flat summary (policy ``motion_*``, reference ``motion_clip_*``) and per-episode rows."""
        from imitate.eval import motion_metrics as mm

        if not self.policy:
            return {}, []
        pol, ref, act = np.stack(self.policy, 1), np.stack(self.reference, 1), np.stack(self.active, 1)
        dt_s = self.env.sim.dt_s
        rows, clip_rows = [], []
        for i in range(pol.shape[0]):
            steps = act[i]  # True for a prefix of the steps: one episode per env
            p, r = pol[i, steps], ref[i, steps]
            rows.append(mm.episode_metrics(p[:, 0], dt_s, p, r, fell=bool(fell[i])))
            clip = mm.episode_metrics(r[:, 0], dt_s)
            clip_rows.append({k: clip[k] for k in self.CLIP_KEYS})
        flat = mm.flatten_summary(mm.summarize(rows, returns), "motion_")
        flat.update(mm.flatten_summary(mm.summarize(clip_rows, returns), "motion_clip_"))
        return flat, rows


@torch.no_grad()
def rollout_tracking(model, env, seed: int, record: bool = False, motion_metrics: bool = False) -> dict[str, Any]:
    """One episode per env (deterministic actions); per-env means over each episode's steps.
    With `record`, also keeps env 0's per-step data and qpos for a video; with `motion_metrics`,
    NEAR's motion metrics (module docstring; per-episode rows under "motion_episodes")."""
    n = env.num_envs
    obs = env.reset(seed=seed)
    active = torch.ones(n, dtype=torch.bool)
    length = torch.zeros(n)
    ret = torch.zeros(n)
    success = torch.zeros(n, dtype=torch.bool)
    fell = torch.zeros(n, dtype=torch.bool)
    recorder = MotionRecorder(env) if motion_metrics else None
    progress = ClipProgress(env)
    sums: dict[str, torch.Tensor] = {}
    from imitate.tasks.humanoid import tracking

    def reference_qpos() -> list[float]:  # env 0's reference now, in its episode's frame
        now = env.buffers["time_s"][:1]
        return tracking.reference(env, tracking.motion(env), now, ids=slice(0, 1)).qpos[0].tolist()

    rec: dict[str, list] = {
        "obs": [obs[0].tolist()],
        "qpos": [env.sim.qpos[0].tolist()],
        "reference_qpos": [reference_qpos()] if record else [],
        "action": [],
        "reward": [],
        "done": [],
        "terms": [],
        "errors": [],
    }
    for _ in range(env.max_episode_steps):
        if recorder is not None:
            recorder.before_step(active)
        progress.before_step(active)
        action = model.act(obs, deterministic=True)
        step = env.step(action)
        w = active.float()
        length += w
        ret += step.reward * w
        success |= step.success & active
        fell |= step.terminated & ~step.success & active
        for key, value in step.extras.items():
            if key.startswith(("reward/", "error/")) and key != "reward/tracking":  # the product: step.reward
                sums[key] = sums.get(key, torch.zeros(n)) + value.float() * w
        sums["reward/tracking"] = sums.get("reward/tracking", torch.zeros(n)) + step.reward * w
        if record and bool(active[0]):
            rec["obs"].append(step.final_obs[0].tolist())
            rec["action"].append(action[0].clamp(-1, 1).tolist())
            rec["reward"].append(float(step.reward[0]))
            rec["done"].append(bool(step.done[0]))
            rec["terms"].append(
                {
                    k[7:]: float(v[0])
                    for k, v in step.extras.items()
                    if k.startswith("reward/") and k != "reward/tracking"
                }
            )
            rec["errors"].append({k[6:]: float(v[0]) for k, v in step.extras.items() if k.startswith("error/")})
            if not bool(step.done[0]):
                rec["qpos"].append(env.sim.qpos[0].tolist())
                rec["reference_qpos"].append(reference_qpos())
        active &= ~step.done
        obs = step.obs
        if not active.any():
            break
    steps = length.clamp_min(1.0)
    metrics: dict[str, Any] = {
        "success_rate": float(success.float().mean()),
        "episode_length": float(length.mean()),
        "return": float(ret.mean()),
        "episodes": n,
        **progress.metrics(length.numpy()),
    }
    for key, total in sums.items():
        name = key.replace("reward/", "reward_").replace("error/", "tracking_error_")
        metrics[name] = float((total / steps).mean())
    out: dict[str, Any] = {"metrics": metrics, "record": rec if record else None}
    if recorder is not None:
        motion, rows = recorder.metrics(ret.numpy().astype(np.float64), fell.numpy())
        metrics.update(motion)
        out["motion_episodes"] = rows
    return out


def plot_reward_terms(record: dict, path: Path, title: str = "") -> Path:
    """Each reward term (and their product) over the recorded episode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imitate.utils.io import atomic_write

    terms = record["terms"]
    t = np.arange(1, len(terms) + 1) / 30.0
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name in terms[0] if terms else {}:
        ax.plot(t, [x[name] for x in terms], label=name, lw=1.2)
    ax.plot(t, record["reward"], label="tracking (product)", color="k", lw=2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("reward term")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "tracking reward terms over an episode")
    ax.legend(fontsize=8, loc="lower left", ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buf.getvalue()))
    return path


class ImitationRecorder:
    """NEAR's protocol on the imitation-from-observation humanoid (``tasks/humanoid/imitation.py``),
    as an observer of the evaluation rollout: each episode is compared with the clip window it
    started from (the same clip, from the reset time, as long as the episode). Pose errors are
    root-relative in each root's heading frame, since every episode starts at a random yaw.
    Summaries: top-20 by return beside all episodes (``motion_*``), the clip's own values beside
    them (``motion_clip_*``), and the fall rate."""

    def __init__(self, env) -> None:
        self.env = env
        self.body: list[np.ndarray] = []  # per step (N, 15, 3) m, the state the step starts from
        self.qpos: list[np.ndarray] = []  # per step (N, 35): the root orientation and the video
        self.alive: list[np.ndarray] = []  # per step (N,) bool
        self.returns = torch.zeros(env.num_envs)
        self.fell = torch.zeros(env.num_envs, dtype=torch.bool)
        self.start: tuple[np.ndarray, np.ndarray] | None = None
        self.frame: tuple[np.ndarray, ...] = ()  # each episode's (yaw, pivot, origin) at reset

    def before_step(self, active: torch.Tensor) -> None:
        env = self.env
        if self.start is None:  # the clip and time each episode started from, and its frame
            self.start = (env.buffers["clip_ids"].copy(), env.buffers["time_s"].copy())
            self.frame = tuple(env.buffers[k].copy() for k in ("yaw", "pivot", "origin"))
        self.body.append(env.sim.body_pos().copy())
        self.qpos.append(self.scene_qpos())
        self.alive.append(active.cpu().numpy().copy())

    def scene_qpos(self) -> np.ndarray:
        """(N, nq) what a video replays: the character's coordinates (a goal task adds its props')."""
        from imitate.data.motion.humanoid_model import NQ

        return self.env.sim.qpos[:, :NQ].copy()

    def after_step(self, step, active: torch.Tensor) -> None:
        self.returns += (step.reward * active).cpu()
        self.fell |= (active & step.terminated & ~step.success).cpu()

    def metrics(self) -> dict[str, Any]:
        from imitate.eval import motion_metrics as mm
        from imitate.tasks.humanoid.common import clip_states_qpos
        from imitate.tasks.humanoid.imitation import motion_library

        assert self.start is not None, "no step was recorded"
        clip_ids, start_s = self.start
        pol, pq, act = np.stack(self.body, 1), np.stack(self.qpos, 1)[..., 3:7], np.stack(self.alive, 1)  # (N, T, ...)
        lib, dt_s = motion_library(self.env), self.env.sim.dt_s
        rows, clip_rows = [], []
        for i in range(len(pol)):
            t = int(act[i].sum())  # one episode per env: a prefix of the steps
            times = start_s[i] + dt_s * np.arange(t)
            ref_qpos, ref_body = clip_states_qpos(lib, np.full(t, clip_ids[i]), times)
            rows.append(
                mm.episode_metrics(
                    pol[i, :t, 0],
                    dt_s,
                    pol[i, :t],
                    ref_body,
                    fell=bool(self.fell[i]),
                    policy_root_quat=pq[i, :t],
                    clip_root_quat=ref_qpos[:, 3:7],
                )
            )
            clip = mm.episode_metrics(ref_body[:, 0], dt_s)
            clip_rows.append({k: clip[k] for k in MotionRecorder.CLIP_KEYS})
        ret = self.returns.numpy()
        metrics = mm.flatten_summary(mm.summarize(rows, ret), "motion_")
        metrics.update(mm.flatten_summary(mm.summarize(clip_rows, ret), "motion_clip_"))
        metrics["fall_rate"] = float(self.fell.float().mean())
        return metrics

    def source_pose_errors(self, sources) -> dict[str, Any]:
        """A composed policy's pose error against each source (``eval/source_pose.py``), on the
        bodies of that source's mask."""
        from imitate.eval.source_pose import source_pose_errors

        pol, quat, alive = np.stack(self.body, 1), np.stack(self.qpos, 1)[..., 3:7], np.stack(self.alive, 1)
        return source_pose_errors(pol, quat, alive, self.returns.numpy(), self.env.sim.dt_s, sources)

    def video_panels(self, title: str = "policy") -> tuple[list[tuple[str, np.ndarray]], str]:
        """The highest-return episode (left) and the clip window it started from (right): the
        same clip, from the reset time, as long as the episode, placed in the episode's frame (so
        both start from the same pose, seen from the same side); and a line saying so."""
        from imitate.tasks.humanoid.common import move_to_frame
        from imitate.tasks.humanoid.imitation import motion_library

        assert self.start is not None, "no step was recorded"
        clip_ids, start_s = self.start
        best = int(self.returns.argmax())
        steps = int(np.stack(self.alive, 1)[best].sum())
        policy = np.stack(self.qpos, 1)[best, :steps]
        lib = motion_library(self.env)
        times = start_s[best] + self.env.sim.dt_s * np.arange(steps)
        reference = lib.state(np.full(steps, clip_ids[best]), times, with_bodies=False).qpos()
        move_to_frame(reference, *(np.repeat(a[best : best + 1], steps, axis=0) for a in self.frame))
        reference = self.reference_scene(reference, policy)
        source = f"{lib.names[clip_ids[best]]} from {start_s[best]:.2f} s"
        layout = f"left: {title} (episode {best}, the highest return); right: {source}"
        return [(title, policy), (source, reference)], layout

    def reference_scene(self, reference: np.ndarray, policy: np.ndarray) -> np.ndarray:
        """The clip panel's coordinates beside the policy's ``policy`` (the character alone here)."""
        return reference

    props_xml = ""  # MJCF of the props a video draws beside the character (goal tasks)

    def write_video(self, path: Path, title: str = "policy") -> dict[str, Any]:
        """``video_panels`` side by side, each followed by its own camera."""
        from imitate.viz.motion import write_side_by_side_video

        panels, layout = self.video_panels(title)
        written, used = write_side_by_side_video(panels, path, fps=1 / self.env.sim.dt_s, props=self.props_xml)
        return {"video": str(written), "video_renderer": used, "video_layout": layout}


class GoalRecorder(ImitationRecorder):
    """``ImitationRecorder`` on a goal task (``tasks/humanoid/goals.py``), with the goal's metrics:
    ``goal_success_rate``, the share of episodes that achieved their goal at some step (reached the
    target, knocked the box over with a hand), whether or not they fell afterwards, and
    ``goal_time_s``, the mean time (s) from the reset to that step over those episodes (None when
    none did). The video draws the props: the target as a red disc, the strike box; the clip panel
    shows the character alone (its props under the floor)."""

    def __init__(self, env) -> None:
        from imitate.tasks.humanoid.goals import VIDEO_PROPS

        super().__init__(env)
        self.props_xml, self._props_qpos = VIDEO_PROPS[env.spec.name]
        self.goal_s = np.full(env.num_envs, -1.0)  # per episode: when the goal was achieved

    def scene_qpos(self) -> np.ndarray:
        return np.concatenate([super().scene_qpos(), self._props_qpos(self.env)], axis=1)

    def after_step(self, step, active: torch.Tensor) -> None:
        super().after_step(step, active)
        goal_s, alive = step.extras["goal_s"].cpu().numpy(), active.cpu().numpy()
        first = alive & (goal_s >= 0) & (self.goal_s < 0)
        self.goal_s[first] = goal_s[first]

    def metrics(self) -> dict[str, Any]:
        metrics = super().metrics()
        reached = self.goal_s >= 0
        metrics["goal_success_rate"] = float(reached.mean())
        metrics["goal_time_s"] = float(self.goal_s[reached].mean()) if reached.any() else None
        return metrics

    def reference_scene(self, reference: np.ndarray, policy: np.ndarray) -> np.ndarray:
        from imitate.tasks.humanoid.goals import HIDDEN_Z_M

        props = policy[: len(reference), reference.shape[1] :].copy()
        props[:, 2::7] = HIDDEN_Z_M  # each free prop's z
        return np.concatenate([reference, props], axis=1)


def rollout_imitation(model, env, seed: int) -> dict[str, Any]:
    """The evaluation rollout of a humanoid imitation policy with ``ImitationRecorder`` watching:
    success, length, return and NEAR's motion metrics."""
    from imitate.eval.rollouts import evaluate_policy

    recorder = ImitationRecorder(env)
    result = evaluate_policy(model, env, seed=seed, observer=recorder)
    return {**result.metrics(), **recorder.metrics()}
