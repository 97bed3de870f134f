"""One attempt of one grid run, wherever a backend places it: a local thread or a Ray task.

The attempt is an ordinary ``imitate train`` in a child process, so a run on a Ray node is the
same run as a local one (same command, same thread count, same seed: bit for bit the same
numbers). The child dies with the process that started it (Linux ``PR_SET_PDEATHSIG``): a Ray
worker killed mid-run leaves no training behind that could write into the run the retry resumes.

Storage:

- ``shared``: every node sees the grid directory at the same path (NFS, a cluster's scratch
  file system, or one machine). The run writes there directly; a retry on any node continues
  from the last checkpoint.
- ``copy``: nodes share no file system. The attempt works in a scratch directory of its node;
  what it needs (the run to resume, the energy run it trains on) travels with the task as an
  archive, and the run directory comes back as one, unpacked into the grid directory, its
  ``config.yaml`` paths rewritten from the scratch directory to the grid directory. A worker
  killed mid-run loses what it did since the attempt started: the retry starts from the copy
  the grid directory has.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

LOG_LIMIT = 200_000  # characters of a run's output kept in its log


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL it when its parent dies (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def pack(root: Path, rel: str) -> bytes:
    """``root/rel`` as a gzipped tar whose members are named relative to ``root``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(root / rel, arcname=rel)
    return buf.getvalue()


def unpack(data: bytes, root: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(root, filter="data")


def find_run(root: Path, pattern: str) -> str | None:
    """The run directory matching ``pattern`` under ``root``, relative to it (the newest)."""
    found = sorted(p for p in root.glob(pattern) if p.is_dir())
    return str(found[-1].relative_to(root)) if found else None


def error_line(log: str, code: int) -> str:
    """The line that says why a run failed: its ``imitate:`` error, else its last line."""
    if code < 0:
        return f"killed by signal {-code} ({signal.Signals(-code).name})"
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("imitate:")]
    return (said or lines or [f"exit code {code}"])[-1]


def node_name() -> str:
    """The host, and in a Ray worker the Ray node too (a test cluster's nodes share one host)."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return f"{socket.gethostname()}/{ray.get_runtime_context().get_node_id()[:12]}"
    return socket.gethostname()


def run_attempt(payload: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume) one run as ``payload`` describes; returns its outcome.

    ``payload``: ``task``, ``algo``, ``seed``, ``args`` (config keys), ``out`` (its out_dir
    relative to the grid), ``glob`` (where its run appears), ``links`` (config field -> a run
    directory relative to the grid, e.g. NEAR's ``energy``), ``resume`` (its run directory to
    continue, relative) or None, ``threads``, ``storage``, ``root`` (the grid directory; shared
    storage) and ``inputs`` (copy storage: archives of the runs it links or resumes)."""
    copy = payload["storage"] == "copy"
    root = Path(tempfile.mkdtemp(prefix="imitate-grid-")) if copy else Path(payload["root"])
    try:
        for archive in payload.get("inputs", []):
            unpack(archive, root)
        args = [f"{k}={v}" for k, v in payload["args"].items()]
        args += [f"{field}={root / rel}" for field, rel in payload["links"].items()]
        args += [f"seed={payload['seed']}", f"out_dir={root / payload['out']}", "progress=false"]
        if payload["resume"]:
            args.append(f"resume={root / payload['resume']}")
        env = {**os.environ, "IMITATE_THREADS": str(payload["threads"]), "OMP_NUM_THREADS": str(payload["threads"])}
        proc = subprocess.run(
            [sys.executable, "-m", "imitate.cli", "train", payload["task"], payload["algo"], *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        log = proc.stdout[-LOG_LIMIT:]
        run = find_run(root, payload["glob"])
        done = proc.returncode == 0 and run is not None and (root / run / "metrics.json").is_file()
        return {
            "code": proc.returncode,
            "done": done,
            "error": "" if done else error_line(log, proc.returncode),
            "log": log,
            "run": run,
            "node": node_name(),
            "archive": pack(root, run) if copy and run is not None else None,
            "scratch": str(root) if copy else None,
        }
    finally:
        if copy:
            shutil.rmtree(root, ignore_errors=True)
