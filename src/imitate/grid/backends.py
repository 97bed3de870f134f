"""Where a grid's runs execute: local processes (the default) or Ray tasks on a cluster.

A backend starts attempts (``grid/execute.py``) and hands back a ``concurrent.futures.Future``
per attempt; the scheduler (``grid/schedule.py``) does the rest, the same for both. Ray is
imported only for ``backend=ray``.
"""

from __future__ import annotations

import logging
import os
import socket
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from imitate.config import ConfigError
from imitate.grid.execute import run_attempt


class LocalBackend:
    """Each attempt a child process of this one, ``jobs`` at a time (default: the CPU count)."""

    def __init__(self, jobs: int | None):
        self.capacity = jobs or os.cpu_count() or 1
        self.pool = ThreadPoolExecutor(max_workers=self.capacity)

    def submit(self, payload: dict[str, Any], cpus: int, gpus: float) -> Future:
        return self.pool.submit(run_attempt, payload)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """``HOST:PORT`` or ``ray://HOST:PORT`` answers a TCP connection; else a one-line error
    (Ray itself would wait a minute or more before giving up)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ConfigError(f"address={address}: expected auto, local, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(f"address={address}: cannot reach {host}:{port} ({exc.strerror or exc})") from None


class RayBackend:
    """Each attempt a Ray task declaring ``cpus`` CPUs and ``gpus`` GPUs; Ray places it on a
    node with them free. Ray's own retries are off: the scheduler retries, the same way for
    every backend, so the count and the last error line are the grid's."""

    def __init__(self, address: str, jobs: int | None):
        try:
            import ray
        except ImportError:
            raise ConfigError("backend=ray needs Ray: pip install 'imitate[ray]'") from None
        if address not in ("auto", "local"):
            check_reachable(address)
        try:
            ray.init(
                address=None if address == "local" else address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        except ConnectionError as exc:
            raise ConfigError(f"address={address}: {' '.join(str(exc).split())}") from None
        self.ray = ray
        self.remote = ray.remote(max_retries=0)(run_attempt)
        self.capacity = jobs or 1_000_000  # Ray queues what the cluster cannot place yet

    def submit(self, payload: dict[str, Any], cpus: int, gpus: float) -> Future:
        return self.remote.options(num_cpus=cpus, num_gpus=gpus).remote(payload).future()

    def close(self) -> None:
        self.ray.shutdown()


def make_backend(backend: str, address: str, jobs: int | None) -> LocalBackend | RayBackend:
    return RayBackend(address, jobs) if backend == "ray" else LocalBackend(jobs)
