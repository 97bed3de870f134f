# Two commands matter: `make demo` (set up + NEAR learns the maze) and `make test` (set up + tests).
# Set-up needs only Python 3.11+ and pip; torch is pinned to 2.13.0, the CPU build here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint wheel-check test-slow bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,bench]"
	touch $@

demo: setup
	$(BIN)/imitate demo

test: setup
	$(BIN)/python -m pytest -q

# Lint, format, types and the layer contract (docs/architecture.md); .ci/run runs it before the tests.
lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# The wheel alone in a fresh venv, one command per task family (.ci/run runs it after the tests).
wheel-check:
	.ci/wheel_check.sh $(PYTHON)

test-slow: setup
	$(BIN)/python -m pytest -q -m slow

bench: setup
	$(BIN)/python benchmarks/maze_env_throughput.py
	$(BIN)/python benchmarks/near_maze.py --algos near,ppo,ppo-bonus,amp,cem
	$(BIN)/python benchmarks/ppo_vs_sb3.py
	$(BIN)/python benchmarks/ppo_vs_sb3.py --env HalfCheetah-v5
	$(BIN)/python benchmarks/pusht_throughput.py
	$(BIN)/python benchmarks/compare_tasks.py pusht
	$(BIN)/python benchmarks/block_push_throughput.py
	$(BIN)/python benchmarks/particle_oracle_timing.py
	$(BIN)/python benchmarks/ibc_preset_cost.py
	$(BIN)/python benchmarks/ibc_particle.py
	$(BIN)/python benchmarks/ibc_particle.py --goal-order either --dims 2
	$(BIN)/python benchmarks/compare_tasks.py block-push
	$(BIN)/python benchmarks/humanoid_sim_throughput.py
	$(BIN)/python benchmarks/humanoid_tracking.py

clean:
	rm -rf $(VENV) runs
