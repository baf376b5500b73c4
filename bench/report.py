#!/usr/bin/python3
"""report: the Markdown comparison table from cask_bench's and dask_bench.py's JSON lines.

    /usr/bin/python3 bench/report.py results/cask-STAMP.jsonl results/dask-STAMP.jsonl

Each row: case | cask | Dask | ratio | target | met?. The ratio is oriented so that higher
is better for cask: cask/Dask for throughput, Dask/cask for latency and memory. A row's
target is met when its absolute target (if any) and the ratio target (>= 100x Dask) both
hold. A new case only needs an entry in ROWS.
"""
import json
import sys

RATIO_TARGET = 100.0

# case, label, kind ("latency"/"throughput"/"memory": lower or higher is better),
# absolute target (None: only the ratio target), and how the target reads.
ROWS = [
    ("roundtrip", "submit→result round trip (median)", "latency", 20.0, "≤ 20 µs"),
    ("map_gather_10k", "map+gather 10k", "throughput", None, ""),
    ("map_gather_100k", "map+gather 100k", "throughput", 200_000.0, "≥ 200,000 tasks/s"),
    ("map_gather_1M", "map+gather 1M", "throughput", 200_000.0, "≥ 200,000 tasks/s"),
    ("@scaling", "per-task cost 1M ÷ 10k", "derived", 1.5, "≤ 1.5×"),
    ("memory_per_pending_future", "memory per pending future", "memory", 2048.0, "≤ 2 KB"),
    # Issue 3:
    ("as_completed_100k", "as_completed 100k", "throughput", 200_000.0, "≥ 200,000 tasks/s"),
    ("nested_child", "nested submission, per child", "latency", 20.0, "≤ 20 µs"),
    ("wait_first_reaction", "wait(FIRST_COMPLETED) reaction", "latency", 50.0, "≤ 50 µs"),
    # Issue 4 (from the client thread):
    ("queue_put_get", "Queue put+get", "throughput", 50_000.0, "≥ 50,000 pairs/s"),
    ("variable_set_get", "Variable set+get", "throughput", 50_000.0, "≥ 50,000 pairs/s"),
    ("lock_acquire_release", "Lock acquire+release", "throughput", 50_000.0, "≥ 50,000 pairs/s"),
    ("event_set_is_set", "Event set+is_set", "throughput", 50_000.0, "≥ 50,000 pairs/s"),
    ("actor_call_sequential", "actor call, sequential (per call)", "latency", 20.0, "≤ 20 µs"),
    ("actor_call_pipelined", "actor calls, pipelined", "throughput", 200_000.0,
     "≥ 200,000 calls/s"),
]


def load(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                out[r.get("case")] = r
    except FileNotFoundError:
        pass
    return out


def fmt(value, unit):
    if value is None:
        return "—"
    if unit in ("tasks/s", "pairs/s", "calls/s"):
        return f"{value:,.0f} {unit}"
    if unit == "us":
        return f"{value:,.1f} µs" if value < 10_000 else f"{value / 1000:,.2f} ms"
    if unit == "bytes":
        return f"{value:,.0f} B"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:g} {unit}"


def cell(rec):
    """Text for one implementation's figure, and the figure used for the ratio (with
    `bound` True when it is an estimate that flatters Dask, so the ratio is a lower bound)."""
    if rec is None:
        return "not run", None, False
    if "error" in rec:
        return f"error: {rec['error'][:60]}", None, False
    if rec.get("skipped"):
        est = rec.get("estimated_rate")
        text = f"skipped (est. {rec.get('estimated_s', 0):,.0f} s > budget)"
        return text, est, True
    text = fmt(rec.get("value"), rec.get("unit"))
    if rec.get("case") == "memory_per_pending_future" and rec.get("n"):
        text += f" (n={rec['n']:,})"
    if rec.get("case") in ("roundtrip", "wait_first_reaction", "actor_call_sequential") \
            and rec.get("p90") is not None:
        text += f", p90 {fmt(rec['p90'], 'us')}"
    return text, rec.get("value"), False


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cask = load(argv[1])
    dask = load(argv[2]) if len(argv) > 2 else {}

    lines = ["| case | cask | Dask | ratio (higher = better for cask) | target | met? |",
             "|---|---|---|---|---|---|"]
    verdicts = []
    # Rows: the round trip, every map_gather size measured (sorted by size; sizes outside
    # ROWS, from --quick or --sizes, get the ratio target only), then the rest of ROWS
    # (as_completed sizes likewise).
    def size_of(case):
        tail = case.rsplit("_", 1)[-1]
        mult = {"k": 1_000, "M": 1_000_000}.get(tail[-1:], 1)
        try:
            return int(tail.rstrip("kM")) * mult
        except ValueError:
            return 0
    # The same for as_completed sizes, in place of the as_completed_100k row.
    def sized(prefix, label):
        found = {r[0]: r for r in ROWS if r[0].startswith(prefix)}
        for case in list(cask) + list(dask):
            if case.startswith(prefix) and case not in found:
                found[case] = (case, label + " " + case[len(prefix):], "throughput", None, "")
        return sorted(found.values(), key=lambda r: size_of(r[0]))
    rows = [r for r in ROWS if r[0] == "roundtrip"]
    rows += sized("map_gather_", "map+gather")
    for r in ROWS:
        if r[0] == "roundtrip" or r[0].startswith("map_gather_"):
            continue
        if r[0].startswith("as_completed_"):
            if r[0] == "as_completed_100k":
                rows += sized("as_completed_", "as_completed")
            continue
        rows.append(r)
    for case, label, kind, absolute, target_text in rows:
        c, d = cask.get(case), dask.get(case)
        if kind == "derived":
            c10, c1m = cask.get("map_gather_10k"), cask.get("map_gather_1M")
            if not (c10 and c1m and c10.get("value") and c1m.get("value")):
                continue
            growth = c10["value"] / c1m["value"]  # (1/rate at 1M) / (1/rate at 10k)
            d10, d1m = dask.get("map_gather_10k"), dask.get("map_gather_1M")
            dtext = "—"
            if d10 and d1m and d10.get("value") and d1m.get("value"):
                dtext = fmt(d10["value"] / d1m["value"], "x")
            elif d1m and d1m.get("skipped"):
                dtext = "not run at 1M"
            ok = growth <= absolute
            verdicts.append((label, ok))
            lines.append(f"| {label} | {fmt(growth, 'x')} "
                         f"({1e6 / c10['value']:.2f} → {1e6 / c1m['value']:.2f} µs/task) "
                         f"| {dtext} | | {target_text} | {'yes' if ok else '**no**'} |")
            continue
        if c is None and d is None:
            continue  # a case neither side ran
        ctext, cval, _ = cell(c)
        dtext, dval, bound = cell(d)
        ratio_text, ratio_ok = "—", None
        if cval and dval:
            ratio = cval / dval if kind == "throughput" else dval / cval
            ratio_text = ("≥ " if bound else "") + f"{ratio:,.1f}×"
            if bound:
                ratio_text += " (vs Dask's rate at the smaller size)"
            ratio_ok = ratio >= RATIO_TARGET
        abs_ok = None
        if absolute is not None and cval is not None:
            abs_ok = cval <= absolute if kind in ("latency", "memory") else cval >= absolute
        targets = ([target_text] if target_text else []) + [f"≥ {RATIO_TARGET:.0f}× Dask"]
        parts = []
        if absolute is not None:
            parts.append(("abs " + ("yes" if abs_ok else "**no**")) if abs_ok is not None else "abs ?")
        parts.append(("ratio " + ("yes" if ratio_ok else "**no**")) if ratio_ok is not None else "ratio ?")
        met = all(x for x in (abs_ok, ratio_ok) if x is not None) and \
            (abs_ok is not None or absolute is None) and ratio_ok is not None
        verdicts.append((label, met))
        lines.append(f"| {label} | {ctext} | {dtext} | {ratio_text} | {'; '.join(targets)} "
                     f"| {', '.join(parts)} |")
    print("\n".join(lines))
    met = sum(1 for _, ok in verdicts if ok)
    print(f"\n{met} of {len(verdicts)} rows meet every target.")
    info_c, info_d = cask.get("info", {}), dask.get("info", {})
    if info_c or info_d:
        print(f"\ncask: {info_c.get('workers', '?')} workers × 1 slot (default Client); "
              f"Dask {info_d.get('distributed', '?')}: Client(processes=False, "
              f"n_workers={info_d.get('workers', '?')}, threads_per_worker=1), "
              f"Python {info_d.get('python', '?')}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
