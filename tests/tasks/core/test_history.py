"""Observation history (history=K): the same frame layout from demonstrations and from a running
env, the first frame tiled at reset, and BC runs that train and evaluate with it."""

import json

import torch

from imitate.cli import main
from imitate.data.history import stack_history
from imitate.tasks.core.history import HistoryEnv
from imitate.tasks.particle import ParticleEnv


def test_stack_history_tiles_each_episode_start_and_orders_oldest_first():
    obs = torch.arange(5.0)[:, None]  # two episodes: frames 0 1 2 | 3 4
    stacked = stack_history(obs, [3, 5], 3)
    assert stacked.tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [3, 3, 3], [3, 3, 4]]
    assert stack_history(obs, [3, 5], 1) is obs


def test_history_env_matches_stacking_of_its_own_frames():
    env = HistoryEnv(ParticleEnv(3, seed=0), 2)
    seen = [env.reset(seed=0)]
    frames = [seen[0][:, 8:]]  # the newest frame (obs_dim 8 for n_dim=2)
    assert torch.equal(seen[0][:, :8], seen[0][:, 8:])  # tiled at reset
    ended = None
    for _ in range(env.max_episode_steps + 1):
        step = env.step(torch.zeros(3, 2))
        if step.done.any():
            ended = step
            break
        seen.append(step.obs)
        frames.append(step.obs[:, 8:])
    traj = torch.stack(frames, 1)[0]  # env copy 0, raw frames
    assert torch.equal(stack_history(traj, [len(traj)], 2), torch.stack(seen, 1)[0])
    assert ended is not None
    done = ended.done
    assert torch.equal(ended.obs[done][:, :8], ended.obs[done][:, 8:])  # new episode tiled
    assert torch.equal(ended.final_obs[done][:, :8], seen[-1][done][:, 8:])  # final obs before the reset


def test_bc_runs_train_and_evaluate_with_history(tmp_path, capsys):
    tiny = [
        "iterations=30",
        "demo_episodes=8",
        "eval_episodes=4",
        "width=16",
        "checkpoint_every=10",
        "progress=false",
        f"out_dir={tmp_path}",
        "history=2",
    ]
    for algo in ("mse", "ibc-dfo"):
        assert (
            main(
                ["train", "particle", algo, *tiny, "dfo_samples=32"]
                if algo == "ibc-dfo"
                else ["train", "particle", algo, *tiny]
            )
            == 0
        )
        (run,) = [p.parent for p in (tmp_path / "particle" / algo).rglob("config.yaml")]
        assert "history: 2" in (run / "config.yaml").read_text()
        state = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
        assert state["trainer"]["policy"]["normalizer.obs_mean"].shape == (16,)  # 2 frames of 8
        capsys.readouterr()
        assert main(["eval", str(run), "--episodes", "3"]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["episodes"] == 3
        assert (run / "plots" / "trajectories.png").is_file()
