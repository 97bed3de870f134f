"""Fuzz corpus of bad input: corrupt, empty, truncated, wrong-key, wrong-shape and NaN files, and
bad CLI values, across tasks and algorithms.

Every case must end with exactly one ``imitate: error: ...`` line on stderr, exit code 2, no
traceback, no run directory left behind, and the runs and files it was pointed at unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from imitate.cli import main
from tests.fixtures.runs import only_run_dir as _run_dir

TINY_PPO = [
    "num_envs=8",
    "rollout_steps=8",
    "total_steps=64",
    "minibatches=2",
    "epochs=1",
    "hidden=16,16",
    "eval_episodes=4",
    "checkpoint_every=1",
    "progress=false",
]
TINY_ENERGY = ["iterations=20", "demo_episodes=8", "hidden=16,16", "checkpoint_every=10", "progress=false"]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """Valid files and runs that the cases corrupt or misuse."""
    root = tmp_path_factory.mktemp("world")
    w = {"root": root}
    assert main(["data", "maze", "--episodes", "8", "--out", str(root / "maze.npz"), "--no-progress"]) == 0
    assert main(["data", "particle", "--episodes", "8", "--out", str(root / "particle.npz"), "--no-progress"]) == 0
    assert main(["train", "maze", "ppo", f"out_dir={root / 'ppo'}", *TINY_PPO]) == 0
    assert main(["train", "maze", "energy", f"out_dir={root / 'energy'}", *TINY_ENERGY]) == 0
    w["maze_demos"], w["particle_demos"] = root / "maze.npz", root / "particle.npz"
    w["ppo_run"], w["energy_run"] = _run_dir(root / "ppo"), _run_dir(root / "energy")
    # the humanoid imitation task: clip-window demos and an energy run of the walk data set
    assert main(["data", "humanoid", "--episodes", "4", "--out", str(root / "humanoid.npz"), "--no-progress"]) == 0
    assert main(["train", "humanoid", "energy", f"out_dir={root / 'henergy'}", *TINY_ENERGY]) == 0
    w["humanoid_demos"], w["humanoid_energy_run"] = root / "humanoid.npz", _run_dir(root / "henergy")
    return w


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _demos_variant(w, tmp: Path, source: str = "maze_demos", allow_pickle: bool = False, **changes) -> Path:
    """A copy of a valid demo file with arrays replaced (None removes one), written raw."""
    arrays = _arrays(w[source])
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value(arrays) if callable(value) else value
    path = tmp / "bad.npz"
    np.savez(path, **arrays)
    return path


def _metadata(w, source="maze_demos", **updates) -> np.ndarray:
    meta = json.loads(str(_arrays(w[source])["metadata"]))
    return np.array(json.dumps({**meta, **updates}))


def _raw_file(tmp: Path, content: bytes, name: str = "bad.npz") -> Path:
    path = tmp / name
    path.write_bytes(content)
    return path


def _run_copy(w, tmp: Path, which: str = "ppo_run") -> Path:
    run = tmp / "copied_run"
    shutil.copytree(w[which], run)
    return run


def _edit_config(run: Path, edit: Callable[[str], str]) -> Path:
    (run / "config.yaml").write_text(edit((run / "config.yaml").read_text()))
    return run


def _edit_checkpoint(run: Path, edit: Callable[[dict], dict]) -> Path:
    path = run / "checkpoints" / "latest.pt"
    torch.save(edit(torch.load(path, weights_only=False)), path)
    return run


def _demos(path_fn):
    return lambda w, t: ["train", "maze", "energy", f"demos={path_fn(w, t)}", *TINY_ENERGY]


def _bc_demos(path_fn, algo="mse"):
    return lambda w, t: ["train", "particle", algo, f"demos={path_fn(w, t)}", "iterations=5", "progress=false"]


def _bco(path_fn, algo="bco"):
    """A BCO/IIDM run on the particle with ``path_fn``'s file as its embodiment data."""
    return lambda w, t: ["train", "particle", algo, f"embodiment={path_fn(w, t)}", "iterations=5", "progress=false"]


def _eval(run_fn, *extra):
    return lambda w, t: ["eval", str(run_fn(w, t)), *extra]


def _train(*argv):
    return lambda w, t: list(argv)


def _valid_npz_bytes(w) -> bytes:
    return w["maze_demos"].read_bytes()


# (id, argv(world, tmp) -> list, text the error line must contain)
CASES: list[tuple[str, Callable, str]] = [
    # -- CLI values ----------------------------------------------------------------------------
    ("num_envs_zero", _train("train", "maze", "ppo", "num_envs=0"), "num_envs must be at least 1, got 0"),
    ("num_envs_text", _train("train", "maze", "ppo", "num_envs=abc"), "num_envs expects int"),
    ("num_envs_fraction", _train("train", "maze", "ppo", "num_envs=1.5"), "num_envs expects int"),
    ("num_envs_inf", _train("train", "maze", "ppo", "num_envs=inf"), "num_envs expects int"),
    ("lr_negative", _train("train", "maze", "ppo", "lr=-1"), "lr must be greater than 0"),
    ("lr_nan", _train("train", "maze", "ppo", "lr=nan"), "lr must be a finite number"),
    ("gamma_above_one", _train("train", "maze", "ppo", "gamma=1.5"), "gamma must be in (0, 1]"),
    ("hidden_zero", _train("train", "maze", "ppo", "hidden=0,64"), "hidden must be at least 1"),
    ("hidden_empty", _train("train", "maze", "ppo", "hidden="), "hidden must not be empty"),
    ("activation_unknown", _train("train", "maze", "ppo", "activation=gelu"), "activation must be one of"),
    (
        "minibatch_split",
        _train("train", "maze", "ppo", "num_envs=3", "rollout_steps=3", "minibatches=2"),
        "must divide into minibatches",
    ),
    ("unknown_key", _train("train", "maze", "ppo", "nope=1"), "unknown key 'nope'"),
    ("no_equals", _train("train", "maze", "ppo", "num_envs"), "expected key=value"),
    ("key_twice", _train("train", "maze", "ppo", "lr=1", "lr=2"), "given twice"),
    ("seed_negative", _train("train", "maze", "ppo", "seed=-1"), "seed must be in [0,"),
    ("bool_garbage", _train("train", "maze", "ppo", "norm_obs=maybe"), "norm_obs expects bool"),
    ("device_cuda_absent", _train("train", "maze", "ppo", "device=cuda"), "no CUDA device"),
    ("device_unknown", _train("train", "maze", "ppo", "device=tpu"), "device must be 'cpu' or 'cuda[:N]'"),
    ("num_envs_huge", _train("train", "maze", "ppo", "num_envs=100000000"), "needs an estimated"),
    ("rollout_huge", _train("train", "maze", "ppo", "rollout_steps=1e9"), "rollout buffers"),
    ("unknown_task", _train("train", "nosuchtask", "ppo"), "unknown task 'nosuchtask'"),
    ("unknown_algo", _train("train", "maze", "nosuchalgo"), "unknown algo 'nosuchalgo'"),
    ("algo_not_for_task", _train("train", "maze", "deepmimic"), "does not run on task 'maze'"),
    ("near_fixed_level", _train("train", "maze", "near", "fixed_level=99"), "fixed_level must be in [-1, 50)"),
    (
        "near_energy_scale_zero",
        _train("train", "maze", "near", "energy_scale=0"),
        "energy_scale must be greater than 0",
    ),
    ("near_no_weight", _train("train", "maze", "near", "w_task=0", "w_energy=0"), "w_task + w_energy must be positive"),
    ("near_energy_missing", _train("train", "maze", "near", "energy=/nonexistent/run"), "run directory not found"),
    ("near_energy_is_ppo_run", lambda w, t: ["train", "maze", "near", f"energy={w['ppo_run']}"], "not an energy run"),
    (
        "near_energy_other_task",
        lambda w, t: ["train", "pusht", "near", f"energy={w['energy_run']}"],
        "trained on task 'maze', not 'pusht'",
    ),
    (
        "near_energy_wrong_features",
        lambda w, t: [
            "train",
            "maze",
            "near",
            "energy="
            + str(
                _edit_checkpoint(
                    _run_copy(w, t, "energy_run"), lambda s: {**s, "model_config": {**s["model_config"], "in_dim": 6}}
                )
            ),
        ],
        "energy model takes 6 features",
    ),
    (
        "near_energy_corrupt_checkpoint",
        lambda w, t: ["train", "maze", "near", "energy=" + str(_corrupt_checkpoint(_run_copy(w, t, "energy_run")))],
        "unreadable checkpoint",
    ),
    (
        "near_v1_level",
        lambda w, t: [
            "train",
            "maze",
            "near",
            "fixed_level=20",
            "energy="
            + str(
                _edit_checkpoint(
                    _run_copy(w, t, "energy_run"),
                    lambda s: {**s, "model_config": {**s["model_config"], "version": "v1"}},
                )
            ),
        ],
        "NCSN v1 energy has levels 0..9",
    ),
    ("cem_level", _train("train", "maze", "cem", "level=60"), "level must be in [-1, 50)"),
    ("cem_elite", _train("train", "maze", "cem", "samples=4", "elite_frac=0.1"), "elite_frac must keep"),
    ("energy_version", _train("train", "maze", "energy", "version=v3"), "version must be one of v2, v1"),
    ("energy_ema", _train("train", "maze", "energy", "ema_decay=1"), "ema_decay must be in [0, 1)"),
    ("particle_n_dim", _train("train", "particle", "mse", "n_dim=0"), "n_dim must be in [1, 64]"),
    ("particle_goal_order", _train("train", "particle", "mse", "goal_order=random"), "goal_order must be one of"),
    ("ibc_dfo_select", _train("train", "particle", "ibc-dfo", "dfo_select=best"), "dfo_select must be one of"),
    (
        "ibc_counter_examples_huge",
        _train("train", "particle", "ibc-dfo", "counter_examples=100000000"),
        "needs an estimated",
    ),
    ("ibc_temperature", _train("train", "particle", "ibc-langevin", "temperature=0"), "temperature must be greater"),
    ("mdn_components", _train("train", "particle", "mdn", "mdn_components=0"), "mdn_components must be at least 1"),
    ("bc_history", _train("train", "particle", "mse", "history=0"), "history must be in [1, 64]"),
    ("bc_dropout", _train("train", "block-push", "mse", "dropout=1"), "dropout must be in [0, 1)"),
    ("amp_replay", _train("train", "pusht", "amp", "replay_size=0"), "replay_size must be at least 1"),
    ("near_not_on_particle", _train("train", "particle", "near"), "algo 'near' does not run on task 'particle'"),
    ("amp_not_on_humanoid", _train("train", "humanoid-walk", "amp"), "algo 'amp' does not run on task"),
    ("humanoid_clip", _train("train", "humanoid-walk", "deepmimic", "clip=nope"), "unknown motion clip 'nope'"),
    # -- the humanoid imitation task: motion data sets, energy runs, demonstrations --------------
    (
        "humanoid_motion_unknown",
        _train("train", "humanoid", "energy", "motion=nope"),
        "unknown motion clip or data set 'nope'",
    ),
    (
        "humanoid_motion_list_unknown_clip",
        lambda w, t: ["train", "humanoid", "near", f"motion={_raw_file(t, b'- {clip: nope, weight: 1}', 'm.yaml')}"],
        "entry 1: unknown motion clip 'nope'",
    ),
    (
        "humanoid_motion_list_weight_zero",
        lambda w, t: ["train", "humanoid", "amp", "motion=" + str(_motion_list(t, "humanoid3d_walk", 0))],
        "weight must be a positive number, got 0",
    ),
    (
        "humanoid_motion_list_weight_text",
        lambda w, t: ["data", "humanoid", "motion=" + str(_motion_list(t, "humanoid3d_walk", "'much'"))],
        "weight must be a positive number, got 'much'",
    ),
    (
        "humanoid_motion_list_empty",
        lambda w, t: ["train", "humanoid", "ppo", f"motion={_raw_file(t, b'[]', 'm.yaml')}"],
        "the motion list is empty",
    ),
    (
        "humanoid_motion_list_not_a_list",
        lambda w, t: ["train", "humanoid", "ppo", f"motion={_raw_file(t, b'42', 'm.yaml')}"],
        "must be a list of {clip: NAME_or_PATH, weight: W} entries, got int",
    ),
    (
        "humanoid_motion_not_a_clip_file",
        lambda w, t: ["train", "humanoid", "energy", f"motion={w['maze_demos']}"],
        "not a motion clip (.txt) or a motion list (.yaml)",
    ),
    (
        "humanoid_motion_clip_garbage",
        lambda w, t: ["data", "humanoid", f"motion={_raw_file(t, b'{not json', 'clip.txt')}", "--no-progress"],
        "not a DeepMimic motion file",
    ),
    ("humanoid_task_reward", _train("train", "humanoid", "ppo", "task_reward=speed"), "task_reward must be one of"),
    ("humanoid_fall_height", _train("train", "humanoid", "ppo", "fall_height_m=0"), "fall_height_m must be greater"),
    ("humanoid_bc_needs_actions", _train("train", "humanoid", "mse"), "observation-only demonstrations"),
    (
        "humanoid_energy_other_motion",
        lambda w, t: ["train", "humanoid", "near", f"energy={w['humanoid_energy_run']}", "motion=run"],
        "was trained with motion=walk, this run has motion=run",
    ),
    (
        "humanoid_energy_other_mask",
        lambda w, t: ["train", "humanoid", "near", f"energy={w['humanoid_energy_run']}", "mask=upper"],
        "was trained with mask=all, this run has mask=upper",
    ),
    ("humanoid_mask_unknown", _train("train", "humanoid", "energy", "mask=arms"), "mask must be one of all, upper"),
    (
        "humanoid_energies_unlabelled",
        lambda w, t: ["train", "humanoid", "near", f"energy={w['humanoid_energy_run']},{w['humanoid_energy_run']}"],
        "several runs need distinct labels",
    ),
    (
        "humanoid_energy_gate_no_distance",
        lambda w, t: [
            "train",
            "humanoid",
            "near",
            f"energy=a:{w['humanoid_energy_run']},b:{w['humanoid_energy_run']}",
            "energy_gate=b:1",
        ],
        "task 'humanoid' reports no goal_distance",
    ),
    (
        "humanoid_energy_of_maze",
        lambda w, t: ["train", "humanoid", "near", f"energy={w['energy_run']}"],
        "trained on task 'maze', not 'humanoid'",
    ),
    (
        "humanoid_energy_wrong_features",
        lambda w, t: [
            "train",
            "humanoid",
            "cem",
            "energy="
            + str(
                _edit_checkpoint(
                    _run_copy(w, t, "humanoid_energy_run"),
                    lambda s: {**s, "model_config": {**s["model_config"], "in_dim": 194}},
                )
            ),
        ],
        "energy model takes 194 features, task 'humanoid' transitions have 210",
    ),
    (
        "humanoid_demos_other_motion",
        lambda w, t: ["train", "humanoid", "amp", f"demos={w['humanoid_demos']}", "motion=punch"],
        "made with motion=walk, the run has motion=punch",
    ),
    (
        "humanoid_demos_of_the_maze",
        lambda w, t: ["train", "humanoid", "energy", f"demos={w['maze_demos']}"],
        "demonstrations are for task 'maze', not 'humanoid'",
    ),
    ("humanoid_contact", _train("train", "humanoid-walk", "deepmimic", "contact_bodies=tail"), "unknown bodies"),
    (
        "humanoid_action_mode",
        _train("train", "humanoid-cartwheel", "deepmimic", "action_mode=absolute"),
        "action_mode must be one of",
    ),
    (
        "humanoid_sigma",
        _train("train", "humanoid-walk", "deepmimic", "sigma_joint_pos=-1"),
        "sigma_joint_pos must be at least 0",
    ),
    ("resume_missing", _train("train", "maze", "ppo", "resume=/nonexistent/run"), "run directory not found"),
    (
        "resume_other_algo",
        lambda w, t: ["train", "maze", "ppo", f"resume={w['energy_run']}"],
        "is a maze/energy run, not maze/ppo",
    ),
    ("config_listing_bad_value", _train("config", "maze", "ppo", "lr=abc"), "lr expects float"),
    ("compare_unknown_algo", _train("compare", "maze", "ppo,nope"), "unknown algo 'nope'"),
    ("compare_zero_seeds", _train("compare", "maze", "ppo", "seeds=0"), "seeds must be at least 1"),
    ("compare_bad_value", _train("compare", "maze", "ppo,near", "near.fixed_level=70"), "fixed_level must be in"),
    ("compare_resume_not_compare", lambda w, t: ["compare", "maze", "ppo", f"resume={t}"], "not a compare directory"),
    ("demo_bad_step2_key", _train("demo", "fixed_level=99"), "fixed_level must be in [-1, 50)"),
    ("demo_bad_step1_key", _train("demo", "energy.iterations=0"), "iterations must be at least 1"),
    ("argparse_bad_int", _train("data", "maze", "--episodes", "abc"), "invalid int value"),
    # -- demonstration files -------------------------------------------------------------------
    ("demos_missing", _demos(lambda w, t: t / "missing.npz"), "demonstration file not found"),
    ("demos_garbage", _demos(lambda w, t: _raw_file(t, b"\x00garbage")), "not a readable demonstration file"),
    ("demos_empty", _demos(lambda w, t: _raw_file(t, b"")), "not a readable demonstration file"),
    (
        "demos_truncated",
        _demos(lambda w, t: _raw_file(t, _valid_npz_bytes(w)[: len(_valid_npz_bytes(w)) // 2])),
        "not a readable demonstration file",
    ),
    ("demos_directory", _demos(lambda w, t: t), "a directory, but not a Minari dataset"),
    ("demos_missing_obs", _demos(lambda w, t: _demos_variant(w, t, obs=None)), "missing array 'obs'"),
    (
        "demos_wrong_key",
        _demos(lambda w, t: _demos_variant(w, t, observations=lambda a: a["obs"], obs=None)),
        "missing array 'obs'",
    ),
    (
        "demos_obs_3d",
        _demos(lambda w, t: _demos_variant(w, t, obs=lambda a: a["obs"][:, :, None])),
        "'obs' must be a non-empty (T, obs_dim) array",
    ),
    (
        "demos_obs_size",
        _demos(lambda w, t: _demos_variant(w, t, obs=lambda a: np.repeat(a["obs"], 2, axis=1))),
        "observations have 4 numbers, task 'maze' observes 2",
    ),
    (
        "demos_obs_nan",
        _demos(
            lambda w, t: _demos_variant(
                w,
                t,
                obs=lambda a: np.where(np.arange(len(a["obs"]))[:, None] == 3, np.nan, a["obs"]).astype(np.float32),
            )
        ),
        "'obs' contains NaN or inf",
    ),
    (
        "demos_obs_int",
        _demos(lambda w, t: _demos_variant(w, t, obs=lambda a: a["obs"].astype(np.int64))),
        "'obs' must be float",
    ),
    (
        "demos_obs_strings",
        _demos(lambda w, t: _demos_variant(w, t, obs=lambda a: a["obs"].astype(str))),
        "'obs' must be float",
    ),
    ("demos_object_array", _demos(lambda w, t: _pickled_demos(w, t)), "not a readable demonstration file"),
    (
        "demos_ends_decreasing",
        _demos(lambda w, t: _demos_variant(w, t, episode_ends=lambda a: a["episode_ends"][::-1])),
        "'episode_ends' must increase",
    ),
    (
        "demos_ends_short",
        _demos(lambda w, t: _demos_variant(w, t, episode_ends=lambda a: a["episode_ends"] - 1)),
        "'episode_ends' must increase by ≥ 2 per episode and end at",
    ),
    (
        "demos_ends_empty",
        _demos(lambda w, t: _demos_variant(w, t, episode_ends=np.zeros(0, np.int64))),
        "'episode_ends' must be a non-empty 1-D array",
    ),
    (
        "demos_metadata_garbage",
        _demos(lambda w, t: _demos_variant(w, t, metadata=np.array("{not json"))),
        "'metadata' is not valid JSON",
    ),
    (
        "demos_metadata_list",
        _demos(lambda w, t: _demos_variant(w, t, metadata=np.array("[1, 2]"))),
        "'metadata' must be a JSON object",
    ),
    (
        "demos_format",
        _demos(lambda w, t: _demos_variant(w, t, metadata=_metadata(w, format="other/9"))),
        "format 'other/9'",
    ),
    ("demos_other_task", _demos(lambda w, t: w["particle_demos"]), "demonstrations are for task 'particle'"),
    (
        "bc_goal_order_mismatch",
        lambda w, t: ["train", "particle", "mse", f"demos={w['particle_demos']}", "goal_order=either"],
        "made with goal_order=fixed",
    ),
    (
        "bc_no_actions",
        _bc_demos(lambda w, t: _demos_variant(w, t, "particle_demos", actions=None)),
        "no 'actions' array; 'mse' learns from (observation, action) pairs",
    ),
    (
        "bc_actions_size",
        _bc_demos(lambda w, t: _demos_variant(w, t, "particle_demos", actions=lambda a: a["actions"][:, :1])),
        "actions have 1 numbers, task 'particle' acts with 2",
    ),
    (
        "bc_actions_inf",
        _bc_demos(
            lambda w, t: _demos_variant(w, t, "particle_demos", actions=lambda a: np.full_like(a["actions"], np.inf))
        ),
        "'actions' contains NaN or inf",
    ),
    (
        "bc_actions_strings",
        _bc_demos(
            lambda w, t: _demos_variant(w, t, "particle_demos", actions=lambda a: np.full(a["actions"].shape, "left"))
        ),
        "'actions' must be numeric",
    ),
    (
        "bc_actions_rows",
        _bc_demos(lambda w, t: _demos_variant(w, t, "particle_demos", actions=lambda a: a["actions"][:-1]), "ibc-dfo"),
        "'actions' must be (T=",
    ),
    (
        "amp_demos_obs_size",
        lambda w, t: ["train", "maze", "amp", "demos=" + str(_demos_variant(w, t, obs=lambda a: a["obs"][:, :1]))],
        "observations have 1 numbers",
    ),
    # -- the world model (AIME phase 1) --------------------------------------------------------
    (
        "world_model_no_actions",
        lambda w, t: ["train", "maze", "world-model", "demos=" + str(_demos_variant(w, t, actions=None))],
        "no 'actions' array; 'world-model' learns from (observation, action) pairs",
    ),
    (
        "world_model_bad_layout",
        lambda w, t: [
            "train",
            "maze",
            "world-model",
            "demos=" + str(_demos_variant(w, t, metadata=_metadata(w, obs_layout=[["x", 1], ["y", 2]]))),
            "iterations=5",
        ],
        "metadata 'obs_layout' sizes [1, 2] do not add up to the 2 observation numbers",
    ),
    (
        "world_model_windows",
        lambda w, t: ["train", "maze", "world-model", f"demos={w['maze_demos']}", "seq_len=5000"],
        "no training episode has seq_len=5000 observations",
    ),
    ("world_model_kl_balance", _train("train", "maze", "world-model", "kl_balance=-0.5"), "kl_balance must be -1"),
    ("world_model_decoder_std", _train("train", "maze", "world-model", "decoder_std=fixed"), "decoder_std must be"),
    # -- AIME phase 2 (more in tests/algos/test_aime.py) ----------------------------------------
    ("aime_loss", _train("train", "maze", "aime", "aime_loss=both"), "aime_loss must be one of"),
    ("aime_world_model_missing", lambda w, t: ["train", "maze", "aime", f"world_model={t / 'x'}"], "not found"),
    (
        "aime_world_model_energy",
        lambda w, t: ["train", "maze", "aime", f"world_model={w['energy_run']}"],
        "is a maze/energy run, not a world-model run",
    ),
    ("aime_no_oracle_actions", _train("train", "humanoid", "aime"), "no oracle with actions to train a world model"),
    # -- BCO and IIDM: embodiment data and observation-only demonstrations -------------------
    ("bco_embodiment_missing", _bco(lambda w, t: t / "missing.npz"), "demonstration file not found"),
    (
        "bco_embodiment_no_actions",
        _bco(lambda w, t: _demos_variant(w, t, "particle_demos", actions=None)),
        "no 'actions' array; bco's dynamics model learns from (observation, action) pairs",
    ),
    (
        "bco_embodiment_obs_size",
        _bco(lambda w, t: _demos_variant(w, t, "particle_demos", obs=lambda a: a["obs"][:, :6])),
        "bad.npz: observations have 6 numbers, task 'particle' observes 8",
    ),
    (
        "iidm_embodiment_actions_size",
        _bco(lambda w, t: _demos_variant(w, t, "particle_demos", actions=lambda a: a["actions"][:, :1]), "iidm"),
        "bad.npz: actions have 1 numbers, task 'particle' acts with 2",
    ),
    (
        "iidm_embodiment_other_task",
        _bco(lambda w, t: w["maze_demos"], "iidm"),
        "demonstrations are for task 'maze', not 'particle'",
    ),
    (
        "bco_demos_obs_size",
        lambda w, t: [
            *_bco(lambda w, t: w["particle_demos"])(w, t),
            "demos=" + str(_demos_variant(w, t, "particle_demos", obs=lambda a: np.repeat(a["obs"], 2, axis=1))),
        ],
        "bad.npz: observations have 16 numbers, task 'particle' observes 8",
    ),
    (
        "bco_embodiment_other_options",
        lambda w, t: [*_bco(lambda w, t: w["particle_demos"])(w, t), "n_dim=3"],
        "made with n_dim=2, the run has n_dim=3",
    ),
    ("bco_no_oracle_no_demos", _train("train", "walker-walk", "bco"), "task 'walker-walk' has no oracle: give demos="),
    ("bco_not_on_humanoid", _train("train", "humanoid", "bco"), "algo 'bco' does not run on task 'humanoid'"),
    ("iidm_holdout", _train("train", "particle", "iidm", "holdout=1"), "holdout must be in [0, 1)"),
    (
        "bco_embodiment_episodes_huge",
        _train("train", "particle", "bco", "embodiment_episodes=10000000000"),
        "embodiment_episodes (random-action episodes)",
    ),
    ("bco_expert_return", _train("train", "particle", "bco", "expert_return=-5"), "expert_return must be at least 0"),
    # -- run directories -----------------------------------------------------------------------
    ("eval_missing", _eval(lambda w, t: t / "nowhere"), "run directory not found"),
    ("eval_not_a_run", _eval(lambda w, t: t), "no config.yaml"),
    ("eval_a_file", _eval(lambda w, t: w["maze_demos"]), "run directory not found"),
    ("eval_config_garbage", _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: "{{: [")), "not valid YAML"),
    (
        "eval_config_list",
        _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: "- 1\n- 2\n")),
        "expected a mapping",
    ),
    ("eval_config_empty", _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: "")), "lacks task/algo"),
    ("eval_config_binary", _eval(lambda w, t: _raw_config(_run_copy(w, t), b"\xff\xfe\x00bad")), "not valid YAML"),
    (
        "eval_config_unknown_key",
        _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: s + "bogus: 1\n")),
        "unknown key 'bogus'",
    ),
    (
        "eval_config_wrong_type",
        _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: s.replace("num_envs: 8", "num_envs: many"))),
        "num_envs expects int",
    ),
    (
        "eval_config_out_of_bounds",
        _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: s.replace("gamma: 0.99", "gamma: 7"))),
        "gamma must be in (0, 1]",
    ),
    (
        "eval_config_unknown_task",
        _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: s.replace("task: maze", "task: moon"))),
        "unknown task 'moon'",
    ),
    ("eval_no_checkpoint", _eval(lambda w, t: _no_checkpoint(_run_copy(w, t))), "no checkpoint at"),
    ("eval_corrupt_checkpoint", _eval(lambda w, t: _corrupt_checkpoint(_run_copy(w, t))), "unreadable checkpoint"),
    ("eval_truncated_checkpoint", _eval(lambda w, t: _truncate_checkpoint(_run_copy(w, t))), "unreadable checkpoint"),
    (
        "eval_checkpoint_other_task",
        _eval(lambda w, t: _edit_checkpoint(_run_copy(w, t), lambda s: {**s, "task": "pusht"})),
        "checkpoint is for task 'pusht', not 'maze'",
    ),
    (
        "eval_checkpoint_not_dict",
        _eval(lambda w, t: _edit_checkpoint(_run_copy(w, t), lambda s: [1, 2])),
        "not an imitate checkpoint",
    ),
    (
        "eval_checkpoint_wrong_net",
        _eval(lambda w, t: _edit_config(_run_copy(w, t), lambda s: s.replace("- 16\n- 16", "- 32\n- 32"))),
        "policy does not fit task",
    ),
    ("eval_zero_episodes", _eval(lambda w, t: w["ppo_run"], "--episodes", "0"), "--episodes must be at least 1"),
    ("eval_huge_episodes", _eval(lambda w, t: w["ppo_run"], "--episodes", "10000000000"), "needs an estimated"),
    # the maze has a video of its episodes (ppo, near, amp); an energy model has none
    (
        "eval_video_unsupported",
        _eval(lambda w, t: w["energy_run"], "--video"),
        "--video is not supported for maze/energy",
    ),
    ("plot_missing", lambda w, t: ["plot", str(t / "nowhere")], "run directory not found"),
    ("plot_not_a_run", lambda w, t: ["plot", str(t)], "no config.yaml"),
    # -- data, motion and output paths ---------------------------------------------------------
    (
        "data_unwritable_out",
        _train("data", "maze", "--episodes", "2", "--no-progress", "--out", "/proc/imitate/maze.npz"),
        "/proc/",
    ),
    (
        "data_out_is_directory",
        lambda w, t: ["data", "maze", "--episodes", "2", "--no-progress", "--out", str(t)],
        "is a directory",
    ),
    ("data_zero_episodes", _train("data", "maze", "--episodes", "0"), "--episodes must be at least 1"),
    ("data_huge_episodes", _train("data", "maze", "--episodes", "100000000000"), "needs an estimated"),
    ("data_no_oracle", _train("data", "humanoid-walk"), "has no oracle"),
    ("data_dmc_needs_a_policy", _train("data", "walker-walk"), "its data come from a policy: --policy random"),
    (
        "data_policy_on_oracle_task",
        _train("data", "maze", "--policy", "random"),
        "makes its demonstrations with its oracle",
    ),
    (
        "data_policy_unknown",
        _train("data", "walker-walk", "--policy", "nowhere"),
        "neither 'random' nor a run directory",
    ),
    (
        "data_policy_energy_run",
        lambda w, t: ["data", "walker-walk", "--policy", str(w["energy_run"])],
        "a run of task 'maze'",
    ),
    ("data_options_not_taken", _train("data", "maze", "n_dim=3"), "takes no options"),
    ("data_option_type", _train("data", "particle", "n_dim=abc"), "n_dim expects int"),
    ("data_option_bounds", _train("data", "particle", "n_dim=1000"), "n_dim must be in [1, 64]"),
    ("motion_unknown_clip", _train("motion", "view", "nosuchclip", "--renderer", "stick"), "unknown motion clip"),
    ("motion_no_clip", _train("motion", "view"), "needs a CLIP name"),
    (
        "motion_unwritable_out",
        _train(
            "motion",
            "view",
            "humanoid3d_walk",
            "--renderer",
            "stick",
            "--seconds",
            "0.1",
            "--out",
            "/proc/imitate/walk.mp4",
        ),
        "/proc/",
    ),
]


def _pickled_demos(w, t: Path) -> Path:
    arrays = _arrays(w["maze_demos"])
    arrays["obs"] = np.array([object()] * 4, dtype=object)
    path = t / "bad.npz"
    np.savez(path, **arrays)  # np.savez pickles object arrays; loading refuses them
    return path


def _motion_list(t: Path, clip: str, weight) -> Path:
    path = t / "motions.yaml"
    path.write_text(f"motions:\n  - {{clip: {clip}, weight: {weight}}}\n")
    return path


def _raw_config(run: Path, content: bytes) -> Path:
    (run / "config.yaml").write_bytes(content)
    return run


def _no_checkpoint(run: Path) -> Path:
    (run / "checkpoints" / "latest.pt").unlink()
    return run


def _corrupt_checkpoint(run: Path) -> Path:
    (run / "checkpoints" / "latest.pt").write_bytes(b"not a checkpoint")
    return run


def _truncate_checkpoint(run: Path) -> Path:
    path = run / "checkpoints" / "latest.pt"
    path.write_bytes(path.read_bytes()[:200])
    return run


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_corpus_is_large_enough():
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name, make_argv, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, make_argv, expected, world, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written to a default path would land here
    before = _tree_digest(world["root"])
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    argv = make_argv(world, case_dir)
    if argv[0] in ("train", "compare", "demo"):
        argv = [*argv, f"out_dir={tmp_path / 'runs'}"]
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, f"exit {code}: {err}"
    assert len(err.splitlines()) == 1 and err.startswith("imitate: error:"), err
    assert "Traceback" not in err
    assert expected in err, err
    assert not (tmp_path / "runs").exists() or not any(p.is_file() for p in (tmp_path / "runs").rglob("*")), (
        "a failed run left files behind"
    )
    assert not (tmp_path / "data").exists(), "a failed command wrote data"
    assert _tree_digest(world["root"]) == before, "a failed command changed files it was pointed at"


def test_a_real_process_prints_one_line_and_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "train", "maze", "near", "fixed_level=99", f"out_dir={tmp_path}"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "fixed_level" in proc.stderr
    assert not any(tmp_path.iterdir())


def test_a_closed_pipe_is_quiet():
    proc = subprocess.run(
        f"{sys.executable} -m imitate.cli motion list | head -1", shell=True, capture_output=True, text=True
    )
    assert proc.stdout.count("\n") == 1 and proc.stderr == "", proc.stderr
    proc = subprocess.run(
        f"{sys.executable} -m imitate.cli config maze near | head -2", shell=True, capture_output=True, text=True
    )
    assert proc.stderr == "", proc.stderr


def test_an_unexpected_error_is_one_line_exit_1(monkeypatch, capsys):
    import imitate.runner

    monkeypatch.setattr(imitate.runner, "plot", lambda run_dir: 1 / 0)
    assert main(["plot", "anywhere"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("imitate: internal error: ZeroDivisionError")


def test_a_task_without_oracle_needs_demos_before_any_training(tmp_path, monkeypatch):
    import dataclasses

    from imitate import registry as tasks
    from imitate import runner
    from imitate.config import ConfigError

    monkeypatch.setitem(tasks.TASKS, "maze", dataclasses.replace(tasks.TASKS["maze"], oracle=None))
    with pytest.raises(ConfigError, match="task 'maze' has no oracle: give demos=PATH"):
        runner.train("maze", "energy", {"out_dir": str(tmp_path), "progress": "false"})
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "the failed run left files behind"
