#!/usr/bin/env bash
# bench/run.sh: cask and Dask side by side, in one run, and the comparison table.
# The table goes to stdout; progress and the raw JSON lines go to stderr.
#
#   bash bench/run.sh            # full sizes (about 15 minutes on a 2-core machine)
#   bash bench/run.sh --quick    # small sizes, a few minutes (a smoke run; Dask is slow)
#
# Installs what is missing (apt; needs root or sudo), builds cask_bench and
# cask_cluster_bench (with cask-scheduler, cask-worker and the task library its workers
# preload) in Release (build-bench/, or $CASK_BENCH_BUILD), runs cask_bench, then
# dask_bench.py with Debian's /usr/bin/python3, then the cluster-mode pair
# (cask_cluster_bench: a cask::LocalCluster of 2 worker processes x 1 thread;
# dask_cluster_bench.py: Dask's LocalCluster(processes=True) of the same shape), and prints
# the Markdown tables (bench/report.py). The raw JSON lines and the table are kept in
# bench/results/ (gitignored).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

quick=()
case "${1:-}" in
  "") ;;
  --quick) quick=(--quick) ;;
  *) echo "usage: bash bench/run.sh [--quick]" >&2; exit 2 ;;
esac

# --- dependencies --------------------------------------------------------------------
if [ -f scripts/install_deps.sh ]; then bash scripts/install_deps.sh; fi
needed=(cmake g++ make libcaf-dev python3-distributed)
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
PY=/usr/bin/python3   # Debian's interpreter, where python3-distributed lives

# --- build (Release) ---------------------------------------------------------------------
build="${CASK_BENCH_BUILD:-$root/build-bench}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! grep -q "CMAKE_BUILD_TYPE:STRING=Release" "$build/CMakeCache.txt" 2>/dev/null; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCASK_BUILD_TESTS=OFF \
        -DCASK_BUILD_EXAMPLES=OFF -DCASK_BUILD_BENCH=ON >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
echo "== building cask_bench, cask_cluster_bench (Release, $build) ==" >&2
cmake --build "$build" --target cask_bench cask_cluster_bench -j"$(nproc)" >"$log" 2>&1 \
  || { cat "$log" >&2; exit 1; }
bench="$build/bench/cask_bench"
cluster_bench="$build/bench/cask_cluster_bench"

# --- run -------------------------------------------------------------------------------
mkdir -p "$here/results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
cask_out="$here/results/cask-$stamp.jsonl"
dask_out="$here/results/dask-$stamp.jsonl"
table="$here/results/table-$stamp.md"

{
  echo "# cask vs Dask, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GB RAM, kernel $(uname -r)."
  echo "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other processes skew the figures)."
  echo "cask: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ' (+ local changes)'), Release; command: bash bench/run.sh ${quick[*]}"
  echo
} > "$table"

echo "== cask ($bench) ==" >&2
# The memory case runs in a process of its own so that no earlier case's freed memory
# hides its growth.
status=0
timeout 400 "$bench" "${quick[@]}" --case roundtrip,map_gather | tee "$cask_out" >&2 || status=1
timeout 200 "$bench" "${quick[@]}" --case memory_per_pending_future | grep -v '"case": "info"' \
  | tee -a "$cask_out" >&2 || status=1
# Issue 3: as_completed, nested submission, wait(FIRST_COMPLETED) reaction.
timeout 200 "$bench" "${quick[@]}" --case as_completed,nested_child,wait_first_reaction \
  | grep -v '"case": "info"' | tee -a "$cask_out" >&2 || status=1
# Issue 4: Queue/Variable/Lock/Event pairs and actor calls from the client thread.
timeout 200 "$bench" "${quick[@]}" --case queue,variable,lock,event,actor \
  | grep -v '"case": "info"' | tee -a "$cask_out" >&2 || status=1

echo "== Dask ($PY, distributed $($PY -c 'import distributed; print(distributed.__version__)')) ==" >&2
timeout 420 "$PY" "$here/dask_bench.py" "${quick[@]}" --case roundtrip,map_gather,memory_per_pending_future \
  2>"$here/results/dask-$stamp.stderr" | tee "$dask_out" >&2 || status=1
timeout 300 "$PY" "$here/dask_bench.py" "${quick[@]}" --case as_completed,nested_child,wait_first_reaction \
  2>>"$here/results/dask-$stamp.stderr" | grep -v '"case": "info"' | tee -a "$dask_out" >&2 || status=1
# Issue 4 (smaller counts than cask's: Dask takes ~0.2-0.5 ms per operation; rates per op).
timeout 200 "$PY" "$here/dask_bench.py" "${quick[@]}" --case queue,variable,lock,event,actor \
  2>>"$here/results/dask-$stamp.stderr" | grep -v '"case": "info"' | tee -a "$dask_out" >&2 || status=1

# Cluster mode: the same JSON lines, appended (their cases begin with "cluster_"; their
# "info" records are told apart by "mode": "cluster"). The cluster processes' log lines
# go to the .stderr files.
echo "== cask cluster mode ($cluster_bench) ==" >&2
timeout 400 "$cluster_bench" "${quick[@]}" 2>"$here/results/cask-cluster-$stamp.stderr" \
  | tee -a "$cask_out" >&2 || status=1
echo "== Dask cluster mode (LocalCluster(processes=True)) ==" >&2
timeout 480 "$PY" "$here/dask_cluster_bench.py" "${quick[@]}" \
  2>>"$here/results/dask-$stamp.stderr" | tee -a "$dask_out" >&2 || status=1

"$PY" "$here/report.py" "$cask_out" "$dask_out" >> "$table"
echo >&2
cat "$table"
echo
echo "raw results: $cask_out $dask_out; table: $table" >&2
exit $status
