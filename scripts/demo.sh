#!/usr/bin/env bash
# scripts/demo.sh: build cask and run the chapter's examples (6-1, 6-2, ...) in order.
#
# One command on a fresh Debian 12 machine (run as root, or as a user with sudo):
#   scripts/demo.sh
# It installs the packages it needs with apt (only when something is missing), configures
# and builds the examples in build/ under the repository (RelWithDebInfo, -j2), then runs every
# example program in build/examples whose name looks like <chapter>_<number>_<name>
# (6_1_launching_futures, ..., 6_10_...), in numeric order, each under a heading.
# Safe to run again: installed packages and an existing build are reused.
#
# Time: the chapter's slow(x) sleeps 3*x seconds. The examples multiply every duration by
# CASK_EXAMPLE_TIME_SCALE; this script uses the value from the environment if set, else
# 0.2, so that the whole demo takes well under a minute (1.0 = the chapter's real speed):
#   CASK_EXAMPLE_TIME_SCALE=1 scripts/demo.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$repo/build"
export CASK_EXAMPLE_TIME_SCALE="${CASK_EXAMPLE_TIME_SCALE:-0.2}"

# --- packages (the same list as scripts/test.sh's, installed only when missing) ---------
bash "$repo/scripts/install_deps.sh"

# --- build ----------------------------------------------------------------------------
# build/ is shared with the README's test command (scripts/test.sh), hence the same build
# type; only the examples (target cask_examples) are built here.
echo "== building the examples in $build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASK_BUILD_EXAMPLES=ON
cmake --build "$build" -j2 --target cask_examples

# --- run ------------------------------------------------------------------------------
mapfile -t examples < <(find "$build/examples" -maxdepth 1 -type f -perm -u+x \
  -regextype posix-extended -regex '.*/([0-9]+_[0-9]+|demo)_[A-Za-z0-9_]+' -printf '%f\n' | sort -V)
if ((${#examples[@]} == 0)); then
  echo "demo.sh: no example programs found in $build/examples" >&2
  exit 1
fi

echo "== running ${#examples[@]} examples with CASK_EXAMPLE_TIME_SCALE=$CASK_EXAMPLE_TIME_SCALE"
failed=()
for name in "${examples[@]}"; do
  echo
  echo "=================================================================================="
  if [[ $name == demo_* ]]; then
    echo "Demo: $(sed -E 's/^demo_//; s/_/ /g' <<<"$name")"
  else
    number=$(sed -E 's/^([0-9]+)_([0-9]+)_.*/\1-\2/' <<<"$name")
    title=$(sed -E 's/^[0-9]+_[0-9]+_//; s/_/ /g' <<<"$name")
    echo "Example $number: $title"
  fi
  source_file="$repo/examples/$name.cpp"
  if [[ -f $source_file ]]; then
    head -n 1 "$source_file" | sed -E 's#^// ?##'
  fi
  echo "----------------------------------------------------------------------------------"
  start=$(date +%s.%N)
  if "$build/examples/$name"; then
    status=0
  else
    status=$?
    failed+=("$name")
  fi
  end=$(date +%s.%N)
  printf -- '---------------------------------------------------- exit %d, %.1f s wall time\n' \
    "$status" "$(echo "$end - $start" | awk '{print $1 - $3}')"
done

echo
if ((${#failed[@]} > 0)); then
  echo "== ${#failed[@]} example(s) failed: ${failed[*]}"
  exit 1
fi
echo "== all ${#examples[@]} examples ran"
