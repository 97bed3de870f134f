"""The old ``imitate.tasks.gym_register`` path keeps working (tests/gym/ tests the ids themselves)."""

import subprocess
import sys

import pytest

OLD = ["imitate/Maze-v0", "imitate/PushT-v0"]


@pytest.mark.parametrize("env_id", OLD)
def test_old_module_id_form_still_makes_the_env(env_id):
    code = (
        "import gymnasium as gym; "
        f"env = gym.make('imitate.tasks.gym_register:{env_id}'); "
        "obs, _ = env.reset(seed=0); assert env.observation_space.contains(obs); "
        "assert 'imitate/Particle-v0' in gym.registry"  # and every other id with it
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_package_module_id_form():
    code = "import gymnasium as gym; env = gym.make('imitate:imitate/BlockPush-v0'); env.reset(seed=0)"
    subprocess.run([sys.executable, "-c", code], check=True)
