#!/usr/bin/python3
"""dask_cluster_bench: cask_cluster_bench's cases on Dask, for the side-by-side table.

Run with Debian's interpreter and python3-distributed (bench/run.sh does):

    /usr/bin/python3 bench/dask_cluster_bench.py            # every case, full sizes
    /usr/bin/python3 bench/dask_cluster_bench.py --quick    # small sizes, a smoke run
    /usr/bin/python3 bench/dask_cluster_bench.py --case cluster_roundtrip --runs 5

The cluster is LocalCluster(processes=True, n_workers=2, threads_per_worker=1) (the
dashboard off, which only helps Dask) and a Client connected to it: worker processes, as
cask::LocalCluster{.workers = 2, .threads_per_worker = 1}. The cases, the task functions
and the record format are cask_cluster_bench's (see bench/cask_cluster_bench.cpp); each
case is repeated --runs times (3) and its value is the median of the repeats.

Time budget: cluster_map_gather and cluster_tree_reduction are run at the requested n
(100k, --quick 2k) only when the repeats are estimated (from a 1,000-task warm-up) to fit
in --budget seconds (45, --quick 15); otherwise at the largest multiple of 1,000 that fits. The record
keeps the case name of the requested n (so that the table pairs it with cask's) with
"n" the size actually run, "n_requested" and "reduced": true, and an "info" record says
so. Dask's per-task cost does not fall with size, so the rate at the smaller n does not
understate Dask.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time


# --- the task functions (cask: bench/cluster_tasks.cpp) -------------------------------

def inc(x):
    return x + 1


def add(a, b):
    return a + b


def worker_pid():
    import os as _os
    return _os.getpid()


def make_blob(nbytes, tag):
    """nbytes bytes beginning with b"<pid>;<tag>;" (the producer's process id)."""
    import os as _os
    head = f"{_os.getpid()};{tag};".encode()
    return head + b"x" * max(0, nbytes - len(head))


def consume_blobs(a, b):
    """[own pid, a's producer pid, b's producer pid, len(a), len(b), CLOCK_MONOTONIC ns
    at the first statement (after the arguments were fetched and deserialised)]."""
    import os as _os
    import time as _time
    start = _time.clock_gettime_ns(_time.CLOCK_MONOTONIC)

    def pid(blob):
        return int(bytes(blob[:32]).split(b";", 1)[0]) if len(blob) else 0

    return [_os.getpid(), pid(a), pid(b), len(a), len(b), start]


# --- helpers ------------------------------------------------------------------------------

def emit(record):
    print(json.dumps(record), flush=True)


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


_counter = [10_000_000]


def next_arg(n=1):
    """Distinct arguments everywhere: pure keys are hashes of (function, args)."""
    first = _counter[0]
    _counter[0] += n
    return first


def size_name(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def scheduler_tasks(client):
    sched = getattr(client.cluster, "scheduler", None)
    if sched is not None:
        return len(sched.tasks)
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def wait_until_empty(client, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        n = scheduler_tasks(client)
        if n == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the scheduler still holds {n} tasks")
        time.sleep(0.005)


def median(xs):
    return statistics.median(xs) if xs else 0.0


def pct(sorted_xs, p):
    return sorted_xs[min(len(sorted_xs) - 1, int(p / 100 * len(sorted_xs)))]


def fitting_n(requested, rate, tasks_per_n, runs, budget):
    """requested, or the largest multiple of 1,000 whose runs fit in budget seconds."""
    predicted = runs * requested * tasks_per_n / rate
    if predicted <= budget:
        return requested, predicted
    n = int(budget * rate / (runs * tasks_per_n)) // 1000 * 1000
    return max(1000, min(requested, n)), predicted


def reduced_info(case, n, requested, predicted, budget):
    emit({"case": "info", "impl": "dask", "mode": "cluster", "about": case,
          "n": n, "n_requested": requested,
          "note": f"{case}: Dask ran n={n:,} instead of {requested:,}: the repeats were "
                  f"estimated at {predicted:.0f} s > budget {budget:.0f} s (rate of a "
                  f"1,000-task warm-up)"})


# --- the cases -------------------------------------------------------------------------------

def map_gather_once(client, n):
    x0 = next_arg(n)
    t0 = time.perf_counter()
    fs = client.map(inc, range(x0, x0 + n))
    vs = client.gather(fs)
    total = time.perf_counter() - t0
    assert vs[0] == x0 + 1 and vs[-1] == x0 + n and len(vs) == n
    del fs, vs
    wait_until_empty(client)
    return total


def cluster_map_gather(client, cfg):
    requested = cfg.tasks_n
    name = "cluster_map_gather_" + size_name(requested)
    rate0 = 1000 / map_gather_once(client, 1000)  # warm-up and estimate
    n, predicted = fitting_n(requested, rate0, 1, cfg.runs, cfg.budget)
    if n != requested:
        reduced_info(name, n, requested, predicted, cfg.budget)
    rates, totals = [], []
    for _ in range(cfg.runs):
        t = map_gather_once(client, n)
        rates.append(n / t)
        totals.append(t)
    rate = median(rates)
    rec = {"case": name, "impl": "dask", "value": rate, "unit": "tasks/s", "n": n,
           "runs": cfg.runs, "us_per_task": 1e6 / rate, "rates": rates,
           "map_gather_s": median(totals),
           "note": "map(inc, n distinct ints) + gather() wall time on LocalCluster("
                   "processes=True, n_workers=2, threads_per_worker=1); median over runs"}
    if n != requested:
        rec.update(n_requested=requested, reduced=True, estimated_s_requested=predicted)
    emit(rec)


def cluster_roundtrip(client, cfg):
    warmup = 50 if cfg.quick else 200
    per_run = cfg.trials or (200 if cfg.quick else 1000)
    for _ in range(warmup):
        x = next_arg()
        assert client.submit(inc, x, pure=False).result() == x + 1
    wait_until_empty(client)
    all_us, run_medians = [], []
    for _ in range(cfg.runs):
        us = []
        for _ in range(per_run):
            x = next_arg()
            t0 = time.perf_counter()
            v = client.submit(inc, x, pure=False).result()
            us.append((time.perf_counter() - t0) * 1e6)
            assert v == x + 1
        run_medians.append(median(us))
        all_us += us
        wait_until_empty(client)
    all_us.sort()
    emit({"case": "cluster_roundtrip", "impl": "dask", "value": median(run_medians),
          "unit": "us", "p10": pct(all_us, 10), "p90": pct(all_us, 90), "p99": pct(all_us, 99),
          "runs": cfg.runs, "calls_per_run": per_run, "warmup": warmup,
          "run_medians": run_medians,
          "note": "submit(inc, x, pure=False).result(), one after the other; median over runs "
                  "of the per-call median, p10/p90/p99 over all calls"})


def tree_once(client, n):
    xs = [i % 100 for i in range(n)]
    expected = sum(x + 1 for x in xs)
    t0 = time.perf_counter()
    level = client.map(inc, xs, pure=False)
    tasks, levels, nxt = len(level), 0, None
    while len(level) > 1:
        nxt = [client.submit(add, level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        tasks += len(level) // 2
        levels += 1
        level = nxt
    submit_s = time.perf_counter() - t0
    total = level[0].result()
    elapsed = time.perf_counter() - t0
    assert total == expected, (total, expected)
    # Every future must go: Dask keeps the whole graph (released tasks included) while the
    # final one is held.
    del level, nxt
    wait_until_empty(client)
    return elapsed, submit_s, tasks, levels


def cluster_tree_reduction(client, cfg):
    requested = cfg.tasks_n
    name = "cluster_tree_reduction_" + size_name(requested)
    elapsed, _, tasks, _ = tree_once(client, 1000)  # warm-up and estimate
    n, predicted = fitting_n(requested, tasks / elapsed, 2, cfg.runs, cfg.budget)
    if n != requested:
        reduced_info(name, n, requested, predicted, cfg.budget)
    rates, totals, submits = [], [], []
    for _ in range(cfg.runs):
        elapsed, submit_s, tasks, levels = tree_once(client, n)
        rates.append(tasks / elapsed)
        totals.append(elapsed)
        submits.append(submit_s)
    rate = median(rates)
    rec = {"case": name, "impl": "dask", "value": rate, "unit": "tasks/s", "n": n,
           "tasks": tasks, "levels": levels, "runs": cfg.runs, "us_per_task": 1e6 / rate,
           "rates": rates, "seconds": median(totals), "submit_s": median(submits),
           "note": "map(inc, n leaves, pure=False), then submit(add, f[i], f[i+1]) level by "
                   "level (an odd one carried up) until one future, then its result(); "
                   "tasks (2n - 1) / (start of map -> result), median over runs"}
    if n != requested:
        rec.update(n_requested=requested, reduced=True, estimated_s_requested=predicted)
    emit(rec)


def transfer_once(client, nbytes):
    from distributed import wait
    tag = next_arg(2)
    p0 = time.perf_counter()
    producers = [client.submit(make_blob, nbytes, tag, pure=False),
                 client.submit(make_blob, nbytes, tag + 1, pure=False)]
    wait(producers)
    produce_s = time.perf_counter() - p0
    start = now_ns()
    c0 = time.perf_counter()
    r = client.submit(consume_blobs, producers[0], producers[1], pure=False).result()
    total_s = time.perf_counter() - c0
    assert r[3] == nbytes and r[4] == nbytes, r
    me, pa, pb = r[0], r[1], r[2]
    moved = (nbytes if pa != me else 0) + (nbytes if pb != me else 0)
    del producers
    wait_until_empty(client)
    gc.collect()
    return {"placed": pa != pb, "moved": moved, "fetch_s": (r[5] - start) / 1e9,
            "total_s": total_s, "produce_s": produce_s}


def cluster_transfer(client, cfg):
    mb = cfg.transfer_mb
    nbytes = mb * 1000 * 1000
    transfer_once(client, 1000 * 1000)  # warm-up (1 MB)
    rates, fetches, totals, produces, moved = [], [], [], [], []
    misplaced = 0
    while len(rates) < cfg.runs:
        t = transfer_once(client, nbytes)
        if not t["placed"] or t["moved"] == 0:
            misplaced += 1
            if misplaced > 3 * cfg.runs:
                raise RuntimeError("the producers keep running on one worker")
            continue
        rates.append(t["moved"] / 1e6 / t["fetch_s"])
        fetches.append(t["fetch_s"])
        totals.append(t["total_s"])
        produces.append(t["produce_s"])
        moved.append(t["moved"])
    emit({"case": f"cluster_transfer_{mb}mb", "impl": "dask", "value": median(rates),
          "unit": "MB/s", "bytes": nbytes, "runs": cfg.runs, "rates": rates,
          "bytes_moved": moved, "fetch_s": median(fetches),
          "consumer_roundtrip_s": median(totals), "produce_s": median(produces),
          "misplaced_runs": misplaced,
          "note": "MB/s = bytes moved between the worker processes / (consumer submitted -> "
                  "first statement of its body: scheduling + fetch from the other worker + "
                  "deserialising); MB = 1e6 bytes; median over runs"})


class BenchCounter:
    """The actor of the actor cases (cask: BenchCounter with CASK_ACTOR)."""

    def __init__(self):
        self.n = 0

    def inc(self, k):
        self.n += k
        return self.n


def actor_calls(cfg):
    return 1000 if cfg.quick else 10000


def cluster_actor_roundtrip(client, cfg):
    warmup = 50 if cfg.quick else 200
    per_run = cfg.trials or (200 if cfg.quick else 1000)
    counter = client.submit(BenchCounter, actor=True).result()
    expected = 0
    for _ in range(warmup):
        expected = counter.inc(1).result()
    all_us, run_medians = [], []
    for _ in range(cfg.runs):
        us = []
        for _ in range(per_run):
            t0 = time.perf_counter()
            v = counter.inc(1).result()
            us.append((time.perf_counter() - t0) * 1e6)
            expected += 1
            assert v == expected
        run_medians.append(median(us))
        all_us += us
    all_us.sort()
    emit({"case": "cluster_actor_roundtrip", "impl": "dask", "value": median(run_medians),
          "unit": "us", "p10": pct(all_us, 10), "p90": pct(all_us, 90), "p99": pct(all_us, 99),
          "runs": cfg.runs, "calls_per_run": per_run, "warmup": warmup,
          "run_medians": run_medians,
          "note": "counter.inc(1).result() on an actor (submit(BenchCounter, actor=True)), one "
                  "after the other; median over runs of the per-call median"})


def cluster_actor_pipelined(client, cfg):
    n = actor_calls(cfg)
    counter = client.submit(BenchCounter, actor=True).result()
    rates, expected = [], 0
    for _ in range(cfg.runs):
        t0 = time.perf_counter()
        calls = [counter.inc(1) for _ in range(n)]
        got = sorted(c.result() for c in calls)
        rates.append(n / (time.perf_counter() - t0))
        # Dask runs the calls one at a time but does not keep their arrival order.
        assert got == list(range(expected + 1, expected + n + 1))
        expected += n
    emit({"case": f"cluster_actor_pipelined_{size_name(n)}", "impl": "dask",
          "value": median(rates), "unit": "calls/s", "n": n, "runs": cfg.runs,
          "run_values": rates,
          "note": "n counter.inc(1) issued at once, then every result (each value once; Dask "
                  "does not keep the calls' order); median over runs"})


CASES = [
    ("cluster_map_gather", cluster_map_gather),
    ("cluster_roundtrip", cluster_roundtrip),
    ("cluster_tree_reduction", cluster_tree_reduction),
    ("cluster_transfer", cluster_transfer),
    ("cluster_actor_roundtrip", cluster_actor_roundtrip),
    ("cluster_actor_pipelined", cluster_actor_pipelined),
]


def record_name(name, cfg):
    """The case name of the records (sized as cask_cluster_bench names them)."""
    if name == "cluster_transfer":
        return f"{name}_{cfg.transfer_mb}mb"
    if name in ("cluster_roundtrip", "cluster_actor_roundtrip"):
        return name
    if name == "cluster_actor_pipelined":
        return f"{name}_{size_name(actor_calls(cfg))}"
    return f"{name}_{size_name(cfg.tasks_n)}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--case", action="append", default=[],
                   help="case names or prefixes, comma separated (default: all)")
    p.add_argument("--n", type=int, default=0, help="map_gather and tree leaves (100k; quick 2k)")
    p.add_argument("--mb", type=int, default=0, help="transfer size in MB (100; quick 10)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--trials", type=int, default=0, help="round trips per run (1000; quick 200)")
    p.add_argument("--budget", type=float, default=0.0,
                   help="seconds the repeats of a map_gather/tree case may take (estimated; "
                        "45, --quick 15)")
    cfg = p.parse_args()
    cfg.budget = cfg.budget or (15.0 if cfg.quick else 45.0)
    cfg.tasks_n = cfg.n or (2000 if cfg.quick else 100_000)
    cfg.transfer_mb = cfg.mb or (10 if cfg.quick else 100)
    wanted = [w for c in cfg.case for w in c.split(",") if w]

    def picked(name):
        return not wanted or any(name.startswith(w) or w.startswith(name) for w in wanted)

    import dask
    import distributed
    from distributed import Client, LocalCluster

    cluster = LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                           dashboard_address=None)
    client = Client(cluster)
    pids = sorted(client.run(worker_pid).values())
    emit({"case": "info", "impl": "dask", "mode": "cluster", "dask": dask.__version__,
          "distributed": distributed.__version__, "python": sys.version.split()[0],
          "cluster": "LocalCluster(processes=True, n_workers=2, threads_per_worker=1)",
          "workers": len(pids), "processes": True, "quick": cfg.quick, "runs": cfg.runs,
          "budget_s": cfg.budget})
    failures = 0
    try:
        for name, fn in CASES:
            name = record_name(name, cfg)
            if not picked(name):
                continue
            try:
                fn(client, cfg)
            except Exception as e:  # report and go on with the next case
                failures += 1
                emit({"case": name, "impl": "dask", "error": f"{type(e).__name__}: {e}"})
    finally:
        client.close()
        cluster.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
