"""Config overrides: types, unknown keys, validation, presets."""

import pytest

from imitate.algos.near_config import NEARConfig
from imitate.algos.ppo_config import PPOConfig
from imitate.config import ConfigError, apply_overrides, parse_overrides
from imitate.runner import resolve_config


def test_overrides_parse_by_type():
    cfg = apply_overrides(
        NEARConfig(),
        parse_overrides(["num_envs=64", "lr=1e-3", "norm_obs=false", "hidden=64,32", "energy=runs/x", "fixed_level=3"]),
        "t",
    )
    assert (cfg.num_envs, cfg.lr, cfg.norm_obs, cfg.hidden, cfg.energy, cfg.fixed_level) == (
        64,
        1e-3,
        False,
        (64, 32),
        "runs/x",
        3,
    )


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown key 'nope'.*valid keys: .*num_envs"):
        apply_overrides(PPOConfig(), {"nope": "1"}, "t")


@pytest.mark.parametrize(
    "key, value", [("num_envs", "abc"), ("num_envs", "1.5"), ("lr", "fast"), ("norm_obs", "maybe"), ("hidden", "a,b")]
)
def test_wrong_type_is_refused_with_valid_keys(key, value):
    with pytest.raises(ConfigError, match=rf"{key} expects .*valid keys"):
        apply_overrides(PPOConfig(), {key: value}, "t")


def test_validation():
    with pytest.raises(ConfigError, match="num_envs must be at least 1"):
        resolve_config("maze", "ppo", {"num_envs": "0"})
    with pytest.raises(ConfigError, match="version"):
        resolve_config("maze", "energy", {"version": "v3"})
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["num_envs"])


def test_preset_then_override():
    cfg = resolve_config("maze", "near", {"seed": "4"})
    assert cfg.seed == 4 and cfg.w_task == 0.5 and cfg.w_energy == 0.5


def test_task_options_are_a_group_reached_by_short_or_dotted_keys():
    cfg = resolve_config(
        "particle", "mse", {"n_dim": "4", "task_options.goal_order": "either", "lr": "1e-3"}, check_inputs=False
    )
    assert (cfg.task_options.n_dim, cfg.task_options.goal_order, cfg.lr) == (4, "either", 1e-3)
    with pytest.raises(ConfigError, match=r"n_dim must be in \[1, 64\]"):
        resolve_config("particle", "mse", {"n_dim": "0"}, check_inputs=False)
    with pytest.raises(ConfigError, match="valid keys: .*task_options.n_dim"):
        resolve_config("particle", "mse", {"n_dimm": "3"}, check_inputs=False)


def test_nested_group_keys_ambiguity_and_renamed_keys():
    from dataclasses import dataclass, field

    from imitate.config import Checked, RunConfig, apply_overrides, option

    @dataclass
    class Group(Checked):
        lr: float = option(1.0, "a rate", gt=0)
        width: int = option(8, "a size", ge=1)

    @dataclass
    class Two(RunConfig):
        lr: float = option(0.5, "top-level rate", gt=0)
        a: Group = field(default_factory=Group)
        b: Group = field(default_factory=Group)

    cfg = apply_overrides(Two(), {"lr": "0.1", "a.lr": "2", "b.width": "3"}, "test")
    assert (cfg.lr, cfg.a.lr, cfg.b.lr, cfg.a.width, cfg.b.width) == (0.1, 2.0, 1.0, 8, 3)  # top-level wins
    with pytest.raises(ConfigError, match="ambiguous.*a.width, b.width"):
        apply_overrides(Two(), {"width": "3"}, "test")
    cfg = apply_overrides(Two(), {"a": {"width": 5}}, "test")  # YAML groups nest
    assert cfg.a.width == 5
    with pytest.raises(ConfigError, match="a.lr must be|lr must be greater than 0"):
        apply_overrides(Two(), {"a.lr": "-1"}, "test").validate()
    with pytest.raises(ConfigError, match="'disc_lr' was renamed to 'disc.lr'"):
        resolve_config("maze", "amp", {"disc_lr": "1e-3"}, check_inputs=False)
    amp = resolve_config("maze", "amp", {"disc.lr": "1e-3", "w_gp": "5"}, check_inputs=False)
    assert (amp.disc.lr, amp.disc.w_gp, amp.disc.hidden) == (1e-3, 5.0, (256, 256))  # preset kept


def test_ncsn_level_counts_match_the_model():
    from imitate.algos.energy_config import NCSN_LEVELS
    from imitate.models.energy import noise_levels

    assert {v: len(noise_levels(v)) for v in NCSN_LEVELS} == NCSN_LEVELS


def _all_config_classes():
    """Every algorithm's config, every task's options and every nested group in them."""
    import dataclasses

    from imitate.registry import ALGOS, TASKS

    todo = [a.config_class() for a in ALGOS.values()] + [t.options_class() for t in TASKS.values()]
    seen: list = []
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.append(cls)
        todo += [
            type(getattr(cls(), f.name))
            for f in dataclasses.fields(cls)
            if dataclasses.is_dataclass(getattr(cls(), f.name))
        ]
    return seen


# A shift of the style reward: any real number is meaningful.
UNBOUNDED = {"style_offset"}


def test_every_numeric_field_declares_bounds_and_help():
    import dataclasses
    import typing

    from imitate.config import bounds_text, field_types

    for cls in _all_config_classes():
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(getattr(cls(), f.name)):
                continue  # a group: its own fields are checked as a class of their own
            tp = field_types(cls)[f.name]
            item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else tp
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
            if item in (int, float) and f.name not in UNBOUNDED:
                assert bounds_text(f), f"{cls.__name__}.{f.name} declares no bounds"
            if item is str and f.metadata.get("choices"):
                assert getattr(cls(), f.name) in f.metadata["choices"]


def test_defaults_and_presets_satisfy_their_own_bounds():
    from imitate.registry import ALGOS, TASKS

    for task in TASKS:
        for name, algo in ALGOS.items():
            if algo.tasks and task not in algo.tasks:
                continue
            resolve_config(task, name, {}, check_inputs=False)  # raises if a preset breaks a bound


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("gamma", "0", "gamma must be in (0, 1], got 0"),
        ("ent_coef", "-0.1", "ent_coef must be at least 0, got -0.1"),
        ("lr", "inf", "lr must be a finite number, got inf"),
        ("hidden", "64,-1", "hidden must be at least 1, got -1"),
    ],
)
def test_bounds_messages(key, value, message):
    with pytest.raises(ConfigError) as info:
        resolve_config("maze", "ppo", {key: value}, check_inputs=False)
    assert str(info.value) == message


def test_config_listing_shows_values_bounds_and_help(capsys):
    from imitate.cli import main

    assert main(["config", "particle", "ibc-dfo", "n_dim=4"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "4" in lines["task_options.n_dim"].split() and "[1, 64]" in lines["task_options.n_dim"]
    assert "one of argmax, sample" in lines["dfo_select"] and "counter-examples" not in lines["dfo_select"]
    assert "> 0" in lines["temperature"] and "InfoNCE" in lines["temperature"]


def test_an_older_run_config_reads_keys_added_since_with_the_value_it_ran_with():
    """config.ADDED: a tracking run made before RSI on clip frames evaluates as it was trained."""
    cfg = resolve_config("humanoid-walk", "deepmimic", {}, check_inputs=False)
    assert cfg.task_options.reference_on_frames  # the default for new runs
    old_run = {"action_mode": "reference", "action_scale": 0.5}  # a config.yaml without the key
    assert not apply_overrides(cfg, old_run, "config.yaml", migrate=True).task_options.reference_on_frames
    assert apply_overrides(cfg, old_run, "overrides").task_options.reference_on_frames  # only a run's own file
    newer = {**old_run, "reference_on_frames": True}
    assert apply_overrides(cfg, newer, "config.yaml", migrate=True).task_options.reference_on_frames
    ppo = resolve_config("maze", "ppo", {}, check_inputs=False)  # tasks without the key are untouched
    assert apply_overrides(ppo, {"lr": 1e-3}, "config.yaml", migrate=True).lr == 1e-3
