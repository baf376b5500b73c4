#!/usr/bin/python3
"""report: the Markdown comparison table from cask_bench's and dask_bench.py's JSON lines.

    /usr/bin/python3 bench/report.py results/cask-STAMP.jsonl results/dask-STAMP.jsonl

Each row: case | cask | Dask | ratio | target | met?. The ratio is oriented so that higher
is better for cask: cask/Dask for throughput, Dask/cask for latency and memory. A row's
target is met when its absolute target (if any) and its ratio target (if any: >= 100x Dask
for the embedded rows, >= 20x for cluster mode's task figures, none for the transfer) both
hold. A new case only needs an entry in ROWS (or CLUSTER_ROWS).

The cluster-mode cases (cask_cluster_bench, dask_cluster_bench.py; their "case" names
begin with "cluster_") get a table of their own below the embedded one.
"""
import json
import sys

RATIO_TARGET = 100.0          # embedded mode: every row
CLUSTER_RATIO_TARGET = 20.0   # cluster mode: the task figures (not the transfer)

# case, label, kind ("latency"/"throughput"/"memory": lower or higher is better),
# absolute target (None: only the ratio target), how the target reads, and (optional,
# default RATIO_TARGET) the ratio target: None for none.
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

# Cluster mode: LocalCluster of 2 worker processes x 1 thread on both sides. Sizes other
# than these (--quick, --n, --mb) get rows of their own with the ratio target only.
CLUSTER_ROWS = [
    ("cluster_map_gather_100k", "map+gather 100k", "throughput", 50_000.0,
     "≥ 50,000 tasks/s", CLUSTER_RATIO_TARGET),
    ("cluster_roundtrip", "submit→result round trip (median)", "latency", 300.0, "≤ 300 µs",
     CLUSTER_RATIO_TARGET),
    ("cluster_tree_reduction_100k", "tree reduction, 100k leaves", "throughput", None, "",
     CLUSTER_RATIO_TARGET),
    ("cluster_transfer_100mb", "100 MB worker→worker transfer", "throughput", 500.0,
     "≥ 500 MB/s", None),
    ("cluster_actor_roundtrip", "actor call round trip (median)", "latency", None, "", None),
    ("cluster_actor_pipelined_10k", "actor calls pipelined, 10k", "throughput", None, "", None),
]
# Labels ({} = the size) and ratio targets of the other sizes, by prefix.
CLUSTER_SIZED = [
    ("cluster_map_gather_", "map+gather {}", CLUSTER_RATIO_TARGET),
    ("cluster_tree_reduction_", "tree reduction, {} leaves", CLUSTER_RATIO_TARGET),
    ("cluster_transfer_", "{} worker→worker transfer", None),
    ("cluster_actor_pipelined_", "actor calls pipelined, {}", None),
]


def load(path):
    """Records by case name. "info" records: the first embedded one is out["info"], the
    first cluster one (mode "cluster") out["@cluster_info"]; the notes of those about one
    case (a Dask size reduced to fit the budget) are collected in out["@notes"]."""
    out = {"@notes": []}
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
                if r.get("case") == "info":
                    if r.get("about"):
                        out["@notes"].append(r)
                    elif r.get("mode") == "cluster":
                        out.setdefault("@cluster_info", r)
                    else:
                        out.setdefault("info", r)
                    continue
                out[r.get("case")] = r
    except FileNotFoundError:
        pass
    return out


def fmt(value, unit):
    if value is None:
        return "—"
    if unit in ("tasks/s", "pairs/s", "calls/s", "MB/s"):
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
    if rec.get("case") in ("roundtrip", "wait_first_reaction", "actor_call_sequential",
                           "cluster_roundtrip") and rec.get("p90") is not None:
        text += f", p90 {fmt(rec['p90'], 'us')}"
    if rec.get("reduced") and rec.get("n"):
        text += f" (at n={rec['n']:,}, budget)"
    if rec.get("unit") == "MB/s" and rec.get("fetch_s") is not None:
        text += f" ({rec['fetch_s']:.2f} s)"
    return text, rec.get("value"), False


def table_rows(rows, cask, dask, lines, verdicts):
    """Appends a Markdown row per (case, label, kind, absolute, target text[, ratio target])
    that either side ran."""
    for row in rows:
        case, label, kind, absolute, target_text = row[:5]
        ratio_target = row[5] if len(row) > 5 else RATIO_TARGET
        c, d = cask.get(case), dask.get(case)
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
            if ratio_target is not None:
                ratio_ok = ratio >= ratio_target
        abs_ok = None
        if absolute is not None and cval is not None:
            abs_ok = cval <= absolute if kind in ("latency", "memory") else cval >= absolute
        targets = ([target_text] if target_text else []) + \
            ([f"≥ {ratio_target:.0f}× Dask"] if ratio_target is not None else [])
        parts = []
        if absolute is not None:
            parts.append(("abs " + ("yes" if abs_ok else "**no**")) if abs_ok is not None else "abs ?")
        if ratio_target is not None:
            parts.append(("ratio " + ("yes" if ratio_ok else "**no**")) if ratio_ok is not None
                         else "ratio ?")
        if parts:
            met = (abs_ok is not None or absolute is None) and \
                (ratio_ok is not None or ratio_target is None) and \
                all(x for x in (abs_ok, ratio_ok) if x is not None)
            verdicts.append((label, met))
        lines.append(f"| {label} | {ctext} | {dtext} | {ratio_text} | "
                     f"{'; '.join(targets) or '—'} | {', '.join(parts) or '—'} |")


def cluster_rows(cask, dask):
    """CLUSTER_ROWS, with every other size measured next to its case (sorted by size)."""
    found = {r[0]: r for r in CLUSTER_ROWS}
    for case in list(cask) + list(dask):
        if case in found:
            continue
        for prefix, label, ratio_target in CLUSTER_SIZED:
            if case.startswith(prefix):
                tail = case[len(prefix):]
                size = tail.removesuffix("mb") + " MB" if tail.endswith("mb") else tail
                found[case] = (case, label.format(size), "throughput", None, "", ratio_target)
                break
    order = [r[0] for r in CLUSTER_ROWS]

    def key(row):
        case = row[0]
        for i, (prefix, _, _) in enumerate(CLUSTER_SIZED):
            if case.startswith(prefix):
                base = order.index(next(c for c in order if c.startswith(prefix)))
                return (base, size_of(case.removesuffix("mb")))
        return (order.index(case) if case in order else len(order), 0)
    return sorted(found.values(), key=key)


def size_of(case):
    tail = case.rsplit("_", 1)[-1]
    mult = {"k": 1_000, "M": 1_000_000}.get(tail[-1:], 1)
    try:
        return int(tail.rstrip("kM")) * mult
    except ValueError:
        return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cask = load(argv[1])
    dask = load(argv[2]) if len(argv) > 2 else {"@notes": []}

    header = ["| case | cask | Dask | ratio (higher = better for cask) | target | met? |",
              "|---|---|---|---|---|---|"]
    lines = list(header)
    verdicts = []
    # Rows: the round trip, every map_gather size measured (sorted by size; sizes outside
    # ROWS, from --quick or --sizes, get the ratio target only), then the rest of ROWS
    # (as_completed sizes likewise, in place of the as_completed_100k row).
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
    for row in rows:
        case, label, kind, absolute, target_text = row[:5]
        if kind != "derived":
            table_rows([row], cask, dask, lines, verdicts)
            continue
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
    info_c, info_d = cask.get("info", {}), dask.get("info", {})
    if len(lines) > len(header):
        print("\n".join(lines))
        met = sum(1 for _, ok in verdicts if ok)
        print(f"\n{met} of {len(verdicts)} rows meet every target.")
        if info_c or info_d:
            print(f"\ncask: {info_c.get('workers', '?')} workers × 1 slot (default Client); "
                  f"Dask {info_d.get('distributed', '?')}: Client(processes=False, "
                  f"n_workers={info_d.get('workers', '?')}, threads_per_worker=1), "
                  f"Python {info_d.get('python', '?')}.")

    # Cluster mode.
    lines, verdicts = list(header), []
    table_rows(cluster_rows(cask, dask), cask, dask, lines, verdicts)
    if len(lines) > len(header):
        cinfo_c, cinfo_d = cask.get("@cluster_info", {}), dask.get("@cluster_info", {})
        print("\n### Cluster mode\n")
        print(f"cask: {cinfo_c.get('cluster', 'cask::LocalCluster')} (cask-scheduler and "
              f"cask-worker processes on 127.0.0.1); Dask {cinfo_d.get('distributed', '?')}: "
              f"{cinfo_d.get('cluster', 'LocalCluster(processes=True)')}. Each case repeated "
              f"{cinfo_c.get('runs', cinfo_d.get('runs', '?'))} times, the median shown.\n")
        print("\n".join(lines))
        met = sum(1 for _, ok in verdicts if ok)
        print(f"\n{met} of {len(verdicts)} rows meet every target.")
        notes = [n["note"] for n in cask.get("@notes", []) + dask.get("@notes", []) if n.get("note")]
        if cinfo_c.get("note"):
            notes.append("cask " + cinfo_c["note"] + "; Dask the same (dask_cluster_bench.py).")
        if notes:
            print()
        for n in notes:
            print(f"- {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
