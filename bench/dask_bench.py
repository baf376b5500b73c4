#!/usr/bin/python3
"""dask_bench: cask_bench's cases on Dask, for the side-by-side table (bench/run.sh).

Run with Debian's interpreter and python3-distributed:

    /usr/bin/python3 bench/dask_bench.py                 # every case
    /usr/bin/python3 bench/dask_bench.py --quick         # small sizes, a smoke run
    /usr/bin/python3 bench/dask_bench.py --case map_gather --sizes 10000,100000

The cluster is Client(processes=False, n_workers=W, threads_per_worker=1) with W = the
number of hardware threads, as cask's default client (one worker per hardware thread,
one slot each). The dashboard is off (that only helps Dask).

Output: one JSON object per line, like cask_bench. A map_gather size that would not
finish within --budget seconds (estimated from the rate at the previous size; Dask's
per-task cost does not fall with size, so the estimate is generous) is not run: it gets
a record with "skipped": true and the estimate instead.
"""
import argparse
import ctypes
import gc
import json
import os
import statistics
import sys
import threading
import time

# The gate the memory case blocks the workers on. Tasks reach it through sys.modules:
# functions of __main__ are pickled by value, and an Event cannot be pickled.
GATE = threading.Event()


def trivial(x):
    return x + 1


def blocked(i):
    import sys as _sys
    _sys.modules["__main__"].GATE.wait()
    return i


def emit(record):
    print(json.dumps(record), flush=True)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


_libc = ctypes.CDLL("libc.so.6")


def trimmed_rss():
    """RSS after a full collection and malloc_trim, as cask_bench measures it."""
    gc.collect()
    _libc.malloc_trim(0)
    return rss_bytes()


_counter = [10_000_000]


def next_arg(n=1):
    """Distinct arguments everywhere: keys are hashes of (function, args)."""
    first = _counter[0]
    _counter[0] += n
    return first


def size_name(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def wait_until_empty(client, keep=0, timeout=300):
    sched = client.cluster.scheduler
    deadline = time.monotonic() + timeout
    while len(sched.tasks) > keep:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the scheduler still holds {len(sched.tasks)} tasks")
        time.sleep(0.005)


def roundtrip(client, cfg):
    warmup = 20 if cfg.quick else 50
    runs = cfg.runs or (2 if cfg.quick else 5)
    per_run = 50 if cfg.quick else 100
    for _ in range(warmup):
        client.submit(trivial, next_arg()).result()
    wait_until_empty(client)
    all_us, run_medians = [], []
    for _ in range(runs):
        us = []
        for _ in range(per_run):
            x = next_arg()
            t0 = time.perf_counter()
            v = client.submit(trivial, x).result()
            us.append((time.perf_counter() - t0) * 1e6)
            assert v == x + 1
        run_medians.append(statistics.median(us))
        all_us += us
        wait_until_empty(client)
    all_us.sort()

    def pct(p):
        return all_us[min(len(all_us) - 1, int(p / 100 * len(all_us)))]

    emit({"case": "roundtrip", "impl": "dask", "value": statistics.median(run_medians),
          "unit": "us", "p10": pct(10), "p90": pct(90), "p99": pct(99), "runs": runs,
          "calls_per_run": per_run, "run_medians": run_medians,
          "note": "median over runs of the per-call median (submit, result() and dropping the "
                  "future); p10/p90/p99 over all calls"})


def map_gather_once(client, n):
    x0 = next_arg(n)
    t0 = time.perf_counter()
    fs = client.map(trivial, range(x0, x0 + n))
    t_map = time.perf_counter() - t0
    vs = client.gather(fs)
    total = time.perf_counter() - t0
    assert vs[0] == x0 + 1 and vs[-1] == x0 + n
    t1 = time.perf_counter()
    del fs, vs
    wait_until_empty(client)
    return total, t_map, time.perf_counter() - t1


def map_gather(client, cfg):
    # Warm-up, and the first rate estimate.
    total, _, _ = map_gather_once(client, 1000)
    rate_estimate = 1000 / total
    for n in sorted(cfg.sizes):
        name = "map_gather_" + size_name(n)
        predicted = n / rate_estimate
        if predicted > cfg.budget:
            emit({"case": name, "impl": "dask", "value": None, "unit": "tasks/s", "n": n,
                  "skipped": True, "estimated_s": predicted, "estimated_rate": rate_estimate,
                  "note": f"not run: estimated {predicted:.0f} s > budget {cfg.budget:.0f} s "
                          f"at the rate measured at the previous size"})
            continue
        runs = cfg.runs or max(1, min(3, int(cfg.budget // max(predicted, 1e-9))))
        rates, totals, maps, releases = [], [], [], []
        for _ in range(runs):
            total, t_map, release = map_gather_once(client, n)
            rates.append(n / total)
            totals.append(total)
            maps.append(t_map)
            releases.append(release)
        rate = statistics.median(rates)
        rate_estimate = rate
        emit({"case": name, "impl": "dask", "value": rate, "unit": "tasks/s", "n": n,
              "runs": runs, "us_per_task": 1e6 / rate, "rates": rates,
              "map_s": statistics.median(maps), "map_gather_s": statistics.median(totals),
              "release_s": statistics.median(releases),
              "note": "map()+gather() wall time; release_s (dropping the futures until the "
                      "scheduler is empty) is not included"})


def memory_per_pending_future(client, cfg):
    n = cfg.pending or (2000 if cfg.quick else 100_000)
    sched = client.cluster.scheduler
    slots = sum(w.nthreads for w in sched.workers.values())
    map_gather_once(client, min(n, 1000))  # warm-up of the same shape
    GATE.clear()
    blockers = [client.submit(blocked, i, pure=False) for i in range(slots)]
    deadline = time.monotonic() + 30
    while sum(len(w.processing) for w in sched.workers.values()) < slots:
        if time.monotonic() > deadline:
            raise RuntimeError("the gate tasks did not start")
        time.sleep(0.005)
    time.sleep(0.1)
    before = trimmed_rss()
    x0 = next_arg(n)
    t0 = time.perf_counter()
    fs = client.map(trivial, range(x0, x0 + n))
    while len(sched.tasks) < n + slots:
        time.sleep(0.005)
    submit_s = time.perf_counter() - t0
    after = trimmed_rss()
    all_pending = all(f.status == "pending" for f in fs)
    # Drop the pending futures before opening the gate: running 100k tasks would take
    # Dask minutes (see map_gather), releasing them takes seconds.
    t1 = time.perf_counter()
    del fs
    wait_until_empty(client, keep=slots)
    release_s = time.perf_counter() - t1
    GATE.set()
    client.gather(blockers)
    del blockers
    wait_until_empty(client)
    emit({"case": "memory_per_pending_future", "impl": "dask",
          "value": (after - before) / n, "unit": "bytes", "n": n, "runs": 1,
          "rss_before_mb": before / 2**20, "rss_after_mb": after / 2**20,
          "all_pending": all_pending, "submit_s": submit_s, "release_s": release_s,
          "note": f"RSS growth / n with n={n} futures held pending behind gated workers "
                  f"(not 1M: submitting and releasing 1M takes Dask minutes); includes the "
                  f"client's Future objects"})


CASES = {
    "roundtrip": roundtrip,
    "map_gather": map_gather,
    "memory_per_pending_future": memory_per_pending_future,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--case", action="append", default=[],
                   help="case names or prefixes, comma separated (default: all)")
    p.add_argument("--sizes", default="", help="map_gather sizes, comma separated")
    p.add_argument("--pending", type=int, default=0)
    p.add_argument("--runs", type=int, default=0)
    p.add_argument("--budget", type=float, default=120.0,
                   help="seconds a map_gather size may take (estimated), else skipped")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    cfg = p.parse_args()
    if cfg.sizes:
        cfg.sizes = [int(s) for s in cfg.sizes.split(",") if s]
    else:
        cfg.sizes = [1000] if cfg.quick else [10_000, 100_000, 1_000_000]
    wanted = [w for c in cfg.case for w in c.split(",") if w]

    def picked(name):
        if not wanted:
            return True
        # "map_gather_10k" selects the map_gather case (its size comes from --sizes).
        return any(name.startswith(w) or w.startswith(name) for w in wanted)

    import dask
    import distributed
    from distributed import Client

    client = Client(processes=False, n_workers=cfg.workers, threads_per_worker=1,
                    dashboard_address=None)
    emit({"case": "info", "impl": "dask", "dask": dask.__version__,
          "distributed": distributed.__version__, "python": sys.version.split()[0],
          "workers": cfg.workers, "threads_per_worker": 1, "processes": False,
          "quick": cfg.quick})
    failures = 0
    try:
        for name, fn in CASES.items():
            if not picked(name):
                continue
            try:
                fn(client, cfg)
            except Exception as e:  # report and go on with the next case
                failures += 1
                emit({"case": name, "impl": "dask", "error": f"{type(e).__name__}: {e}"})
    finally:
        client.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
