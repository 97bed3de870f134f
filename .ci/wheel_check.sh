#!/usr/bin/env bash
# A new user's install: build the wheel, install it with no extras into a fresh venv (torch pinned
# first, as the README says), then run one command of each task family from a folder outside the
# repository, so nothing is read from the source tree or from the dev extra (pybullet, onnx).
# Prints its time. Usage: .ci/wheel_check.sh [PYTHON] (default: the Makefile's python3.11/python3).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${1:-$(command -v python3.11 || command -v python3)}"
WORK="$(mktemp -d -t imitate-wheel-XXXXXX)"
start=$SECONDS
trap 'cd /; rm -rf "$WORK"' EXIT
step() { echo "== wheel check: $* ($((SECONDS - start)) s)"; }

# Build from a copy of the sources, so setuptools' build/ and egg-info stay out of the checkout.
step "build the wheel"
mkdir "$WORK/src"
cp -r "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/src" "$WORK/src/"
"$PYTHON" -m venv "$WORK/venv"
VENV="$WORK/venv/bin"
"$VENV/pip" wheel -q --no-deps -w "$WORK/dist" "$WORK/src"
WHEEL="$(ls "$WORK"/dist/imitate-*.whl)"
echo "wheel: $(basename "$WHEEL"), $(du -k "$WHEEL" | cut -f1) KB"

step "install torch==2.13.0, then the wheel without extras"
# --no-compile: no .pyc for all of torch up front; imports compile only the modules they use
"$VENV/pip" install -q --no-compile torch==2.13.0  # pinned exactly: the CPU build, never the CUDA one
"$VENV/pip" install -q --no-compile "$WHEEL"

mkdir "$WORK/user" && cd "$WORK/user"
export IMITATE_THREADS=1 OMP_NUM_THREADS=1 IMITATE_CACHE="$WORK/cache" MPLBACKEND=Agg
unset PYTHONPATH
IM="$VENV/imitate"
"$VENV/python" - <<'EOF'
import importlib.util, pathlib, sys
import imitate
where = pathlib.Path(imitate.__file__).resolve()
assert "site-packages" in where.parts, f"imitate imported from {where}, not the installed wheel"
for extra in ("pybullet", "pybullet_data", "onnx"):  # dev / onnx extras must not be needed
    assert importlib.util.find_spec(extra) is None, f"{extra} is installed: the check would not see a need for it"
print(f"imitate from {where.parent}")
EOF
TINY_PPO="num_envs=4 rollout_steps=4 total_steps=32 minibatches=1 epochs=1 hidden=16,16 eval_episodes=2 progress=false"
TINY_BC="iterations=5 demo_episodes=4 width=16 batch_size=32 eval_episodes=2 progress=false"
passed=0
run() {
  step "imitate $*"
  "$IM" "$@" > "$WORK/out.txt" || { cat "$WORK/out.txt"; echo "wheel-check: $passed passed, 1 failed"; exit 1; }
  tail -c 300 "$WORK/out.txt"; echo; passed=$((passed + 1))
}

run list
run train maze ppo $TINY_PPO
run train maze near $TINY_PPO energy=pretrained:maze/energy
run data pusht --episodes 2 --out pusht.npz --no-progress
run train particle ibc-dfo $TINY_BC dfo_samples=16 counter_examples=4
run train block-push mse $TINY_BC
run train humanoid-walk deepmimic $TINY_PPO
run train humanoid amp $TINY_PPO demo_episodes=4 disc.hidden=16,16 disc.batch_size=16 disc.updates=1
run motion list
run motion view walker/turn_left0 --renderer stick --seconds 0.5 --out turn.mp4
test -s turn.mp4
run pretrained
run eval pretrained:maze/near --video
test -s runs/pretrained/maze/near/videos/policy.mp4
run eval pretrained:humanoid-walk/deepmimic --episodes 1  # its --video is motion view's writer, above
step "an extra's one-line error"
if "$IM" export pretrained:maze/near --onnx p.onnx 2> err.txt; then echo "export ran without the onnx extra"; exit 1; fi
grep -q "pip install 'imitate\[onnx\]'" err.txt || { cat err.txt; echo "wheel-check: $passed passed, 1 failed"; exit 1; }
cat err.txt
passed=$((passed + 1))
"$VENV/python" -c "import gymnasium as gym, imitate; e = gym.make('imitate/Maze-v0'); e.reset(seed=0); print('gym ok')"
passed=$((passed + 1))
step "done"
trap - EXIT
cd / && rm -rf "$WORK"
echo "== wheel check: removed its venv ($((SECONDS - start)) s in all)"
echo "wheel-check: $passed passed, 0 failed"
