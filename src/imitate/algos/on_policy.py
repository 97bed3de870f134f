"""The one on-policy loop: PPO on a task with a reward plug-in (docs/architecture.md#principles).

Plain PPO, NEAR step 2, AMP and DeepMimic are this loop; only ``make_reward(task, cfg, env)``
differs, and every one of them returns a composed reward (``rewards/compose.py``). A run is
new or resumed exactly: the checkpoint is loaded into the freshly built PPO (and its reward)
before the run is touched (``Run.begin``), and a new run that fails before its first
checkpoint is removed (``utils.run.guarded``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from imitate.algos.train_video import TrainingVideo, require_character
from imitate.rewards.compose import ComposedReward, task_reward
from imitate.utils.run import Run, fits_checkpoint, guarded
from imitate.utils.seeding import restore_rng

MakeReward = Callable[[Any, Any, Any], Any]  # (task, cfg, env) -> RewardModule


def train_policy(
    task, algo_name: str, cfg: Any, run: Run | None, state: dict | None, make_reward: MakeReward
) -> tuple[Run, dict]:
    """PPO on ``task`` with the reward module ``make_reward(task, cfg, env)`` builds.

    ``make_reward`` may fill config fields it resolves, before the run's config is saved."""
    from imitate.algos.ppo import PPO

    env = task.make_env(cfg.num_envs, seed=cfg.seed, device=cfg.device, cfg=cfg)
    if cfg.video_every:
        require_character(env, task.name)
    reward = make_reward(task, cfg, env)
    ppo = PPO(env, cfg, reward)
    if state is not None:
        with fits_checkpoint():
            ppo.load_state_dict(state["ppo"])
    run = run or Run.create(task.name, algo_name, cfg)
    run.begin(cfg, state)
    started = time.time() - (state or {}).get("train_seconds", 0.0)
    with guarded(run):
        restore_rng(state)
        logger = run.logger()
        video = TrainingVideo(env, cfg.video_every, run.dir / "videos", logger.log_video) if cfg.video_every else None
        try:
            ppo.train(
                log=logger.log,
                checkpoint=lambda s: run.save_checkpoint(
                    {"ppo": s, "train_seconds": time.time() - started},
                    iteration=s["iteration"],
                    log_step=s["global_step"],
                ),
                snapshot=lambda s: run.save_snapshot(
                    {"ppo": s, "train_seconds": time.time() - started}, step=s["global_step"], iteration=s["iteration"]
                ),
                observer=video,
            )
        finally:
            if video is not None:
                video.close()
            logger.close()
    return run, {"train_seconds": round(time.time() - started, 1), "env_steps": ppo.global_step}


def evaluate_policy_run(run: Run, task, cfg: Any, episodes: int, video: bool = False) -> dict[str, Any]:
    """Roll out a PPO run's policy deterministically; success, length, return, trajectory plot;
    with ``video``, a video of those episodes (``videos/policy.mp4``): the task's rollout observer's
    where it writes one (the humanoid: the best episode beside its clip), else the task's own."""
    from imitate.algos.demos import demo_trajectories
    from imitate.algos.labelled_runs import composed_sources
    from imitate.algos.ppo import load_policy
    from imitate.eval.rollouts import Observers, episode_extras, evaluate_policy
    from imitate.eval.source_pose import Source

    model = load_policy(run, task, cfg)
    env = task.make_env(episodes, seed=cfg.seed + 10_000, cfg=cfg)
    observer = task.make_rollout_observer(env)  # task-specific records of the same rollout
    recorder = task.make_video_recorder(env) if video else None  # what the task's video draws
    result = evaluate_policy(model, env, seed=cfg.seed + 10_000, observer=Observers(observer, recorder))
    metrics: dict[str, Any] = dict(result.metrics())
    observer_video = video and task.observer_video  # the observer writes it (below), not the task
    title = f"{run.algo} policy"
    metrics.update(
        episode_extras(task, cfg, result.trajectories, run.dir, video and not observer_video, title, recorder)
    )
    if task.plot or task.metrics:
        demos = demo_trajectories(run, cfg, task)
        task.plot_trajectories(
            result.trajectories, demos, run.plots_dir / "trajectories.png", title=f"{run.algo} policy"
        )
        if demos:
            metrics.update(task.trajectory_metrics(result.trajectories, demos))
    if observer is not None:
        metrics.update(observer.metrics())
        sources = composed_sources(cfg)
        if sources and hasattr(observer, "source_pose_errors"):  # a composed humanoid policy
            metrics.update(observer.source_pose_errors([Source(*s) for s in sources]))
    if observer_video:
        metrics.update(observer.write_video(run.dir / "videos" / "policy.mp4", title=title))
    return metrics


def make_task_reward(task, cfg, env) -> ComposedReward:
    """Plain PPO's reward: the task reward (+ ``success_bonus`` on success terminations)."""
    return task_reward(getattr(cfg, "success_bonus", 0.0))
