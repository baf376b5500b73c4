#!/usr/bin/env bash
# examples/run_on_cluster.sh: runs one chapter example on a cluster of processes of its own
# and checks its output (CTest's ExamplesCluster.<name>, scripts/demo_cluster.sh).
#
#   run_on_cluster.sh [--build DIR] [--scheduler PATH] [--worker PATH] [--preload LIB]
#                     [--expected FILE] [--workers N] [--nthreads N] [--show-logs]
#                     [--start-together] [--timeout SECONDS] PROGRAM
#
# PROGRAM is an example program, by path or by name (DIR/examples/NAME; DIR defaults to
# build/ of this repository). The other paths default to what CMake builds in DIR:
# DIR/cask-scheduler, DIR/cask-worker, DIR/examples/lib<name>_tasks.so, and
# examples/expected/<name>.txt. The script
#   1. starts `cask-scheduler --host 127.0.0.1 --port 0 --port-file F` and waits (bounded)
#      for the port it bound;
#   2. starts N cask-worker processes (--workers, default 2) with `--nthreads` slots each
#      (default 1) and `--preload lib<name>_tasks.so`, which holds the example's
#      CASK_REMOTE functions, one after the other: each must log "joined" (bounded wait)
#      before the next starts (--start-together: all at once, then wait). Where the
#      program asks its embedded cluster for a size, the cluster gets as many slots:
#      2 workers x 2 threads for 6-6, 6-7, 6-8, demo_stop_flag and demo_locked_file (four
#      workers, so that all four tasks run at once), 1 worker x 1 thread for 6-10 (its
#      second run shows one slot suffices), 3 workers x 1 thread for demo_queue_pipeline;
#   3. runs the program with CASK_SCHEDULER_ADDRESS=127.0.0.1:PORT through check_output.sh
#      against the expected output (the same file as for the embedded run), for at most
#      --timeout seconds (default 90; CTest allows 120);
#   4. stops the workers, then the scheduler, with SIGTERM (SIGKILL after 10 s, which
#      counts as a failure), also when interrupted.
# CASK_EXAMPLE_TIME_SCALE (example_time.hpp) is passed on to the workers: they run the
# examples' sleeps. The processes' logs are printed when something fails (--show-logs:
# always).
# Exit status: 0 when the program's output matched and the cluster stopped cleanly.
set -uo pipefail
set -m  # each process started here gets a process group of its own (stopped by its id)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build="$here/../build"
scheduler="" worker="" preload="" expected="" workers="" nthreads="" program=""
show_logs=0  # print the processes' logs at the end (always when something failed)
start_together=0
run_timeout=90  # seconds the program may run

usage() {
  sed -n '5,7p' "${BASH_SOURCE[0]}" | sed -E 's/^# ?//' >&2
  exit 2
}
while (($# > 0)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --scheduler) scheduler=$2; shift 2 ;;
    --worker) worker=$2; shift 2 ;;
    --preload) preload=$2; shift 2 ;;
    --expected) expected=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --nthreads) nthreads=$2; shift 2 ;;
    --show-logs) show_logs=1; shift ;;
    --start-together) start_together=1; shift ;;
    --timeout) run_timeout=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "run_on_cluster.sh: unknown option $1" >&2; usage ;;
    *) [[ -z $program ]] || usage; program=$1; shift ;;
  esac
done
[[ -n $program ]] || usage
[[ $program == */* ]] || program="$build/examples/$program"
name=$(basename "$program")
: "${scheduler:=$build/cask-scheduler}"
: "${worker:=$build/cask-worker}"
: "${preload:=$(dirname "$program")/lib${name}_tasks.so}"
: "${expected:=$here/expected/$name.txt}"
# The shape of the cluster: what the program's own embedded cluster would have, where it
# asks for one (--workers/--nthreads override it).
case $name in
  6_6_* | 6_7_* | 6_8_*) default_workers=2 default_nthreads=2 ;;  # {.workers = 4}: 4 slots
  6_10_*) default_workers=1 default_nthreads=1 ;;                 # {.workers = 1}: 1 slot
  demo_queue_pipeline) default_workers=3 default_nthreads=1 ;;   # {.workers = 3}
  demo_stop_flag | demo_locked_file) default_workers=2 default_nthreads=2 ;;  # 4 slots
  *) default_workers=2 default_nthreads=1 ;;
esac
: "${workers:=$default_workers}"
: "${nthreads:=$default_nthreads}"
for f in "$scheduler" "$worker" "$program"; do
  [[ -x $f ]] || { echo "run_on_cluster.sh: not an executable: $f" >&2; exit 1; }
done
for f in "$preload" "$expected"; do
  [[ -f $f ]] || { echo "run_on_cluster.sh: no such file: $f" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cask-cluster-$name.XXXXXX")
pids=()  # worker pids first, the scheduler's last: the order to stop them in

print_logs() {
  for log in "$tmp"/*.log; do
    [[ -f $log ]] || continue
    echo "----- $(basename "$log") (last 40 lines)"
    tail -n 40 "$log"
  done
}

# Stops the processes in `pids` in order: SIGTERM, then up to 10 s for each to exit.
# Returns 1 when one had to be killed.
stop_cluster() {
  local rc=0 pid i
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "run_on_cluster.sh: process $pid ($(ps -o args= -p "$pid" | cut -c1-60)) did not exit" \
           "within 10 s of SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
      rc=1
    fi
    wait "$pid" 2>/dev/null
  done
  pids=()
  return $rc
}

# Should this script be killed without cleaning up (SIGKILL), a watchdog stops what it
# started: the processes listed in $tmp/pids. (Started before the traps are set, so that
# it does not inherit them.)
(
  while kill -0 $$ 2>/dev/null; do sleep 1; done
  [[ -f $tmp/pids ]] && kill -TERM $(<"$tmp/pids") 2>/dev/null
  rm -rf "$tmp"
) >/dev/null 2>&1 &
watchdog_pid=$!
disown "$watchdog_pid"  # not a job: no "Terminated" notice when it is stopped
set_pids() {
  pids=("$@")
  printf '%s\n' "${pids[@]}" >"$tmp/pids"
}

example_pid=""
cleanup() {
  if [[ -n $example_pid ]] && kill -0 "$example_pid" 2>/dev/null; then
    kill -TERM -- "-$example_pid" 2>/dev/null  # check_output.sh and the program
    wait "$example_pid" 2>/dev/null
  fi
  stop_cluster || show_logs=1
  kill "$watchdog_pid" 2>/dev/null
  ((show_logs)) && print_logs
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "run_on_cluster.sh: interrupted" >&2; exit 130' INT
trap 'echo "run_on_cluster.sh: terminated" >&2; exit 143' TERM

fail() {
  echo "run_on_cluster.sh: $*" >&2
  show_logs=1
  exit 1
}

# Waits up to 20 s for `condition` (a command) to hold while process $2 lives.
wait_for() {
  local what=$1 pid=$2 i
  shift 2
  for ((i = 0; i < 400; i++)); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || fail "$what: the process exited"
    sleep 0.05
  done
  fail "$what: not within 20 s"
}

# --- scheduler ------------------------------------------------------------------------
"$scheduler" --host 127.0.0.1 --port 0 --port-file "$tmp/port" >"$tmp/scheduler.log" 2>&1 &
scheduler_pid=$!
set_pids "$scheduler_pid"
port_written() { [[ -s $tmp/port ]] && [[ $(<"$tmp/port") =~ ^[[:space:]]*[0-9]+[[:space:]]*$ ]]; }
wait_for "cask-scheduler listening (port file $tmp/port)" "$scheduler_pid" port_written
port=$(tr -d '[:space:]' <"$tmp/port")
address="127.0.0.1:$port"

# --- workers --------------------------------------------------------------------------
export CASK_EXAMPLE_TIME_SCALE="${CASK_EXAMPLE_TIME_SCALE:-1}"
worker_pids=()
start_worker() {
  "$worker" "$address" --nthreads "$nthreads" --name "worker-$1" --preload "$preload" \
    >"$tmp/worker-$1.log" 2>&1 &
  worker_pids+=($!)
  set_pids "${worker_pids[@]}" "$scheduler_pid"
}
joined() { grep -qs 'joined the scheduler' "$1"; }
wait_joined() {
  wait_for "cask-worker worker-$1 joining $address" "${worker_pids[$1 - 1]}" \
    joined "$tmp/worker-$1.log"
}
# One at a time: each worker joins before the next starts (--start-together: all at once).
# Workers connecting at the same moment failed to join more often: the scheduler did not
# answer the hello of the worker's own client within 10 s.
for ((w = 1; w <= workers; w++)); do
  start_worker "$w"
  ((start_together)) || wait_joined "$w"
done
if ((start_together)); then
  for ((w = 1; w <= workers; w++)); do wait_joined "$w"; done
fi
echo "== cluster: cask-scheduler at $address, $workers cask-worker(s) with $nthreads thread(s)" \
     "each, preloading $(basename "$preload"); CASK_EXAMPLE_TIME_SCALE=$CASK_EXAMPLE_TIME_SCALE"

# --- the example ----------------------------------------------------------------------
# (In the background, so that SIGINT/SIGTERM reach the traps above while it runs.)
# The program gets --timeout seconds (then SIGTERM; exit status 124), so that a hang shows
# its output so far and the cluster's logs before CTest's own timeout would end everything.
CASK_SCHEDULER_ADDRESS=$address "$here/check_output.sh" "$expected" \
  timeout -k 5 "$run_timeout" "$program" &
example_pid=$!
echo "-$example_pid" >>"$tmp/pids"  # its process group, for the watchdog
wait "$example_pid"
status=$?
example_pid=""
((status == 0)) || show_logs=1

if ! stop_cluster; then
  show_logs=1
  status=1
fi
exit $status
