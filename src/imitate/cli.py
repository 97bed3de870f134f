"""The ``imitate`` command. Subcommands only parse arguments and dispatch to ``runner``.

Errors: bad input of any kind (config, files, checkpoints, a diverged run, a path that cannot
be written) is one ``imitate: error: ...`` line on stderr and exit code 2. Anything else is a
bug: one ``imitate: internal error`` line and exit code 1 (``IMITATE_DEBUG=1`` shows the
traceback). A closed pipe (``imitate motion list | head``) ends quietly with 141, as SIGPIPE
would.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from imitate.config import ConfigError, parse_overrides
from imitate.utils.errors import CheckpointError, DatasetError

EXPECTED_ERRORS = (ConfigError, DatasetError, CheckpointError, FloatingPointError)


def _list(args) -> None:
    from imitate.registry import ALGOS, TASKS

    if args.what in ("tasks", "all"):
        print("tasks:")
        for name, task in sorted(TASKS.items()):
            print(f"  {name:20s} {task.description}")
    if args.what in ("algos", "all"):
        print("algos:")
        for name, algo in ALGOS.items():
            where = f" [{', '.join(algo.tasks)}]" if algo.tasks else ""
            print(f"  {name:20s} {algo.description}{where}")


def _data(args) -> None:
    from imitate import runner

    path, demos = runner.make_data(
        args.task,
        args.episodes,
        args.out,
        seed=args.seed,
        progress=not args.no_progress,
        overrides=parse_overrides(args.options),
        data_format=args.format,
        policy=args.policy,
        deterministic=args.deterministic,
        num_envs=args.num_envs,
        mix=None if args.mix is None else [f for f in args.mix.split(",") if f],
    )
    print(f"wrote {demos.num_episodes} episodes ({len(demos.obs)} observations) to {path}")


def _train(args) -> None:
    from imitate import runner

    run = runner.train(args.task, args.algo, parse_overrides(args.overrides))
    print(f"run: {run.dir}")
    print(json.dumps(json.loads((run.dir / "metrics.json").read_text()), sort_keys=True))


def _config(args) -> None:
    from imitate.config import describe
    from imitate.runner import resolve_config

    cfg = resolve_config(args.task, args.algo, parse_overrides(args.overrides), check_inputs=False)
    rows = describe(cfg)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(
        f"# imitate train {args.task} {args.algo}: key, type, value (defaults < preset < your overrides), "
        "allowed values, meaning"
    )
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4])


def _run_dir(arg: str):
    """A run directory argument; ``pretrained:NAME`` becomes a fresh working copy, said on stderr."""
    from imitate.pretrained import is_pretrained, resolve_run_dir

    path = resolve_run_dir(arg)
    if is_pretrained(arg):
        print(f"{arg}: a fresh copy in {path}", file=sys.stderr)
    return path


def _eval(args) -> None:
    from imitate import runner

    metrics = runner.evaluate(_run_dir(args.run_dir), episodes=args.episodes, video=args.video)
    if "video" in metrics:
        renderer = metrics.get("video_renderer")  # humanoid, dm_control: MuJoCo's GL backend or the drawing
        print(f"video: {metrics['video']}" + (f" ({renderer} renderer)" if renderer else ""))
    print(json.dumps(metrics, sort_keys=True))


def _export(args) -> None:
    from imitate import runner

    print(json.dumps(runner.export(_run_dir(args.run_dir), onnx=args.onnx), sort_keys=True))


def _plot(args) -> None:
    from imitate import runner
    from imitate.pretrained import resolve_run_dir

    run_dir = resolve_run_dir(_run_dir(args.run_dir))
    for path in runner.plot(run_dir):
        print(path)
    if not os.path.isfile(os.path.join(run_dir, "checkpoints", "latest.pt")):
        print(f"{run_dir}: no checkpoint, so only the learning curves (evaluation plots need one)", file=sys.stderr)


def _pretrained(args) -> None:
    from imitate import pretrained

    if args.build is None:
        if args.from_run or args.out:
            raise ConfigError("--from and --out go with --build NAME")
        rows = [("name", "task", "algo", "scores (recorded)", "size"), *pretrained.listing()]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        print("evaluate one: imitate eval pretrained:NAME (docs/pretrained.md)")
        return
    from imitate.pretrained_build import build

    metrics = build(args.build, args.from_run, args.out or pretrained.PRETRAINED_DIR)
    print(json.dumps(metrics, sort_keys=True))


def _demo(args) -> None:
    from imitate import runner
    from imitate.config.run import INHERITED_KEYS

    overrides = parse_overrides(args.overrides)
    print("NEAR on the maze: oracle demos → energy model → PPO on the annealed energy reward", flush=True)
    energy_keys = {k: v for k, v in overrides.items() if k in INHERITED_KEYS}
    energy_overrides = {**energy_keys, **{k[7:]: v for k, v in overrides.items() if k.startswith("energy.")}}
    near_overrides = {k: v for k, v in overrides.items() if not k.startswith("energy.")}
    # Both steps' configs are checked before step 1 trains, so a typo in a step-2 key costs nothing.
    runner.resolve_config("maze", "energy", energy_overrides)
    runner.resolve_config("maze", "near", near_overrides, check_inputs=False)
    energy = runner.train("maze", "energy", energy_overrides)
    print(f"energy model: {energy.dir}  (plots in {energy.dir / 'plots'})", flush=True)
    near = runner.train("maze", "near", {**near_overrides, "energy": str(energy.dir)})
    paths = runner.plot(near.dir)
    print(f"policy: {near.dir}")
    for path in paths:
        print(f"  plot: {path}")
    print(json.dumps(json.loads((near.dir / "metrics.json").read_text()), sort_keys=True))


def _compare(args) -> None:
    from imitate.compare import compare
    from imitate.grid import raise_failed

    report = compare(args.task, [a.strip() for a in args.algos.split(",")], parse_overrides(args.overrides))
    print((report.dir / "results" / f"{args.task}.md").read_text(), end="")
    _summary(report)
    print(json.dumps(json.loads((report.dir / "results" / f"{args.task}.json").read_text()), sort_keys=True))
    raise_failed(report)


def _summary(report) -> None:
    print(
        f"grid: {report.dir}  ran {report.ran}, skipped {report.skipped} (finished earlier), "
        f"failed {len(report.failed)}"
    )
    print(f"results: {report.dir / 'results'}  (imitate results {report.dir} rebuilds them)")


def _grid(args) -> None:
    from imitate.grid import load_spec, raise_failed, run_grid

    grid_file = args.items[0] if args.items and "=" not in args.items[0] else None
    items = args.items[1:] if grid_file else args.items
    report = run_grid(load_spec(grid_file, parse_overrides(items)))
    _summary(report)
    raise_failed(report)


def _results(args) -> None:
    from imitate.grid.results import write_results

    for path in write_results(args.grid_dir):
        if path.suffix == ".md":
            print(path.read_text(), end="")
        print(path)


def _motion(args) -> None:
    from imitate.data.motion import available_clips, load_clip

    if args.action == "list":
        for name in available_clips():
            clip = load_clip(name)
            print(
                f"  {name:28s} {clip.num_frames:4d} frames {clip.duration_s:6.2f} s  {'loop' if clip.loop else 'once'}"
            )
        return
    from imitate.viz.motion import RenderError, write_clip_video

    if not args.clip:
        raise ConfigError("imitate motion view needs a CLIP name; `imitate motion list` shows them")
    from imitate.inputs import check_output_path

    out = check_output_path(args.out or f"{args.clip.replace('/', '_')}.mp4")
    try:
        path, used = write_clip_video(args.clip, out, seconds=args.seconds, renderer=args.renderer)
    except RenderError as exc:
        raise ConfigError(f"{exc}; try --renderer stick") from exc
    print(f"wrote {path} ({used} renderer)")


class Parser(argparse.ArgumentParser):
    """argparse with the project's error form: one line, exit code 2."""

    def error(self, message: str):
        self.exit(2, f"imitate: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="imitate",
        description=(
            "Learn behaviour from demonstrations with generative models: NEAR, AMP, DeepMimic-style "
            "tracking and Implicit BC. `imitate list` shows what runs today."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list tasks and algorithms")
    p.add_argument("what", nargs="?", default="all", choices=["tasks", "algos", "all"])
    p.set_defaults(func=_list)

    p = sub.add_parser(
        "data",
        help="write a task's demonstrations: its oracle's, or a policy's rollouts (DeepMind Control tasks)",
        epilog="examples: imitate data maze | imitate data walker-walk --policy random --episodes 1000 | "
        "imitate data walker-walk --policy RUN_DIR@100000 --deterministic | "
        "imitate data walker-walk --mix random.npz,expert.npz --out mix.npz (docs/datasets.md)",
    )
    p.add_argument("task")
    p.add_argument("options", nargs="*", metavar="key=value", help="task options, e.g. n_dim=4")
    p.add_argument(
        "--episodes",
        type=int,
        default=None,
        help="episodes to write (default: the task's; with --mix, an equal share of the smallest data set from each)",
    )
    p.add_argument(
        "--policy",
        default=None,
        help="tasks without an oracle: 'random' (uniform actions in [-1, 1]) or a run of an on-policy algo, "
        "RUN_DIR (its latest checkpoint), RUN_DIR@STEP (its snapshot at env step STEP) or RUN_DIR@latest",
    )
    p.add_argument("--deterministic", action="store_true", help="the run's mean action, not a draw from its policy")
    p.add_argument("--num-envs", type=int, default=None, help="episodes rolled out as one batched env (default 1000)")
    p.add_argument(
        "--mix",
        default=None,
        metavar="A.npz,B.npz,...",
        help="equal shares of these data sets of the task (AIME's walker-mix), drawn by --seed",
    )
    p.add_argument(
        "--out",
        default=None,
        help="output .npz (default data/TASK.npz; from a policy or a mix data/TASK-SOURCE.npz, SOURCE random, "
        "ALGO-latest, ALGO-stepN or mix); with --format minari a dataset directory, or minari:ID under Minari's "
        "root (default minari:imitate/TASK-SOURCE-v0, SOURCE oracle for an oracle)",
    )
    p.add_argument(
        "--format",
        default="npz",
        choices=["npz", "minari"],
        help="npz: our file (default); minari: a Minari dataset (pip install 'imitate[minari]')",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_data)

    p = sub.add_parser(
        "train",
        help="train ALGO on TASK; config overrides as key=value",
        epilog="examples: imitate train maze energy | imitate train maze near energy=RUN_DIR | "
        "imitate train maze ppo num_envs=128 seed=1 | imitate train maze near resume=RUN_DIR. "
        "`imitate config TASK ALGO` lists every key with its value, bounds and meaning.",
    )
    p.add_argument("task")
    p.add_argument("algo")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "config",
        help="list every key of TASK ALGO: type, value, allowed values, meaning",
        epilog="example: imitate config maze near | imitate config particle ibc-dfo n_dim=4",
    )
    p.add_argument("task")
    p.add_argument("algo")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.set_defaults(func=_config)

    p = sub.add_parser(
        "eval",
        help="evaluate a run; writes metrics.json and prints it as one JSON line",
        epilog="RUN_DIR may be pretrained:NAME (`imitate pretrained` lists them): a fresh copy of it in "
        "runs/pretrained/NAME is evaluated",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--episodes", type=int, default=None, help="episodes to evaluate (default: the run's eval_episodes)")
    p.add_argument(
        "--video",
        action="store_true",
        help="also write RUN_DIR/videos/policy.mp4 of the evaluation episodes: humanoid runs the policy beside "
        "its reference (MuJoCo, or a stick figure without OpenGL); maze, particle, block-push and pusht runs "
        "4 episodes drawn from above (no OpenGL needed); walker and cheetah runs 2 episodes side by side "
        "(MuJoCo with dm_control's camera, or a side view without OpenGL)",
    )
    p.set_defaults(func=_eval)

    p = sub.add_parser(
        "export",
        help="write a run's policy as ONNX (IBC: its energy E(obs, action)); prints what was written",
        epilog="example: imitate export runs/maze/near/RUN --onnx policy.onnx. The inputs, outputs and "
        "metadata of each kind are in docs/export.md.",
    )
    p.add_argument("run_dir")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    p.set_defaults(func=_export)

    p = sub.add_parser("plot", help="write the plots that fit a run into RUN_DIR/plots")
    p.add_argument("run_dir")
    p.set_defaults(func=_plot)

    p = sub.add_parser(
        "compare",
        help="run ALGO[,ALGO...] x seeds on TASK in parallel; table and curves",
        epilog="examples: imitate compare maze ppo,near,amp seeds=3 | imitate compare maze ppo,near "
        "total_steps=200000 near.w_task=0.3 jobs=2 | imitate compare maze ppo,near resume=DIR. "
        "key=value goes to every algo, ALGO.key=value to one; seeds (3), jobs (CPU count), "
        "out_dir and resume belong to compare, and every key of `imitate grid` but tasks and dir.",
    )
    p.add_argument("task")
    p.add_argument("algos", metavar="ALGO[,ALGO...]")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.set_defaults(func=_compare)

    p = sub.add_parser(
        "grid",
        help="run tasks x algos x seeds x sweeps, locally or on a Ray cluster; tables and curves",
        epilog="examples: imitate grid benchmarks/grids/near_maze_ablations.yaml | imitate grid tasks=maze "
        "algos=ppo,near seeds=3 sweep.lr=1e-3,3e-4 jobs=2 | imitate grid GRID.yaml backend=ray address=auto. "
        "Grid keys: tasks, algos, seeds, sweep.KEY=a,b, backend (local|ray), address (auto|ray://HOST:PORT|"
        "HOST:PORT|local), jobs, retries (2), storage (shared|copy), cpus, gpus, dir, out_dir; any other "
        "key=value is a config override (ALGO.key for one algo). Run it again with the same dir= to continue. "
        "docs/grid.md has the details.",
    )
    p.add_argument("items", nargs="*", metavar="[GRID.yaml] key=value")
    p.set_defaults(func=_grid)

    p = sub.add_parser(
        "results",
        help="rebuild a grid's tables (md, csv, json: mean, std, 95%% CI per cell) and curves from its runs",
        epilog="example: imitate results runs/grid/20270101-120000",
    )
    p.add_argument("grid_dir")
    p.set_defaults(func=_results)

    p = sub.add_parser(
        "motion",
        help="humanoid motion clips: list them, or write a video of one",
        epilog="examples: imitate motion list | imitate motion view humanoid3d_walk --out walk.mp4",
    )
    p.add_argument("action", choices=["list", "view"])
    p.add_argument("clip", nargs="?", help="clip name (humanoid3d_walk, walk, walker/turn_left0) or .txt path")
    p.add_argument("--out", default=None, help="output video (default CLIP.mp4)")
    p.add_argument("--seconds", type=float, default=None, help="length (default: one clip length)")
    p.add_argument("--renderer", default="auto", choices=["auto", "mujoco", "stick"])
    p.set_defaults(func=_motion)

    p = sub.add_parser(
        "pretrained",
        help="list the pretrained runs that ship with the package (imitate eval pretrained:NAME)",
        epilog="examples: imitate pretrained | imitate eval pretrained:maze/near | "
        "imitate pretrained --build maze/near (retrains it with its recorded command; docs/pretrained.md)",
    )
    p.add_argument("--build", metavar="NAME", default=None, help="rebuild NAME: train, strip, check, write")
    p.add_argument("--from", dest="from_run", metavar="RUN_DIR", default=None, help="package this finished run")
    p.add_argument("--out", default=None, help="folder to write into (default: the package's own)")
    p.set_defaults(func=_pretrained)

    p = sub.add_parser(
        "demo",
        help="the main job: NEAR learns the maze end to end",
        epilog="overrides go to the NEAR policy run; prefix energy. for step 1 (energy.iterations=5000)",
    )
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.set_defaults(func=_demo)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or _one_line(exc)}"


def _quiet_broken_pipe() -> int:
    """The reader went away: point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): a code, for callers of main()
        return exc.code if isinstance(exc.code, int) else 2
    from imitate.viz.gl import gl_env_problem

    if problem := gl_env_problem():  # else mujoco's import fails deep inside a command
        print(f"imitate: error: {problem}", file=sys.stderr)
        return 2
    # list, config and the pretrained listing never import torch (nor build anything)
    if args.func not in (_list, _config, _pretrained) or getattr(args, "build", None):
        from imitate.runner import set_threads

        set_threads()
    try:
        args.func(args)
        sys.stdout.flush()
    except EXPECTED_ERRORS as exc:
        print(f"imitate: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:  # a path that cannot be read or written, a full disk
        print(f"imitate: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("imitate: interrupted; resume with `imitate train TASK ALGO resume=RUN_DIR`", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line; the traceback on request
        if os.environ.get("IMITATE_DEBUG"):
            raise
        from imitate.viz.gl import gl_import_failure

        if problem := gl_import_failure(exc):  # the user's MUJOCO_GL backend is not installed: not a bug
            print(f"imitate: error: {problem}", file=sys.stderr)
            return 2
        print(
            f"imitate: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(IMITATE_DEBUG=1 shows the traceback; please report it)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
