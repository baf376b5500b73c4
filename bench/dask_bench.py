#!/usr/bin/python3
"""dask_bench: cask_bench's cases on Dask, for the side-by-side table (bench/run.sh).

Run with Debian's interpreter and python3-distributed:

    /usr/bin/python3 bench/dask_bench.py                 # every case
    /usr/bin/python3 bench/dask_bench.py --quick         # small sizes, a smoke run
    /usr/bin/python3 bench/dask_bench.py --case map_gather --sizes 10000,100000

The cluster is Client(processes=False, n_workers=W, threads_per_worker=1) with W = the
number of hardware threads, as cask's default client (one worker per hardware thread,
one slot each). The dashboard is off (that only helps Dask).

Output: one JSON object per line, like cask_bench. A map_gather or as_completed size that
would not finish within --budget seconds (estimated from the rate at the previous size;
Dask's per-task cost does not fall with size, so the estimate is generous) is not run: it
gets a record with "skipped": true and the estimate instead.

Issue 3's cases: as_completed (map + as_completed(with_results=True), tasks/s),
nested_child (a task maps 1,000 children via get_client() and sums them via as_completed,
µs per child) and wait_first_reaction (first task's last statement -> wait(FIRST_COMPLETED)
returning, µs).

Issue 4's cases, from the client thread: queue_put_get, variable_set_get,
lock_acquire_release, event_set_is_set (distributed.Queue/Variable/Lock/Event, pairs/s)
and the actor calls actor_call_sequential (µs per call, each waited for) and
actor_call_pipelined (calls/s: submit all, then result() of each). Dask takes about a
millisecond per operation, so its counts are smaller than cask_bench's (1,000 pairs,
1,000 sequential and 5,000 pipelined calls per run instead of 20,000, 10,000 and
100,000); the rates are per operation, so they compare.
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


# ---------------------------------------------------------------------------------------
# Issue 3: as_completed, nested submission, wait(FIRST_COMPLETED).

def as_completed_once(client, n):
    from distributed import as_completed
    x0 = next_arg(n)
    expected = sum(range(x0 + 1, x0 + n + 1))
    t0 = time.perf_counter()
    fs = client.map(trivial, range(x0, x0 + n))
    total, seen = 0, 0
    for f, v in as_completed(fs, with_results=True):
        total += v
        seen += 1
    elapsed = time.perf_counter() - t0
    assert seen == n and total == expected
    del fs, f  # the loop variable holds the last future
    wait_until_empty(client)
    return elapsed


def as_completed_case(client, cfg):
    """map() of n trivial tasks consumed with as_completed(fs, with_results=True); sizes
    that would not finish within the budget are skipped with an estimate, as map_gather."""
    sizes = [1000] if cfg.quick else [10_000, 100_000]
    rate_estimate = 1000 / as_completed_once(client, 1000)  # warm-up and first estimate
    for n in sizes:
        name = "as_completed_" + size_name(n)
        predicted = n / rate_estimate
        if predicted > cfg.budget:
            emit({"case": name, "impl": "dask", "value": None, "unit": "tasks/s", "n": n,
                  "skipped": True, "estimated_s": predicted, "estimated_rate": rate_estimate,
                  "note": f"not run: estimated {predicted:.0f} s > budget {cfg.budget:.0f} s "
                          f"at the rate measured at the previous size"})
            continue
        runs = cfg.runs or max(1, min(3, int(cfg.budget // max(predicted, 1e-9))))
        rates, totals = [], []
        for _ in range(runs):
            t = as_completed_once(client, n)
            rates.append(n / t)
            totals.append(t)
        rate = statistics.median(rates)
        rate_estimate = rate
        emit({"case": name, "impl": "dask", "value": rate, "unit": "tasks/s", "n": n,
              "runs": runs, "us_per_task": 1e6 / rate, "rates": rates,
              "seconds": statistics.median(totals),
              "note": "map() of n trivial tasks, then as_completed(fs, with_results=True) "
                      "summing every value; from the start of map() to the last one consumed"})


def nested_parent(base, n):
    """Submits n children from inside a task (get_client) and sums them via as_completed.
    It secedes while it waits (Dask's documented pattern; cask hands the slot back by
    itself), so the children get both worker threads, and rejoins afterwards."""
    from distributed import as_completed, get_client, rejoin, secede
    client = get_client()
    fs = client.map(trivial, range(base, base + n))
    secede()
    total = 0
    for _, v in as_completed(fs, with_results=True):
        total += v
    rejoin()
    return total


def nested_child(client, cfg):
    children = 1000
    runs = cfg.runs or (2 if cfg.quick else 5)

    def once():
        base = next_arg(children)
        expected = sum(range(base + 1, base + children + 1))
        t0 = time.perf_counter()
        total = client.submit(nested_parent, base, children, pure=False).result()
        elapsed = time.perf_counter() - t0
        assert total == expected
        wait_until_empty(client)
        return elapsed

    once()  # warm-up
    per_child = [once() * 1e6 / children for _ in range(runs)]
    emit({"case": "nested_child", "impl": "dask", "value": statistics.median(per_child),
          "unit": "us", "children": children, "runs": runs, "min": min(per_child),
          "max": max(per_child), "run_us_per_child": per_child,
          "note": "one task maps 1,000 trivial children through get_client() and sums them "
                  "with as_completed (seceded while waiting); (submit of the parent -> its "
                  "result) / 1,000, median over runs"})


# Gates and finish stamps of the reaction case, reached by the tasks through sys.modules
# like GATE (in-process workers share this memory).
REACTION_GATES = {}
REACTION_DONE = {}


def reaction_first(trial):
    import sys as _sys
    import time as _time
    main = _sys.modules["__main__"]
    main.REACTION_GATES[trial][0].wait()
    main.REACTION_DONE[trial] = _time.perf_counter()  # the task's last statement
    return 1


def reaction_second(trial):
    import sys as _sys
    from distributed import secede
    secede()  # the gated task gives its thread back: the first can never queue behind it
    _sys.modules["__main__"].REACTION_GATES[trial][1].wait()
    return 2


def wait_first_reaction(client, cfg):
    """Time from the first task's last statement to wait(FIRST_COMPLETED) returning on the
    main thread; its gate opens some time after wait is entered (long enough for wait to
    be waiting), the other task stays gated until wait has returned."""
    from distributed import wait
    trials = cfg.runs or (5 if cfg.quick else 40)
    warmup = 2 if cfg.quick else 5
    open_after = 0.02
    us, late = [], 0
    for t in range(warmup + trials):
        REACTION_GATES[t] = (threading.Event(), threading.Event())
        fa = client.submit(reaction_first, t, pure=False)
        fb = client.submit(reaction_second, t, pure=False)
        entering = threading.Event()

        def opener():
            entering.wait()
            time.sleep(open_after)
            REACTION_GATES[t][0].set()

        th = threading.Thread(target=opener)
        th.start()
        t_enter = time.perf_counter()
        entering.set()
        done, not_done = wait([fa, fb], return_when="FIRST_COMPLETED")
        t_return = time.perf_counter()
        th.join()
        REACTION_GATES[t][1].set()
        assert done == {fa} and not_done == {fb}, "wait returned the wrong set"
        assert fa.result() == 1 and fb.result() == 2
        t_done = REACTION_DONE.pop(t)
        del REACTION_GATES[t], fa, fb, done, not_done
        if t < warmup:
            continue
        if t_done < t_enter:
            late += 1
            continue
        us.append((t_return - t_done) * 1e6)
    wait_until_empty(client)
    us.sort()

    def pct(p):
        return us[min(len(us) - 1, int(p / 100 * len(us)))]

    emit({"case": "wait_first_reaction", "impl": "dask", "value": statistics.median(us),
          "unit": "us", "trials": len(us), "late": late, "p10": pct(10), "p90": pct(90),
          "p99": pct(99),
          "note": f"time from the first task's last statement (a perf_counter stamp before it "
                  f"returns) to wait(fs, FIRST_COMPLETED) returning on the main thread; its "
                  f"gate opens {open_after * 1000:.0f} ms after wait is entered, the other "
                  f"task stays gated; median over trials"})


# ---------------------------------------------------------------------------------------
# Issue 4: coordination objects (Queue, Variable, Lock, Event) and actors, used from the
# client thread.

def object_pairs(cfg, name, what, pair):
    """Runs pair(i) per_run times per run after a warm-up; the median over runs of
    pairs/s, with per-pair latency percentiles (µs), as cask_bench."""
    warmup = 20 if cfg.quick else 100
    runs = cfg.runs or (2 if cfg.quick else 5)
    per_run = 100 if cfg.quick else 1000
    for i in range(warmup):
        pair(i)
    rates, all_us = [], []
    for _ in range(runs):
        t0 = prev = time.perf_counter()
        for i in range(per_run):
            pair(i)
            now = time.perf_counter()
            all_us.append((now - prev) * 1e6)
            prev = now
        rates.append(per_run / (time.perf_counter() - t0))
    all_us.sort()

    def pct(p):
        return all_us[min(len(all_us) - 1, int(p / 100 * len(all_us)))]

    rate = statistics.median(rates)
    emit({"case": name, "impl": "dask", "value": rate, "unit": "pairs/s",
          "pairs_per_run": per_run, "runs": runs, "us_per_pair": 1e6 / rate,
          "p50": pct(50), "p90": pct(90), "p99": pct(99), "rates": rates,
          "note": f"{what} from the client thread, one pair after the other on one handle; "
                  f"median over runs of pairs/s; p50/p90/p99: µs per pair"})


def queue_put_get(client, cfg):
    from distributed import Queue
    q = Queue("dask-bench-queue", client=client)

    def pair(i):
        q.put(i)
        assert q.get() == i

    object_pairs(cfg, "queue_put_get", "Queue: put(i) then get()", pair)
    assert q.qsize() == 0


def variable_set_get(client, cfg):
    from distributed import Variable
    v = Variable("dask-bench-variable", client=client)

    def pair(i):
        v.set(i)
        assert v.get() == i

    object_pairs(cfg, "variable_set_get", "Variable: set(i) then get()", pair)
    v.delete()


def lock_acquire_release(client, cfg):
    from distributed import Lock
    lock = Lock("dask-bench-lock", client=client)

    def pair(_):
        lock.acquire()
        lock.release()

    object_pairs(cfg, "lock_acquire_release", "Lock: acquire() then release() (uncontended)",
                 pair)
    assert not lock.locked()


def event_set_is_set(client, cfg):
    from distributed import Event
    ev = Event("dask-bench-event", client=client)

    def pair(_):
        ev.set()
        assert ev.is_set()

    object_pairs(cfg, "event_set_is_set", "Event: set() then is_set()", pair)
    ev.clear()


class BenchCounter:
    def __init__(self):
        self.n = 0

    def increment(self):
        self.n += 1
        return self.n


def submit_counter(client):
    """The actor and the future it came from. The future is kept: with an in-process
    cluster the Actor handle finds a Worker instance (get_worker()) and holds only a weak
    reference to its key, so dropping the future releases the actor."""
    fut = client.submit(BenchCounter, actor=True)
    return fut, fut.result()


def actor_call_sequential(client, cfg):
    """calls_per_run sequential actor calls, each waited for (increment().result());
    µs per call = run time / calls, median over runs."""
    warmup = 20 if cfg.quick else 100
    runs = cfg.runs or (2 if cfg.quick else 5)
    per_run = 100 if cfg.quick else 1000
    fut, counter = submit_counter(client)
    expected = 0
    for _ in range(warmup):
        expected += 1
        assert counter.increment().result() == expected
    per_call, all_us = [], []
    for _ in range(runs):
        t0 = prev = time.perf_counter()
        for _ in range(per_run):
            expected += 1
            assert counter.increment().result() == expected
            now = time.perf_counter()
            all_us.append((now - prev) * 1e6)
            prev = now
        per_call.append((time.perf_counter() - t0) * 1e6 / per_run)
    del counter, fut
    wait_until_empty(client)
    all_us.sort()

    def pct(p):
        return all_us[min(len(all_us) - 1, int(p / 100 * len(all_us)))]

    emit({"case": "actor_call_sequential", "impl": "dask", "value": statistics.median(per_call),
          "unit": "us", "calls_per_run": per_run, "runs": runs, "p50": pct(50), "p90": pct(90),
          "p99": pct(99), "run_us_per_call": per_call,
          "note": f"submit(Counter, actor=True): increment().result(), one after the other "
                  f"from the client thread; (run time / calls) median over runs, {per_run:,} "
                  f"calls per run (cask: 10,000); p50/p90/p99 over all calls"})


def actor_call_pipelined(client, cfg):
    """n actor calls issued back to back (a list of ActorFutures), then result() of each;
    calls/s from the first call to the last result, median over runs."""
    n = 500 if cfg.quick else 5000
    runs = cfg.runs or (2 if cfg.quick else 5)
    fut, counter = submit_counter(client)
    expected = 0

    def once(calls):
        nonlocal expected
        t0 = time.perf_counter()
        fs = [counter.increment() for _ in range(calls)]
        submit_s = time.perf_counter() - t0
        fs[-1].result()
        last_s = time.perf_counter() - t0
        values = [f.result() for f in fs]
        elapsed = time.perf_counter() - t0
        # Dask does not keep the calls in order (each is an RPC of its own, over pooled
        # connections): every count comes back once, not necessarily the i-th to the i-th.
        assert sorted(values) == list(range(expected + 1, expected + calls + 1))
        expected += calls
        return submit_s, last_s, elapsed

    once(min(n, 500))  # warm-up
    rates, submits, lasts, alls = [], [], [], []
    for _ in range(runs):
        submit_s, last_s, all_s = once(n)
        rates.append(n / all_s)
        submits.append(submit_s)
        lasts.append(last_s)
        alls.append(all_s)
    del counter, fut
    wait_until_empty(client)
    rate = statistics.median(rates)
    emit({"case": "actor_call_pipelined", "impl": "dask", "value": rate, "unit": "calls/s",
          "n": n, "runs": runs, "us_per_call": 1e6 / rate, "rates": rates,
          "submit_s": statistics.median(submits), "last_result_s": statistics.median(lasts),
          "all_results_s": statistics.median(alls),
          "note": f"submit(Counter, actor=True): n={n:,} calls of increment() issued back to "
                  f"back from the client thread (cask: 100,000), then result() of each "
                  f"(they may run out of order in Dask); "
                  f"n / (first call -> every result), median over runs"})


CASES = {
    "roundtrip": roundtrip,
    "map_gather": map_gather,
    "memory_per_pending_future": memory_per_pending_future,
    "as_completed": as_completed_case,
    "nested_child": nested_child,
    "wait_first_reaction": wait_first_reaction,
    "queue_put_get": queue_put_get,
    "variable_set_get": variable_set_get,
    "lock_acquire_release": lock_acquire_release,
    "event_set_is_set": event_set_is_set,
    "actor_call_sequential": actor_call_sequential,
    "actor_call_pipelined": actor_call_pipelined,
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
