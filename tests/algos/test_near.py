"""NEAR's noise-level knob (``noise_level``): the named σ of either NCSN ladder, and its check."""

import pytest

from imitate.algos.energy_config import NCSN_LEVELS, named_level
from imitate.algos.near import fixed_level
from imitate.config import ConfigError
from imitate.runner import resolve_config


@pytest.mark.parametrize("version, expected", [("v2", (0, 25, 49)), ("v1", (0, 5, 9))])
def test_named_levels_of_each_ladder(version, expected):
    n = NCSN_LEVELS[version]
    assert tuple(named_level(name, n) for name in ("largest", "middle", "smallest")) == expected


def test_noise_level_fixes_the_named_level_and_fixed_level_wins_alone():
    cfg = resolve_config("maze", "near", {"noise_level": "middle"}, check_inputs=False)
    assert fixed_level(cfg, 50) == 25 and fixed_level(cfg, 10) == 5
    assert fixed_level(resolve_config("maze", "near", {}, check_inputs=False), 50) is None  # annealed
    assert fixed_level(resolve_config("maze", "near", {"fixed_level": "7"}, check_inputs=False), 50) == 7
    with pytest.raises(ConfigError, match="both fix the noise level"):
        resolve_config("maze", "near", {"noise_level": "smallest", "fixed_level": "3"}, check_inputs=False)
    with pytest.raises(ConfigError, match="noise_level must be one of annealed, largest, middle, smallest"):
        resolve_config("maze", "near", {"noise_level": "tiny"}, check_inputs=False)


def test_a_near_run_holds_the_named_level(tmp_path):
    """A tiny v1 run at noise_level=middle logs level 5 of 10 at every iteration."""
    import json

    from imitate.runner import train

    energy = train(
        "maze",
        "energy",
        {
            "version": "v1",
            "iterations": 20,
            "demo_episodes": 8,
            "hidden": "16,16",
            "out_dir": str(tmp_path),
            "progress": False,
        },
    )
    near = train(
        "maze",
        "near",
        {
            "energy": str(energy.dir),
            "noise_level": "middle",
            "num_envs": 8,
            "rollout_steps": 8,
            "total_steps": 192,
            "minibatches": 2,
            "epochs": 1,
            "hidden": "16,16",
            "eval_episodes": 1,
            "out_dir": str(tmp_path),
            "progress": False,
        },
    )
    rows = [json.loads(line) for line in (near.dir / "progress.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and {r["near/sigma_level"] for r in rows} == {5}
