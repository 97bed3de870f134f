"""What each CLI subcommand does: resolve configs, create or reopen runs, train, evaluate, plot.

Which algorithm trains and evaluates a run is looked up in ``registry.ALGOS``; this module is
the run lifecycle around them (the training loops are ``algos/on_policy.py`` and
``algos/offline.py``; no algorithm calls back into it). Inputs (demo files, energy runs,
checkpoints) are checked before a run directory is created, and a new run that fails before its
first checkpoint is removed (``utils.run.guarded``), so bad input leaves nothing behind. A
resume (``resume=RUN``) is exact and writes nothing until the checkpoint has been loaded into
the freshly built model (see ``train``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from imitate.config import ConfigError, apply_overrides, load_yaml, preset, preset_file, to_dict
from imitate.config.run import INHERITED_KEYS
from imitate.pretrained import installed_path, is_pretrained, resolve_run_dir
from imitate.registry import AlgoEntry, TaskEntry, get_algo, get_task
from imitate.utils.run import Run
from imitate.utils.seeding import seed_everything
from imitate.utils.wandb_mirror import WandbMirror, require_wandb


def default_config(task: TaskEntry, algo: AlgoEntry) -> Any:
    """The algorithm's default config holding the task's default options (``task_options``)."""
    return algo.config_class()(task_options=task.default_options())


def resolve_config(task_name: str, algo_name: str, overrides: dict[str, Any], check_inputs: bool = True) -> Any:
    """Defaults, then the task's preset (the named one of ``preset=NAME``, else its default), then
    ``overrides``; validated, and (``check_inputs``) with every file it names and the memory it
    needs checked (``inputs.check_run_inputs``)."""
    task, algo = get_task(task_name), get_algo(algo_name, task_name)
    name = str(overrides.get("preset") or "")
    cfg = apply_overrides(
        default_config(task, algo),
        preset(task_name, algo_name, name),
        f"preset {preset_file(task_name, name)}[{algo_name}]",
    )
    cfg = apply_overrides(cfg, overrides, f"`imitate train {task_name} {algo_name}`")
    cfg.validate()
    if is_pretrained(getattr(cfg, "energy", "")):  # energy=pretrained:maze/energy: read in place
        cfg.energy = str(installed_path(cfg.energy).resolve())
    if check_inputs:
        from imitate.inputs import check_run_inputs

        check_run_inputs(task, algo_name, cfg)
    return cfg


def run_config(run: Run) -> Any:
    """A run's resolved config, read back from its ``config.yaml``."""
    cfg = apply_overrides(
        default_config(get_task(run.task), get_algo(run.algo)),
        run.config_dict(),
        f"{run.dir}/config.yaml",
        migrate=True,
    )
    try:
        cfg.validate()
    except ConfigError as exc:
        raise ConfigError(f"{run.dir}/config.yaml: {exc}") from None
    return cfg


def train_required(task_name: str, algo: AlgoEntry, cfg: Any) -> None:
    """The run ``algo.requires`` names, trained first when ``cfg`` leaves it empty (NEAR and CEM
    without ``energy=RUN_DIR``: NEAR step 1), with this run's ``INHERITED_KEYS`` (seed, out_dir,
    device, progress, the W&B keys) and task options (the humanoid's ``motion=``); its
    directory is written into ``cfg`` so the run's config names what it used."""
    if algo.requires is None or getattr(cfg, algo.requires[0]):
        return
    field, needed = algo.requires
    step = get_algo(needed).description.split(":")[0]
    print(f"no {field}=RUN_DIR given: training the {needed} model first ({step})", flush=True)
    first = train(task_name, needed, required_overrides(cfg))
    setattr(cfg, field, str(first.dir))


def required_overrides(cfg: Any) -> dict[str, Any]:
    """What the run an algorithm requires inherits from the run that needs it: ``INHERITED_KEYS``
    (seed, out_dir, device, progress, the W&B keys) and the task options (``imitate grid`` trains
    it as a job of its own)."""
    overrides: dict[str, Any] = {key: getattr(cfg, key) for key in INHERITED_KEYS}
    options = to_dict(cfg.task_options)
    if options:
        overrides["task_options"] = options
    return overrides


def train(task_name: str, algo_name: str, overrides: dict[str, Any]) -> Run:
    """Train a new run, or continue ``resume=RUN_DIR``; evaluate it and write ``metrics.json``.

    Every RNG is seeded before anything is built, so a seed gives one run. A resume writes
    nothing until the algorithm has loaded the checkpoint into its freshly built model and
    optimiser (``Run.begin``): a checkpoint that does not fit the (overridden) config fails
    with a one-line CheckpointError and leaves the run as it was. A run without a checkpoint
    (killed before its first one) is trained from scratch in its directory."""
    task, algo = get_task(task_name), get_algo(algo_name, task_name)
    state = None
    if is_pretrained(overrides.get("resume", "")):
        raise ConfigError(f"resume={overrides['resume']}: a pretrained run keeps no optimiser state to resume from")
    if overrides.get("resume"):
        run = Run.open(overrides["resume"])
        if (run.task, run.algo) != (task_name, algo_name):
            raise ConfigError(f"{run.dir} is a {run.task}/{run.algo} run, not {task_name}/{algo_name}")
        if "preset" in overrides:
            raise ConfigError("preset= picks a new run's settings; a resumed run keeps the ones in its config.yaml")
        cfg = apply_overrides(
            run_config(run),
            {k: v for k, v in overrides.items() if k != "resume"},
            f"`imitate train {task_name} {algo_name}`",
        )
        cfg.validate()
        require_wandb(cfg)
        if run.has_checkpoint():
            state = run.load_checkpoint(task_name, algo_name)
    else:
        cfg = resolve_config(task_name, algo_name, overrides)
        run = None
        train_required(task_name, algo, cfg)
    seed_everything(cfg.seed)
    result = algo.run_train(task, cfg, run, state)
    run, stats = result if isinstance(result, tuple) else (result, {})
    metrics = {**evaluate(run, quiet=True), **stats}
    run.write_metrics(metrics)
    if cfg.wandb:
        mirror_evaluation(run, metrics)
    return run


def mirror_evaluation(run: Run, metrics: dict[str, Any]) -> None:
    """An evaluation's numbers (and video) into the run's W&B run (``utils/wandb_mirror.py``)."""
    progress = run.read_progress()
    mirror = WandbMirror(run.dir, load_yaml(run.dir / "config.yaml"))
    try:
        mirror.log_evaluation(int(progress[-1]["step"]) if progress else 0, metrics)
    finally:
        mirror.close()


def evaluate(
    run_dir: str | Path | Run, episodes: int | None = None, quiet: bool = False, video: bool = False
) -> dict[str, Any]:
    """Evaluate a run, write ``metrics.json`` (merged with what training wrote) and plots;
    ``video=True`` (``--video``) also writes a video, where the algorithm on the task has one.
    ``pretrained:NAME`` evaluates a fresh copy of that shipped run (``pretrained.py``).
    A run trained with ``wandb=true`` gets the metrics and video in W&B too, unless ``quiet``
    (training's own evaluation, which ``train`` mirrors with its stats; ``imitate plot``)."""
    run = run_dir if isinstance(run_dir, Run) else Run.open(resolve_run_dir(run_dir))
    task, algo = get_task(run.task), get_algo(run.algo)
    cfg = run_config(run)
    episodes = getattr(cfg, "eval_episodes", 100) if episodes is None else episodes  # default: the run's own
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {episodes}")
    from imitate.inputs import check_memory, env_dims, eval_estimate

    check_memory(eval_estimate(cfg, env_dims(task, cfg), episodes), f"`imitate eval` of {episodes} episodes")
    if video:
        algo.check_video(task)
    if not quiet:
        require_wandb(cfg)
    seed_everything(cfg.seed + 10_000)  # an evaluation draws the same numbers however often it runs
    metrics = algo.run_evaluate(run, task, cfg, episodes, video=video)
    old = {}
    if (run.dir / "metrics.json").is_file():
        old = json.loads((run.dir / "metrics.json").read_text())
    metrics = {"task": run.task, "algo": run.algo, **{k: v for k, v in old.items() if k not in metrics}, **metrics}
    run.write_metrics(metrics)
    if cfg.wandb and not quiet:
        mirror_evaluation(run, metrics)
    return metrics


def export(run_dir: str | Path, onnx: str | Path) -> dict[str, Any]:
    """Write a run's policy (IBC: its energy) as an ONNX file (``algos/export.py``); returns what
    was written. The run, the algorithm and the output path are checked before any work."""
    run = Run.open(resolve_run_dir(run_dir))
    task, algo = get_task(run.task), get_algo(run.algo)
    algo.check_export()
    from imitate.inputs import check_output_path

    path = check_output_path(onnx)
    from imitate.algos.export import require_onnx

    require_onnx()
    cfg = run_config(run)
    summary = algo.run_export(run, task, cfg, path)
    return {"onnx": str(path), "task": run.task, "algo": run.algo, **summary}


def plot(run_dir: str | Path) -> list[Path]:
    """Every plot that fits the run: learning curves, and what evaluation draws."""
    from imitate.viz.curves import plot_learning_curves

    run = Run.open(resolve_run_dir(run_dir))
    made = [
        plot_learning_curves(
            run.read_progress(),
            list(get_algo(run.algo).curve_keys),
            run.plots_dir / "learning_curves.png",
            title=f"{run.task} / {run.algo}",
        )
    ]
    evaluate(run, quiet=True)
    made += sorted(run.plots_dir.glob("*.png"))
    return sorted({p for p in made if p is not None})


def task_options(task: TaskEntry, overrides: dict[str, Any]) -> Any:
    """The task's own options (``n_dim=4``) for commands that have no algorithm, e.g. ``data``."""
    if task.options is None and overrides:
        raise ConfigError(f"task {task.name!r} takes no options, got {', '.join(overrides)}")
    cfg = apply_overrides(task.default_options(), overrides, f"task {task.name!r}")
    cfg.validate()
    return cfg


def make_data(
    task_name: str,
    episodes: int | None,
    out: str | None,
    seed: int = 0,
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    data_format: str = "npz",
) -> tuple[Any, Any]:
    """Oracle demonstrations written to ``out`` as our .npz file (the default) or, with
    ``data_format="minari"``, a Minari dataset; returns where they went and the demonstrations."""
    if data_format not in ("npz", "minari"):
        raise ConfigError(f"data format must be npz or minari, got {data_format!r}")
    task = get_task(task_name)
    episodes = task.default_episodes if episodes is None else episodes
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {episodes}")
    if not task.has_oracle:
        raise ConfigError(f"task {task_name!r} has no oracle to generate demonstrations")
    cfg = task_options(task, overrides or {})
    from imitate.data import minari_io
    from imitate.inputs import check_memory, check_output_path, demo_bytes, env_dims

    if data_format == "minari":
        target = minari_io.minari_target(out, minari_io.default_dataset_id(task_name))
        check_output_path(target.directory)
    elif out and out.startswith(minari_io.PREFIX):
        raise ConfigError(f"--out {out}: a Minari dataset id needs --format minari")
    else:
        path = check_output_path(out or f"data/{task_name}.npz")
    check_memory(
        {"--episodes (demonstrations)": demo_bytes(episodes, env_dims(task, cfg))},
        f"`imitate data {task_name}` of {episodes} episodes",
    )
    demos = task.run_oracle(episodes, seed=seed, progress=progress, cfg=cfg)
    if data_format == "minari":
        import dataclasses

        from imitate.gym import env_spec

        return minari_io.write_minari(demos, target, env=env_spec(task_name, dataclasses.asdict(cfg))), demos
    demos.save(path)
    return path, demos


def set_threads() -> None:
    """One intra-op thread by default (IMITATE_THREADS to change): on a 2-core CPU a second
    thread gained nothing for these small networks and slowed everything when the machine was
    busy. Denormals are flushed: tiny PD velocities otherwise slow CPU maths badly."""
    import os

    torch.set_num_threads(max(1, int(os.environ.get("IMITATE_THREADS", "1"))))
    torch.set_flush_denormal(True)
