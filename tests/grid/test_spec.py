"""Grid specs: YAML and command line, the expansion into jobs, and bad input in one line."""

import pytest

from imitate.config import ConfigError
from imitate.grid.spec import expand, load_spec


def test_the_near_ablation_grid_trains_each_energy_model_once():
    spec = load_spec("benchmarks/grids/near_maze_ablations.yaml", {})
    jobs = expand(spec)
    energy = [j for j in jobs if j.algo == "energy"]
    near = [j for j in jobs if j.algo == "near"]
    assert len(near) == 2 * 4 * 2 * 3 and len(energy) == 2 * 3  # one energy model per NCSN version and seed
    assert jobs[: len(energy)] == energy and all(j.role == "required" for j in energy)
    for job in near:
        (dep,) = job.needs.values()
        assert dep == f"maze/energy/energy.version={job.axes['energy.version']}/seed{job.seed}"
        assert "version" not in job.args and job.args["total_steps"] == "100000"
    v1 = next(j for j in energy if j.axes == {"energy.version": "v1"})
    assert v1.args["version"] == "v1" and v1.args["iterations"] == "3000" and "total_steps" not in v1.args
    assert {j.axes["noise_level"] for j in near} == {"annealed", "largest", "middle", "smallest"}


def test_command_line_keys_go_on_top_of_the_file():
    spec = load_spec(
        "benchmarks/grids/near_maze_ablations.yaml",
        {"seeds": "0,4", "sweep.absorbing_success": "true", "w_task": "0.3", "backend": "ray", "address": "auto"},
    )
    assert spec.seeds == [0, 4] and spec.sweep["absorbing_success"] == ["true"] and spec.overrides["w_task"] == "0.3"
    assert (spec.backend, spec.address, spec.jobs) == ("ray", "auto", 1)
    assert load_spec("benchmarks/grids/near_maze_ablations.yaml", {"jobs": ""}).jobs is None  # no limit


def test_per_algo_keys_reach_only_their_algo():
    spec = load_spec(None, {"tasks": "maze", "algos": "ppo,amp", "seeds": "1", "sweep.amp.w_gp": "5,10", "lr": "1e-3"})
    jobs = expand(spec)
    assert [(j.algo, j.cell) for j in jobs] == [("ppo", ""), ("amp", "amp.w_gp=5"), ("amp", "amp.w_gp=10")]
    assert jobs[1].args == {"lr": "1e-3", "w_gp": "5"} and jobs[0].args == {"lr": "1e-3"}


@pytest.mark.parametrize(
    "cli, message",
    [
        ({"sweep.num_envz": "1,2"}, "grid cell maze/ppo [num_envz=1]: unknown key 'num_envz'"),
        ({"backend": "slurm"}, "backend must be one of local, ray, got 'slurm'"),
        ({"storage": "s3"}, "storage must be one of shared, copy"),
        ({"seeds": "0"}, "seeds must be at least 1"),
        ({"jobs": "two"}, "jobs expects int"),
        ({"sweep.lr": "1e-3,1e-3"}, "sweep.lr lists a value twice"),
        ({"sweep.lr": "1e-3", "lr": "1e-4"}, "lr is both swept and fixed"),
        ({"sweep.amp.w_gp": "5"}, "'amp' is not one of the grid's algos (ppo)"),
        ({"sweep.num_envs": "0"}, "num_envs must be at least 1"),
    ],
)
def test_bad_input_is_one_line(cli, message):
    with pytest.raises(ConfigError) as err:
        expand(load_spec(None, {"tasks": "maze", "algos": "ppo", **cli}))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_grid_needs_tasks_and_algos_and_known_keys(tmp_path):
    with pytest.raises(ConfigError, match="a grid needs tasks="):
        load_spec(None, {"algos": "ppo"})
    (tmp_path / "g.yaml").write_text("tasks: [maze]\nalgos: [ppo]\nsweeps: {lr: [1]}\n")
    with pytest.raises(ConfigError, match="unknown grid key 'sweeps'"):
        load_spec(str(tmp_path / "g.yaml"), {})
    with pytest.raises(ConfigError, match="grid file not found"):
        load_spec(str(tmp_path / "none.yaml"), {})


@pytest.mark.parametrize("name", ["maze_methods", "pusht_methods", "block_push_ibc"])
def test_the_benchmark_grids_expand(name):
    jobs = expand(load_spec(f"benchmarks/grids/{name}.yaml", {}))
    assert len({j.name for j in jobs}) == len(jobs) and all(j.seed in (0, 1, 2) for j in jobs)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep.num_envz=1,2"], "unknown key 'num_envz'"),
        (["backend=slurm"], "backend must be one of local, ray, got 'slurm'"),
        (["backend=ray", "address=127.0.0.1:1"], "address=127.0.0.1:1: cannot reach 127.0.0.1:1"),
    ],
)
def test_the_grid_command_says_bad_input_in_one_line_and_writes_nothing(argv, message, tmp_path, capsys):
    from imitate.cli import main

    assert main(["grid", "tasks=maze", "algos=ppo", f"dir={tmp_path / 'g'}", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("imitate: error: ") and message in err
    assert not (tmp_path / "g").exists()
