"""CEM planning: state tiling, finding a known optimum, beating random actions, the CLI run."""

import json
from pathlib import Path

import torch

from imitate.algos.cem import CEMPlanner, tile_state
from imitate.cli import main
from imitate.tasks.core.vecenv import StepResult
from imitate.tasks.maze import GOAL, MazeEnv


class PointEnv:
    """Batched 2-D integrator p += 0.1·a with save/restore; never terminates within the test."""

    obs_dim = act_dim = style_dim = 2
    max_episode_steps = 1000

    def __init__(self, num_envs: int):
        self.num_envs, self.device = num_envs, torch.device("cpu")
        self.pos = torch.zeros(num_envs, 2)

    def step(self, action):
        prev = self.pos.clone()
        self.pos = self.pos + 0.1 * action.clamp(-1, 1)
        n = self.num_envs
        no = torch.zeros(n, dtype=torch.bool)
        return StepResult(
            obs=self.pos.clone(),
            reward=torch.zeros(n),
            terminated=no,
            truncated=no,
            final_obs=self.pos.clone(),
            success=no,
            transition=torch.cat([prev, self.pos], -1),
        )

    def get_state(self):
        return {"pos": self.pos.clone()}

    def set_state(self, state):
        self.pos = state["pos"].clone()


TARGET = torch.tensor([0.5, -0.3])


def closeness(transitions):  # higher is better: −distance of the reached point to TARGET
    return -(transitions[:, 2:] - TARGET).norm(dim=-1)


def test_tile_state_repeats_per_env_entries_only():
    env = MazeEnv(3, seed=0)
    env.reset()
    state = env.get_state()
    tiled = tile_state(state, 3, 4)
    pos = state["sim.pos"]
    assert tiled["sim.pos"].shape == (12, 2) and torch.equal(tiled["sim.pos"][4:8], pos[1].expand(4, 2))
    assert tiled["rng"] is state["rng"]  # the generators' state is global
    big = MazeEnv(12, seed=1)
    big.set_state(tiled)
    assert torch.equal(big.sim.pos[8:], pos[2].expand(4, 2))


def test_cem_finds_known_optimum_and_beats_random():
    P, S, H, iters = 3, 64, 8, 4
    planner = CEMPlanner(
        PointEnv(P * S), closeness, P, horizon=H, samples=S, elite_frac=0.1, iterations=iters, init_std=0.5, seed=0
    )
    start = {"pos": torch.tensor([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])}
    action = planner.plan(start)  # (P, 2)
    plan = torch.cat([action[:, None], planner.mean[:, :-1]], 1)  # (P, H, 2): undo the warm-start shift
    tiled = tile_state(start, P, S)
    plan_score = planner.rollout_scores(tiled, plan[:, None].expand(-1, S, -1, -1).contiguous())[:, 0]
    # the same budget of purely random sequences: best of iters × S
    g = torch.Generator().manual_seed(1)
    random_best = torch.stack(
        [planner.rollout_scores(tiled, torch.rand(P, S, H, 2, generator=g) * 2 - 1) for _ in range(iters)], 1
    ).amax(dim=(1, 2))
    assert (plan_score > random_best).all(), (plan_score, random_best)
    # the optimum moves at full speed straight towards the target: so does the first action
    direction = TARGET - start["pos"]
    cos = torch.nn.functional.cosine_similarity(action, direction, dim=-1)
    assert (cos > 0.9).all(), cos
    assert (action.norm(dim=-1) > 0.8).all()


def test_cem_reaches_maze_goal_with_a_distance_score():
    """Planning through MazeEnv's own save/restore: a goal-distance score reaches the goal."""
    P, S = 2, 32
    goal = torch.tensor(GOAL)
    planner = CEMPlanner(
        MazeEnv(P * S, seed=1), lambda t: -(t[:, 2:] - goal).norm(dim=-1), P, horizon=4, samples=S, iterations=2, seed=0
    )
    real = MazeEnv(P, seed=0)
    real.reset(seed=0)
    done = torch.zeros(P, dtype=torch.bool)
    for _ in range(15):
        step = real.step(planner.plan(real.get_state()))
        done |= step.success
        if done.all():
            break
    assert done.all()


def test_cli_cem_run(tmp_path):
    energy = ["iterations=40", "demo_episodes=8", "hidden=32,32", "checkpoint_every=20", "progress=false"]
    assert main(["train", "maze", "energy", f"out_dir={tmp_path}", *energy]) == 0
    (energy_run,) = sorted(p.parent for p in Path(tmp_path).rglob("config.yaml"))
    assert (
        main(
            [
                "train",
                "maze",
                "cem",
                f"energy={energy_run}",
                f"out_dir={tmp_path}",
                "eval_episodes=2",
                "samples=16",
                "horizon=3",
                "iterations=2",
                "max_steps=4",
                "progress=false",
            ]
        )
        == 0
    )
    (run,) = sorted(p.parent for p in (Path(tmp_path) / "maze" / "cem").rglob("config.yaml"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["algo"] == "cem" and metrics["episodes"] == 2 and 0 <= metrics["success_rate"] <= 1
    assert metrics["episode_length"] <= 4 and metrics["seconds_per_episode"] > 0
    assert (run / "plots" / "trajectories.png").is_file()
    # a missing energy run fails in one line and leaves no run behind
    assert main(["train", "maze", "cem", f"energy={tmp_path}/nope", f"out_dir={tmp_path}/x"]) != 0
    assert not (Path(tmp_path) / "x").exists()
