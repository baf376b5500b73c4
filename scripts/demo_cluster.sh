#!/usr/bin/env bash
# scripts/demo_cluster.sh: build cask and run the chapter's examples (6-1, 6-2, ...) on a
# cluster of processes: a cask-scheduler and two cask-worker processes on 127.0.0.1.
#
# One command on a fresh Debian 12 machine (run as root, or as a user with sudo):
#   scripts/demo_cluster.sh
# Like scripts/demo.sh it installs the packages it needs (only when something is missing)
# and builds in build/ under the repository (RelWithDebInfo, -j2): the chapter examples,
# each also as lib<name>_tasks.so (the module the workers preload for its CASK_REMOTE
# functions), cask-scheduler and cask-worker (target cask_examples_cluster). Then, for each
# example <chapter>_<number>_<name> in numeric order, examples/run_on_cluster.sh starts a
# fresh scheduler and two workers, runs the unchanged program with CASK_SCHEDULER_ADDRESS
# pointing at that scheduler, checks its output against examples/expected/<name>.txt (the
# same expectations as the embedded run) and stops the processes.
# Then the demos that use coordination objects (queue pipeline, stop flag, locked file) run
# the same way. Exits non-zero when any example fails.
#
# Time: as in demo.sh, every duration is multiplied by CASK_EXAMPLE_TIME_SCALE, 0.2 unless
# set (1.0 = the chapter's real speed); the workers get the same value.
#   CASK_EXAMPLE_TIME_SCALE=1 scripts/demo_cluster.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${CASK_BUILD_DIR:-$repo/build}"  # another build directory: CASK_BUILD_DIR=...
export CASK_EXAMPLE_TIME_SCALE="${CASK_EXAMPLE_TIME_SCALE:-0.2}"

# --- packages (the same list as scripts/test.sh's, installed only when missing) ---------
bash "$repo/scripts/install_deps.sh"

# --- build ----------------------------------------------------------------------------
# build/ is shared with scripts/demo.sh and scripts/test.sh, hence the same build type.
echo "== building the examples, their task modules, cask-scheduler and cask-worker in $build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASK_BUILD_EXAMPLES=ON
cmake --build "$build" -j2 --target cask_examples_cluster
for exe in cask-scheduler cask-worker; do
  if [[ ! -x $build/$exe ]]; then
    echo "demo_cluster.sh: $build/$exe was not built" >&2
    exit 1
  fi
done

# --- run ------------------------------------------------------------------------------
# The chapter's examples in numeric order, then the demos built for a cluster (those with
# a task module, lib<name>_tasks.so).
mapfile -t examples < <(find "$build/examples" -maxdepth 1 -type f -perm -u+x \
  -regextype posix-extended -regex '.*/([0-9]+_[0-9]+|demo)_[A-Za-z0-9_]+' -printf '%f\n' | sort -V |
  while read -r name; do [[ -f $build/examples/lib${name}_tasks.so ]] && echo "$name"; done)
if ((${#examples[@]} == 0)); then
  echo "demo_cluster.sh: no example programs found in $build/examples" >&2
  exit 1
fi

echo "== running ${#examples[@]} examples on a cluster," \
     "CASK_EXAMPLE_TIME_SCALE=$CASK_EXAMPLE_TIME_SCALE"
# Each example runs in run_on_cluster.sh, which stops its cluster when it ends, also on
# SIGINT/SIGTERM; an interrupted demo passes the signal on and waits for that.
runner=""
stop_runner() {
  if [[ -n $runner ]] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null
    wait "$runner" 2>/dev/null || true
  fi
}
trap 'stop_runner; exit 130' INT
trap 'stop_runner; exit 143' TERM
trap 'stop_runner' EXIT

failed=()
for name in "${examples[@]}"; do
  if [[ $name == demo_* ]]; then
    heading="Demo: $(sed -E 's/^demo_//; s/_/ /g' <<<"$name")"
  else
    heading="Example $(sed -E 's/^([0-9]+)_([0-9]+)_.*/\1-\2/' <<<"$name"):"
    heading+=" $(sed -E 's/^[0-9]+_[0-9]+_//; s/_/ /g' <<<"$name")"
  fi
  echo
  echo "=================================================================================="
  echo "$heading (on a cluster)"
  source_file="$repo/examples/$name.cpp"
  if [[ -f $source_file ]]; then
    head -n 1 "$source_file" | sed -E 's#^// ?##'
  fi
  echo "----------------------------------------------------------------------------------"
  start=$(date +%s.%N)
  "$repo/examples/run_on_cluster.sh" --build "$build" "$name" &
  runner=$!
  if wait "$runner"; then
    status=0
  else
    status=$?
    failed+=("$name")
  fi
  runner=""
  end=$(date +%s.%N)
  printf -- '---------------------------------------------------- exit %d, %.1f s wall time\n' \
    "$status" "$(echo "$end - $start" | awk '{print $1 - $3}')"
done

echo
if ((${#failed[@]} > 0)); then
  echo "== ${#failed[@]} of ${#examples[@]} example(s) failed on the cluster: ${failed[*]}"
  exit 1
fi
echo "== all ${#examples[@]} examples ran on the cluster and printed what was expected"
