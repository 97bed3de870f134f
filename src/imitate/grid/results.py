"""``imitate results GRID_DIR``: one table per task and learning curves, built from the runs.

Each row is one cell (algorithm × sweep values) over its seeds. Every number comes from the run
directories under ``GRID_DIR/runs`` (``metrics.json``, ``progress.jsonl``); ``manifest.json``
only says which cells and seeds the grid has. So the tables can be rebuilt at any time, also
while the grid runs. Per cell and metric: the mean, the sample standard deviation (n − 1), the
95% confidence interval of the mean (Student's t with n − 1 degrees of freedom) and n, the
number of seeds whose run finished. Writes ``results/<task>.md|.csv|.json`` and
``results/plots/<task>/<metric>.png``: one plot per curve metric, mean ± std over seeds.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from imitate.config import ConfigError
from imitate.grid.execute import find_run
from imitate.utils.io import atomic_write, atomic_write_json

# Metrics shown first (and in the markdown table) when present; the CSV and JSON hold them all.
LEADING_METRICS = (
    "success_rate",
    "final_coverage",
    "max_coverage",
    "demo_distance",
    "episode_length",
    "return",
    "dsm_loss",
    "bc_loss",
    "train_seconds",
    "env_steps",
)


def summarise(values: list[float]) -> dict[str, Any]:
    """mean, std (n − 1), 95% CI of the mean [low, high] and n; std and CI are None for n = 1."""
    from scipy import stats

    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return {"mean": mean, "std": None, "ci95": None, "n": n}
    std = float(np.std(values, ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": n}


def _numeric(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def collect(base: Path) -> dict[str, list[dict[str, Any]]]:
    """{task: [cell rows]}: each grid cell with its finished runs' metrics and progress rows."""
    manifest_path = base / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(f"{base} is not a grid directory (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for job in manifest["jobs"]:
        if job["role"] != "grid":
            continue
        key = (job["task"], job["algo"], job["cell"])
        cell = cells.setdefault(
            key, {"task": job["task"], "algo": job["algo"], "axes": job["axes"], "runs": [], "missing": []}
        )
        out = f"runs/{job['cell']}" if job["cell"] else "runs"
        run = find_run(base, f"{out}/{job['task']}/{job['algo']}/*-{job['seed']}")
        if run is None or not (base / run / "metrics.json").is_file():
            cell["missing"].append(job["seed"])
            continue
        progress = base / run / "progress.jsonl"
        rows = [json.loads(line) for line in progress.read_text().splitlines() if line] if progress.is_file() else []
        cell["runs"].append(
            {"seed": job["seed"], "metrics": json.loads((base / run / "metrics.json").read_text()), "progress": rows}
        )
    order = manifest.get("axes", [])  # the sweep's order (the JSON's own keys are sorted)
    by_task: dict[str, list[dict[str, Any]]] = {}
    for cell in cells.values():
        cell["axes"] = {
            k: cell["axes"][k]
            for k in sorted(cell["axes"], key=lambda k: (k not in order, order.index(k) if k in order else 0, k))
        }
        by_task.setdefault(cell["task"], []).append(cell)
    return by_task


def _order(keys: set[str]) -> list[str]:
    lead = len(LEADING_METRICS)
    return sorted(keys, key=lambda k: (LEADING_METRICS.index(k) if k in LEADING_METRICS else lead, k))


def task_table(task: str, cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The table of one task: axes, metrics and one row per cell."""
    axes = list(dict.fromkeys(k for c in cells for k in c["axes"]))
    rows: list[dict[str, Any]] = []
    metrics: set[str] = set()
    for cell in cells:
        values: dict[str, list[float]] = {}
        for run in cell["runs"]:
            for k, v in _numeric(run["metrics"]).items():
                values.setdefault(k, []).append(v)
        # a metric only every finished seed reports, so each mean is over the same seeds
        shared = {k: v for k, v in values.items() if len(v) == len(cell["runs"])}
        metrics |= shared.keys()
        rows.append(
            {
                "algo": cell["algo"],
                "axes": {k: cell["axes"].get(k, "") for k in axes},
                "seeds": len(cell["runs"]),
                "missing_seeds": sorted(cell["missing"]),
                "metrics": {k: summarise(v) for k, v in sorted(shared.items())},
            }
        )
    return {"task": task, "axes": axes, "metrics": _order(metrics), "rows": rows}


def _cell(s: dict[str, Any] | None) -> str:
    if s is None:
        return "—"
    if s["std"] is None:
        return f"{s['mean']:.3g}"
    if s["std"] == 0:
        return f"{s['mean']:.3g} ± 0"
    low, high = s["ci95"]
    return f"{s['mean']:.3g} ± {s['std']:.2g} [{low:.3g}, {high:.3g}]"


def render_markdown(table: dict[str, Any]) -> str:
    shown = [m for m in table["metrics"] if m in LEADING_METRICS] or table["metrics"]
    head = ["algo", *table["axes"], "seeds", *shown]
    lines = [
        f"# {table['task']}: mean ± std [95% CI of the mean] over seeds",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in table["rows"]:
        cells = [row["algo"], *row["axes"].values(), str(row["seeds"])]
        lines.append("| " + " | ".join(cells + [_cell(row["metrics"].get(m)) for m in shown]) + " |")
    return "\n".join(lines) + "\n"


def render_csv(table: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    stats = ("mean", "std", "ci95_low", "ci95_high")
    writer.writerow(["algo", *table["axes"], "seeds", *(f"{m}_{s}" for m in table["metrics"] for s in stats)])
    for row in table["rows"]:
        out: list[Any] = [row["algo"], *row["axes"].values(), row["seeds"]]
        for m in table["metrics"]:
            s = row["metrics"].get(m)
            ci = (s or {}).get("ci95") or ["", ""]
            out += ["", "", "", ""] if s is None else [s["mean"], "" if s["std"] is None else s["std"], *ci]
        writer.writerow(out)
    return buf.getvalue()


def curve_keys(cells: list[dict[str, Any]]) -> list[str]:
    """The learning-curve metrics of the task's algorithms (their registry entries), present in runs."""
    from imitate.registry import get_algo

    keys = dict.fromkeys(k for c in cells for k in get_algo(c["algo"]).curve_keys)
    return [k for k in keys if any(k in r for c in cells for run in c["runs"] for r in run["progress"])]


def write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text), mode="w")


def write_results(base: str | Path) -> list[Path]:
    """Every task's table (md, csv, json) and curves under ``base/results``; returns the paths."""
    from imitate.viz.curves import plot_curves_with_spread

    base = Path(base)
    out = base / "results"
    written: list[Path] = []
    for task, cells in collect(base).items():
        table = task_table(task, cells)
        for suffix, text in ((".md", render_markdown(table)), (".csv", render_csv(table))):
            written.append(write_text(out / f"{task}{suffix}", text))
        written.append(atomic_write_json(out / f"{task}.json", table))
        axes = table["axes"]
        groups = {
            c["algo"] + (": " + " / ".join(c["axes"].get(k, "") for k in axes) if axes else ""): [
                r["progress"] for r in c["runs"]
            ]
            for c in cells
        }
        title = f"{task}: mean ± std over seeds" + (f" ({' / '.join(axes)})" if axes else "")
        for key in curve_keys(cells):
            path = out / "plots" / task / (key.replace("/", "_") + ".png")
            made = plot_curves_with_spread(groups, [key], path, title=title)
            if made is not None:
                written.append(made)
    return written
