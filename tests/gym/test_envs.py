"""gymnasium interop: every registry task as ``imitate/<Task>-v0``, single (``gym.make``) and
batched (``gym.make_vec(..., vectorization_mode="vector_entry_point")``)."""

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import imitate  # noqa: F401  (registers the ids)
from imitate.gym import gym_id, gym_ids
from imitate.registry import TASKS, get_task

IDS = sorted(gym_ids())
# check_env's only complaint: the tasks declare no observation bounds (gym/envs.py)
UNBOUNDED = "A Box observation space m"


def test_every_registry_task_has_an_id_by_the_documented_rule():
    assert set(gym_ids().values()) == set(TASKS)
    assert gym_id("block-push") == "imitate/BlockPush-v0"
    assert gym_id("humanoid-walk") == "imitate/HumanoidWalk-v0"
    assert gym_id("pusht") == "imitate/PushT-v0" and gym_id("maze") == "imitate/Maze-v0"
    assert all(i in gym.registry for i in IDS)


def test_registering_imports_no_torch():
    code = (
        "import sys, imitate, gymnasium as gym; "
        "assert 'imitate/PushT-v0' in gym.registry; "
        "assert not [m for m in sys.modules if m == 'torch' or m.startswith('imitate.tasks')], sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("env_id", IDS)
def test_check_env_passes(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    env.close()
    others = [str(w.message) for w in caught if UNBOUNDED not in str(w.message)]
    assert others == []


@pytest.mark.parametrize("env_id", IDS)
def test_single_env_steps_seeding_and_episode_end(env_id):
    env = gym.make(env_id)
    obs1, _ = env.reset(seed=7)
    obs2, _ = env.reset(seed=7)
    assert np.array_equal(obs1, obs2) and obs1.dtype == np.float32 and env.observation_space.contains(obs1)
    horizon = env.unwrapped.max_episode_steps
    rng = np.random.default_rng(0)
    steps, terminated, truncated = 0, False, False
    while not (terminated or truncated) and steps < horizon:
        obs, reward, terminated, truncated, info = env.step(
            rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        )
        steps += 1
        assert env.observation_space.contains(obs) and isinstance(reward, float)
        assert "is_success" in info and not (terminated and truncated)
    assert terminated or truncated  # the episode ends by the horizon
    assert (not truncated) or steps == horizon  # cut only at the env's own horizon
    if info["is_success"]:
        assert terminated
    env.close()


def test_task_options_are_keyword_arguments():
    env = gym.make("imitate/Particle-v0", n_dim=3)
    assert env.observation_space.shape == (12,) and env.action_space.shape == (3,)
    with pytest.raises(ValueError, match="n_dim"):
        gym.make("imitate/Particle-v0", n_dim=0)
    with pytest.raises(ValueError, match="valid keys"):
        gym.make("imitate/Maze-v0", no_such_option=1)


def test_pusht_success_is_a_termination():
    from imitate.tasks.pusht import GOAL_POSE, place

    env = gym.make("imitate/PushT-v0")
    env.reset(seed=0)
    place(env.unwrapped._env, 0, (40.0, 40.0), GOAL_POSE)
    _, reward, terminated, truncated, info = env.step(np.array([40 / 256 - 1, 40 / 256 - 1], np.float32))
    assert terminated and not truncated and info["is_success"] and reward == pytest.approx(1.0)
    assert info["coverage"] > 0.95


@pytest.mark.parametrize("task", ["particle", "maze"])
def test_vector_env_is_the_batched_env_with_same_step_autoreset(task):
    """Step for step, the VectorEnv returns what the batched env returns, as numpy, with the
    finished copies' last observation and info under final_obs / final_info."""
    n = 4
    vec = gym.make_vec(gym_id(task), num_envs=n, vectorization_mode="vector_entry_point")
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    assert vec.observation_space.shape == (n, vec.single_observation_space.shape[0])
    ref = get_task(task).make_env(n, seed=0)
    obs, info = vec.reset(seed=3)
    assert info == {} and np.array_equal(obs, ref.reset(seed=3).numpy()) and obs.dtype == np.float32
    rng = np.random.default_rng(1)
    ended = 0
    for _ in range(ref.max_episode_steps + 1):
        action = rng.uniform(-1, 1, vec.action_space.shape).astype(np.float32)
        obs, reward, terminated, truncated, info = vec.step(action)
        r = ref.step(torch.from_numpy(action))
        assert np.array_equal(obs, r.obs.numpy()) and np.array_equal(reward, r.reward.numpy())
        assert np.array_equal(terminated, r.terminated.numpy()) and np.array_equal(truncated, r.truncated.numpy())
        assert reward.dtype == np.float32 and terminated.dtype == bool and vec.observation_space.contains(obs)
        done = terminated | truncated
        assert np.array_equal(info["_is_success"], ~done)
        if done.any():
            ended += int(done.sum())
            assert np.array_equal(info["_final_obs"], done)
            for i in np.flatnonzero(done):
                assert np.array_equal(info["final_obs"][i], r.final_obs[i].numpy())
            assert np.array_equal(info["final_info"]["is_success"][done], r.success[done].numpy())
        else:
            assert "final_obs" not in info
    assert ended >= n  # every copy finished at least one episode (the horizon was passed)
    vec.close()


def test_vector_env_seeding():
    vec = gym.make_vec("imitate/Maze-v0", num_envs=3, vectorization_mode="vector_entry_point")
    a, _ = vec.reset(seed=5)
    b, _ = vec.reset(seed=5)
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="one int"):
        vec.reset(seed=[1, 2, 3])


def test_sb3_ppo_learns_a_few_steps():
    """stable-baselines3 trains on an id and predicts actions in its space (a smoke run)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make("imitate/Particle-v0")
    sb3_check_env(env.unwrapped, warn=False)
    model = PPO(
        "MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu", policy_kwargs={"net_arch": [16]}
    )
    model.learn(total_timesteps=128)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action.astype(np.float32))
    assert model.num_timesteps >= 128
