"""`imitate grid backend=ray` on a real 2-node Ray cluster on this machine (ray.cluster_utils).

One cluster for the module (it takes 10-20 s to start); every training is tiny. A grid run on the
cluster equals, bit for bit, the same grid run in local processes; a Ray worker killed mid-run is
retried and its run continues from its checkpoint; a run that always fails is reported with its
error line while the others finish; a finished grid runs nothing again.
"""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from imitate.config import ConfigError
from imitate.grid import load_spec, run_grid
from imitate.utils.reproducibility import differences

ray = pytest.importorskip("ray")

TINY = {
    "num_envs": "16",
    "rollout_steps": "8",
    "minibatches": "2",
    "epochs": "1",
    "eval_episodes": "1",
    "hidden": "16,16",
}


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def grid(path: Path, **keys: str):
    return run_grid(load_spec(None, {"tasks": "maze", "algos": "ppo", "dir": str(path), **TINY, **keys}))


def test_the_tiny_keys_are_ppo_keys():  # the kill test gives them as ppo.KEY beside an energy run
    assert set(TINY) <= {"num_envs", "rollout_steps", "minibatches", "epochs", "eval_episodes", "hidden"}


def manifest(path: Path) -> dict:
    return {j["name"]: j for j in json.loads((path / "manifest.json").read_text())["jobs"]}


def test_a_grid_on_the_cluster_equals_the_local_grid_and_resumes_to_nothing(cluster, tmp_path):
    keys = {"seeds": "2", "total_steps": "256"}
    # copy storage: each run trains in its node's scratch directory and comes back as an archive
    on_ray = grid(tmp_path / "ray", backend="ray", address=cluster.address, storage="copy", **keys)
    local = grid(tmp_path / "local", backend="local", jobs="2", **keys)
    assert on_ray.ran == local.ran == 2 and not on_ray.failed and not local.failed
    ray_jobs, local_jobs = manifest(tmp_path / "ray"), manifest(tmp_path / "local")
    assert len({j["node"] for j in ray_jobs.values()}) == 2  # one run on each node
    for name, job in ray_jobs.items():
        assert differences(tmp_path / "ray" / job["run"], tmp_path / "local" / local_jobs[name]["run"]) == []
    config = (tmp_path / "ray" / job["run"] / "config.yaml").read_text()
    assert f"out_dir: {(tmp_path / 'ray').resolve()}/runs" in config  # paths point into the grid, not the scratch
    again = grid(tmp_path / "ray", backend="ray", address=cluster.address, storage="copy", **keys)
    assert (again.ran, again.skipped) == (0, 2)


def _training_process(marker: str, algo: str) -> tuple[int, int] | None:
    """(pid, parent pid) of the `imitate.cli train` process of ``algo`` whose command line holds
    ``marker`` (the grid's other runs share the marker: the algo picks the one)."""
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            if b"imitate.cli" in cmd and algo.encode() in cmd and any(marker.encode() in part for part in cmd):
                stat = (entry / "stat").read_text()
                return int(entry.name), int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    return None


def test_a_killed_worker_is_retried_and_a_failing_run_is_reported(cluster, tmp_path):
    keys = {
        "algos": "ppo,energy",
        "seeds": "1",
        **{f"ppo.{k}": v for k, v in TINY.items()},
        "ppo.total_steps": "12800",  # 100 iterations, a checkpoint after each
        "ppo.checkpoint_every": "1",
        "energy.lr": "1e30",  # the energy model diverges at once: exit 2, not retried
        "energy.iterations": "50",
        "energy.demo_episodes": "8",
        "energy.hidden": "16,16",
    }
    base = tmp_path / "kill"
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(
            report=run_grid(
                load_spec(
                    None,
                    {
                        "tasks": "maze",
                        "dir": str(base),
                        "backend": "ray",
                        "address": cluster.address,
                        "retries": "1",
                        **keys,
                    },
                )
            )
        )
    )
    thread.start()
    checkpoint = None
    deadline = time.time() + 120
    while checkpoint is None and time.time() < deadline and thread.is_alive():
        found = list(base.glob("runs/maze/ppo/*-0/checkpoints/latest.pt"))
        checkpoint = found[0] if found else None
        time.sleep(0.2)
    assert checkpoint is not None, "the ppo run wrote no checkpoint"
    process = _training_process(f"out_dir={base.resolve()}/runs", "ppo")
    assert process is not None and "metrics.json" not in os.listdir(checkpoint.parent.parent)
    os.kill(process[1], signal.SIGKILL)  # the Ray worker running the attempt; its training dies with it
    thread.join(timeout=240)
    assert not thread.is_alive()
    jobs = manifest(base)
    ppo, energy = jobs["maze/ppo/seed0"], jobs["maze/energy/seed0"]
    assert ppo["status"] == "done" and ppo["attempts"] == 2, ppo
    log = (base / ppo["log"]).read_text()
    assert "--- attempt 1" in log and "--- attempt 2" in log
    assert energy["status"] == "failed" and energy["attempts"] == 1
    assert energy["error"].startswith("imitate: error: dsm_loss is not finite (nan)")
    assert [s.job.name for s in result["report"].failed] == ["maze/energy/seed0"]


def test_an_unreachable_address_is_one_line_and_writes_nothing(tmp_path):
    with pytest.raises(ConfigError) as err:
        grid(tmp_path / "g", backend="ray", address="127.0.0.1:1")
    assert str(err.value).startswith("address=127.0.0.1:1: cannot reach 127.0.0.1:1") and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="expected auto, local, HOST:PORT or ray://HOST:PORT"):
        grid(tmp_path / "g", backend="ray", address="nowhere")
    assert not (tmp_path / "g").exists()


def test_without_ray_installed_the_error_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ConfigError, match=r"backend=ray needs Ray: pip install 'imitate\[ray\]'"):
        grid(tmp_path / "g", backend="ray", address="auto")
