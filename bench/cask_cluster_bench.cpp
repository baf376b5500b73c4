// cask_cluster_bench: cluster-mode performance, cask::LocalCluster (a cask-scheduler and
// two cask-worker processes × 1 thread on 127.0.0.1) with a cask::Client connected to it.
// bench/dask_cluster_bench.py runs the same cases on Dask's LocalCluster(processes=True,
// n_workers=2, threads_per_worker=1); bench/run.sh runs both and report.py makes the table.
//
//   cask_cluster_bench                        # every case, full sizes
//   cask_cluster_bench --quick                # every case, small sizes (a smoke run)
//   cask_cluster_bench --case cluster_roundtrip,cluster_transfer
//   cask_cluster_bench --n 20000 --mb 10 --runs 5
//   cask_cluster_bench --list
//   cask_cluster_bench --address 127.0.0.1:8786   # a running cluster (profiling), not
//                                                 #   a LocalCluster of its own
//
// Cases (each repeated --runs times, 3 by default; the record's value is the median of the
// repeats):
//   cluster_map_gather_<n>       map(inc, n distinct ints) + gather; tasks/s
//   cluster_roundtrip            submit(pure=false, inc, x).result(), one after the other;
//                                µs, median of the runs' medians, p90 over all trials
//   cluster_tree_reduction_<n>   n leaves via map, then add(f[i], f[i+1]) level by level
//                                until one future; tasks/s counting every task (2n - 1)
//   cluster_transfer_<mb>mb      two <mb> MB values made at once by make_blob (one per
//                                worker: 2 workers × 1 thread), then consume_blobs(a, b); the
//                                consumer runs on one of the workers, so the other's value
//                                crosses between the worker processes. MB/s = bytes moved /
//                                (consumer submitted -> its body starts: fetch + decode).
//                                Placement is checked with the pids the values carry.
//   cluster_actor_roundtrip      counter.call(&BenchCounter::inc, 1).result(), one after
//                                the other, on an actor hosted by one worker; µs as above
//   cluster_actor_pipelined_<n>  n such calls issued at once, then their results in order;
//                                calls/s
//
// Output: one JSON object per line, as cask_bench ("case", "impl", "value", "unit", extras;
// "case": "info" records describe the setup). Every case starts from an empty scheduler
// (client.stats().tasks() == 0) and leaves it empty.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cask/cask.hpp>

#include "bench_util.hpp"
#include "cluster_tasks.hpp"

#ifndef CASK_CLUSTER_BENCH_TASKS
#error "CASK_CLUSTER_BENCH_TASKS (the path of libcask_cluster_bench_tasks.so) is set by CMake"
#endif

namespace {

using namespace std::chrono_literals;
using namespace bench_util;
using namespace cask_cluster_bench;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

/// Waits until the scheduler holds no task (every future of the case released).
void wait_until_empty(cask::Client& client, const char* where) {
  const auto deadline = Clock::now() + 120s;
  for (;;) {
    cask::ClusterStats s;
    try {
      s = client.stats();
    } catch (const cask::CommError&) {
      if (Clock::now() > deadline) throw;
      continue;
    }
    if (s.tasks() == 0) return;
    if (Clock::now() > deadline) {
      std::ostringstream os;
      os << s;
      throw std::runtime_error(std::string(where) + ": the scheduler did not empty: " + os.str());
    }
    std::this_thread::sleep_for(1ms);
  }
}

struct Config {
  bool quick = false;
  std::size_t n = 0;         // map_gather and tree leaves (0: 100k, quick 2k)
  std::size_t mb = 0;        // transfer size in MB (0: 100, quick 10)
  int runs = 0;              // repeats (0: 3)
  int roundtrip_trials = 0;  // per run (0: 1000, quick 200)
  std::string address;       // a running scheduler instead of a LocalCluster
  std::size_t tasks_n() const { return n ? n : (quick ? 2000 : 100000); }
  std::size_t transfer_mb() const { return mb ? mb : (quick ? 10 : 100); }
  int repeats() const { return runs ? runs : 3; }
};

// ---------------------------------------------------------------------------------------
// The cases.

double map_gather_once(cask::Client& client, std::size_t n) {
  std::vector<int> xs(n);
  std::iota(xs.begin(), xs.end(), next_arg(static_cast<int>(n)));
  double total = 0;
  {
    const auto t0 = Clock::now();
    auto fs = client.map(inc, xs);
    auto vs = client.gather(fs);
    total = seconds_since(t0);
    for (std::size_t i = 0; i < n; ++i)
      if (vs[i] != xs[i] + 1) throw std::runtime_error("cluster_map_gather: wrong result");
  }
  wait_until_empty(client, "cluster_map_gather");
  return total;
}

/// One latency case's record: the median of the runs' medians (µs), percentiles over
/// every call.
void print_latency(const char* name, const std::vector<double>& run_medians,
                   const std::vector<double>& all, const Config& cfg, int per_run, int warmup,
                   const char* note) {
  Record(name)
      .field("impl", "cask")
      .field("value", median(run_medians))
      .field("unit", "us")
      .field("p10", percentile(all, 10))
      .field("p90", percentile(all, 90))
      .field("p99", percentile(all, 99))
      .field("runs", cfg.repeats())
      .field("calls_per_run", per_run)
      .field("warmup", warmup)
      .list("run_medians", run_medians)
      .field("note", note)
      .print();
}

void map_gather(cask::Client& client, const Config& cfg) {
  const std::size_t n = cfg.tasks_n();
  map_gather_once(client, std::min<std::size_t>(n, 10000));  // warm-up
  std::vector<double> rates, totals;
  for (int r = 0; r < cfg.repeats(); ++r) {
    const double t = map_gather_once(client, n);
    rates.push_back(double(n) / t);
    totals.push_back(t);
  }
  const double rate = median(rates);
  Record("cluster_map_gather_" + size_name(n))
      .field("impl", "cask")
      .field("value", rate)
      .field("unit", "tasks/s")
      .field("n", n)
      .field("runs", cfg.repeats())
      .field("us_per_task", 1e6 / rate)
      .list("rates", rates)
      .field("map_gather_s", median(totals))
      .field("note", "map(inc, n distinct ints) + gather() wall time on a LocalCluster of 2 "
                     "worker processes x 1 thread; median over runs")
      .print();
}

/// Queue put + get pairs from the client thread against the queue in the scheduler's
/// process (each call is a round trip there).
void queue_pairs(cask::Client& client, const Config& cfg) {
  const int per_run = cfg.quick ? 500 : 5000;
  cask::Queue<int> q{"bench-queue", client};
  for (int i = 0; i < 100; ++i) q.put(i), (void)q.get();
  std::vector<double> rates;
  for (int r = 0; r < cfg.repeats(); ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < per_run; ++i) {
      q.put(i);
      if (q.get() != i) throw std::runtime_error("cluster_queue: wrong item");
    }
    rates.push_back(per_run / seconds_since(t0));
  }
  Record("cluster_queue")
      .field("impl", "cask")
      .field("value", median(rates))
      .field("unit", "pairs/s")
      .field("pairs_per_run", per_run)
      .list("run_rates", rates)
      .field("note", "Queue<int>.put(i) then get() from the client thread, the queue owned by "
                     "the scheduler's process; median over runs")
      .print();
}

void roundtrip(cask::Client& client, const Config& cfg) {
  const int warmup = cfg.quick ? 50 : 200;
  const int per_run = cfg.roundtrip_trials ? cfg.roundtrip_trials : (cfg.quick ? 200 : 1000);
  const cask::options fresh{.pure = false};
  for (int i = 0; i < warmup; ++i) (void)client.submit(fresh, inc, next_arg()).result();
  wait_until_empty(client, "cluster_roundtrip warm-up");
  std::vector<double> all, run_medians;
  for (int r = 0; r < cfg.repeats(); ++r) {
    std::vector<double> us;
    us.reserve(per_run);
    for (int i = 0; i < per_run; ++i) {
      const int x = next_arg();
      const auto t0 = Clock::now();
      const int v = client.submit(fresh, inc, x).result();
      us.push_back(seconds_since(t0) * 1e6);
      if (v != x + 1) throw std::runtime_error("cluster_roundtrip: wrong result");
    }
    run_medians.push_back(median(us));
    all.insert(all.end(), us.begin(), us.end());
    wait_until_empty(client, "cluster_roundtrip");
  }
  print_latency("cluster_roundtrip", run_medians, all, cfg, per_run, warmup,
                "submit(options{.pure = false}, inc, x).result(), one after the other from "
                "the client thread; median over runs of the per-call median, p10/p90/p99 "
                "over all calls");
}

struct TreeTiming {
  double total = 0, submit = 0;
  std::size_t tasks = 0, levels = 0;
};

TreeTiming tree_once(cask::Client& client, std::size_t n) {
  // Leaves are fresh keys (pure = false) with small values, so the sum fits an int.
  std::vector<int> xs(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = static_cast<int>(i % 100);
  long long expected = 0;
  for (int x : xs) expected += x + 1;
  TreeTiming t;
  {
    const auto t0 = Clock::now();
    std::vector<cask::Future<int>> level = client.map(cask::options{.pure = false}, inc, xs);
    t.tasks = level.size();
    while (level.size() > 1) {
      std::vector<cask::Future<int>> next;
      next.reserve((level.size() + 1) / 2);
      for (std::size_t i = 0; i + 1 < level.size(); i += 2)
        next.push_back(client.submit(add, level[i], level[i + 1]));
      if (level.size() % 2) next.push_back(level.back());
      t.tasks += level.size() / 2;
      ++t.levels;
      level = std::move(next);
    }
    t.submit = seconds_since(t0);
    const int total = level.front().result();
    t.total = seconds_since(t0);
    if (total != expected) throw std::runtime_error("cluster_tree_reduction: wrong result");
  }
  wait_until_empty(client, "cluster_tree_reduction");
  return t;
}

void tree_reduction(cask::Client& client, const Config& cfg) {
  const std::size_t n = cfg.tasks_n();
  tree_once(client, std::min<std::size_t>(n, 10000));  // warm-up
  std::vector<double> rates, totals, submits;
  TreeTiming t;
  for (int r = 0; r < cfg.repeats(); ++r) {
    t = tree_once(client, n);
    rates.push_back(double(t.tasks) / t.total);
    totals.push_back(t.total);
    submits.push_back(t.submit);
  }
  const double rate = median(rates);
  Record("cluster_tree_reduction_" + size_name(n))
      .field("impl", "cask")
      .field("value", rate)
      .field("unit", "tasks/s")
      .field("n", n)
      .field("tasks", t.tasks)
      .field("levels", t.levels)
      .field("runs", cfg.repeats())
      .field("us_per_task", 1e6 / rate)
      .list("rates", rates)
      .field("seconds", median(totals))
      .field("submit_s", median(submits))
      .field("note", "map(pure=false, inc, n leaves), then submit(add, f[i], f[i+1]) level by "
                     "level (an odd one carried up) until one future, then its result(); "
                     "tasks (2n - 1) / (start of map -> result), median over runs")
      .print();
}

struct TransferTiming {
  bool placed = false;  // the producers ran on different workers
  double fetch_s = 0, total_s = 0, produce_s = 0;
  std::size_t moved = 0;
  double client_rss_growth_mb = 0;
};

TransferTiming transfer_once(cask::Client& client, std::size_t bytes) {
  const cask::options fresh{.pure = false};
  TransferTiming t;
  {
    const std::size_t rss0 = rss_bytes();
    const auto p0 = Clock::now();
    const int tag = next_arg(2);
    std::vector<cask::Future<std::string>> producers{
        client.submit(fresh, make_blob, static_cast<int>(bytes), tag),
        client.submit(fresh, make_blob, static_cast<int>(bytes), tag + 1)};
    cask::wait(producers);
    t.produce_s = seconds_since(p0);
    t.client_rss_growth_mb = (double(rss_bytes()) - double(rss0)) / 1e6;

    const std::int64_t start = now_ns();
    const auto c0 = Clock::now();
    const std::vector<std::int64_t> r =
        client.submit(fresh, consume_blobs, producers[0], producers[1]).result();
    t.total_s = seconds_since(c0);
    if (r.size() != 6 || std::size_t(r[3]) != bytes || std::size_t(r[4]) != bytes)
      throw std::runtime_error("cluster_transfer: the consumer saw wrong sizes");
    const std::int64_t self = r[0], pa = r[1], pb = r[2];
    t.placed = pa != pb;
    t.moved = (pa != self ? bytes : 0) + (pb != self ? bytes : 0);
    t.fetch_s = double(r[5] - start) / 1e9;
  }
  wait_until_empty(client, "cluster_transfer");
  malloc_trim(0);
  return t;
}

void transfer(cask::Client& client, const Config& cfg) {
  const std::size_t mb = cfg.transfer_mb();
  const std::size_t bytes = mb * 1000 * 1000;
  transfer_once(client, 1000 * 1000);  // warm-up (1 MB)
  std::vector<double> rates, fetches, totals, produces, rss;
  std::vector<double> moved;
  int misplaced = 0;
  for (int r = 0; r < cfg.repeats();) {
    const TransferTiming t = transfer_once(client, bytes);
    if (!t.placed || t.moved == 0) {
      // Both producers ran on one worker: nothing (or not one value) crossed; try again.
      if (++misplaced > 3 * cfg.repeats())
        throw std::runtime_error("cluster_transfer: the producers keep running on one worker");
      continue;
    }
    rates.push_back(double(t.moved) / 1e6 / t.fetch_s);
    fetches.push_back(t.fetch_s);
    totals.push_back(t.total_s);
    produces.push_back(t.produce_s);
    moved.push_back(double(t.moved));
    rss.push_back(t.client_rss_growth_mb);
    ++r;
  }
  Record("cluster_transfer_" + std::to_string(mb) + "mb")
      .field("impl", "cask")
      .field("value", median(rates))
      .field("unit", "MB/s")
      .field("bytes", bytes)
      .field("runs", cfg.repeats())
      .list("rates", rates)
      .list("bytes_moved", moved)
      .field("fetch_s", median(fetches))
      .field("consumer_roundtrip_s", median(totals))
      .field("produce_s", median(produces))
      .field("misplaced_runs", misplaced)
      .list("client_rss_growth_mb", rss)
      .field("note", "MB/s = bytes moved between the worker processes / (consumer submitted -> "
                     "first statement of its body: scheduling + fetch from the other worker + "
                     "decoding both arguments); MB = 1e6 bytes; median over runs")
      .print();
}

// --- actors ------------------------------------------------------------------------------

void actor_roundtrip(cask::Client& client, const Config& cfg) {
  const int warmup = cfg.quick ? 50 : 200;
  const int per_run = cfg.roundtrip_trials ? cfg.roundtrip_trials : (cfg.quick ? 200 : 1000);
  auto counter = client.submit_actor<BenchCounter>().result();
  long expected = 0;
  for (int i = 0; i < warmup; ++i) expected = counter.call(&BenchCounter::inc, 1L).result();
  std::vector<double> all, run_medians;
  for (int r = 0; r < cfg.repeats(); ++r) {
    std::vector<double> us;
    us.reserve(per_run);
    for (int i = 0; i < per_run; ++i) {
      const auto t0 = Clock::now();
      const long v = counter.call(&BenchCounter::inc, 1L).result();
      us.push_back(seconds_since(t0) * 1e6);
      if (v != ++expected) throw std::runtime_error("cluster_actor_roundtrip: wrong result");
    }
    run_medians.push_back(median(us));
    all.insert(all.end(), us.begin(), us.end());
  }
  print_latency("cluster_actor_roundtrip", run_medians, all, cfg, per_run, warmup,
                "actor.call(&BenchCounter::inc, 1).result(), one after the other from the "
                "client thread; median over runs of the per-call median");
}

std::size_t actor_calls(const Config& cfg) { return cfg.quick ? 1000 : 10000; }

void actor_pipelined(cask::Client& client, const Config& cfg) {
  const std::size_t n = actor_calls(cfg);
  auto counter = client.submit_actor<BenchCounter>().result();
  std::vector<double> rates;
  long expected = 0;
  for (int r = 0; r < cfg.repeats(); ++r) {
    const auto t0 = Clock::now();
    std::vector<cask::Future<long>> calls;
    calls.reserve(n);
    for (std::size_t i = 0; i < n; ++i) calls.push_back(counter.call(&BenchCounter::inc, 1L));
    for (auto& c : calls)
      if (c.result() != ++expected) throw std::runtime_error("cluster_actor_pipelined: out of order");
    rates.push_back(double(n) / seconds_since(t0));
  }
  Record("cluster_actor_pipelined_" + size_name(n))
      .field("impl", "cask")
      .field("value", median(rates))
      .field("unit", "calls/s")
      .field("n", n)
      .field("runs", cfg.repeats())
      .list("run_values", rates)
      .field("note", "n actor.call(&BenchCounter::inc, 1) issued at once, then every result "
                     "in order (checked); median over runs")
      .print();
}

// ---------------------------------------------------------------------------------------

struct Case {
  std::string name;
  std::function<void(cask::Client&, const Config&)> run;
};

std::vector<Case> cases_for(const Config& cfg) {
  return {
      {"cluster_map_gather_" + size_name(cfg.tasks_n()), map_gather},
      {"cluster_roundtrip", roundtrip},
      {"cluster_queue", queue_pairs},
      {"cluster_tree_reduction_" + size_name(cfg.tasks_n()), tree_reduction},
      {"cluster_transfer_" + std::to_string(cfg.transfer_mb()) + "mb", transfer},
      {"cluster_actor_roundtrip", actor_roundtrip},
      {"cluster_actor_pipelined_" + size_name(actor_calls(cfg)), actor_pipelined},
  };
}

[[noreturn]] void usage(int code) {
  std::cerr << "usage: cask_cluster_bench [--quick] [--case NAME[,NAME...]] [--n N] [--mb MB]\n"
               "                          [--runs N] [--trials N] [--address HOST:PORT] [--list]\n";
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  std::vector<std::string> wanted;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--quick") cfg.quick = true;
    else if (a == "--case") for (auto& c : split(value())) wanted.push_back(c);
    else if (a == "--n") cfg.n = std::stoul(value());
    else if (a == "--mb") cfg.mb = std::stoul(value());
    else if (a == "--runs") cfg.runs = std::stoi(value());
    else if (a == "--trials") cfg.roundtrip_trials = std::stoi(value());
    else if (a == "--address") cfg.address = value();
    else if (a == "--list") list = true;
    else if (a == "-h" || a == "--help") usage(0);
    else usage(2);
  }
  const auto all = cases_for(cfg);
  if (list) {
    for (const auto& c : all) std::cout << c.name << "\n";
    return 0;
  }
  std::vector<Case> chosen;
  for (const auto& c : all)
    if (wanted.empty() || std::any_of(wanted.begin(), wanted.end(), [&](const auto& w) {
          return c.name.rfind(w, 0) == 0 || w.rfind(c.name, 0) == 0;
        }))
      chosen.push_back(c);
  if (chosen.empty()) {
    std::cerr << "cask_cluster_bench: no case matches\n";
    return 2;
  }

  int failures = 0;
  // The workers preload the task library; with --address, the cluster's workers must
  // (cask-worker HOST:PORT --preload .../libcask_cluster_bench_tasks.so).
  // A start that fails (a worker that does not join: seen now and then when two workers
  // join at the same moment) is retried twice; the info record counts the attempts.
  std::unique_ptr<cask::LocalCluster> cluster;
  int start_attempts = 0;
  std::string start_errors;
  while (cfg.address.empty() && !cluster) {
    ++start_attempts;
    try {
      cluster = std::make_unique<cask::LocalCluster>(cask::LocalClusterOptions{
          .workers = 2, .threads_per_worker = 1, .preload = {CASK_CLUSTER_BENCH_TASKS}});
    } catch (const std::exception& e) {
      start_errors += (start_errors.empty() ? "" : " | ") + std::string(e.what());
      std::cerr << "cask_cluster_bench: starting the LocalCluster failed (attempt "
                << start_attempts << "): " << e.what() << "\n";
      if (start_attempts == 3) {
        Record("info").field("impl", "cask").field("mode", "cluster")
            .field("start_attempts", start_attempts).field("error", start_errors).print();
        for (const auto& c : chosen)
          Record(c.name).field("impl", "cask")
              .field("error", "the LocalCluster did not start: " + start_errors).print();
        return 1;
      }
    }
  }
  try {
    cask::Client client{cluster ? cluster->address() : cfg.address};
    const auto s = client.stats();
    Record info("info");
    info.field("impl", "cask")
        .field("mode", "cluster")
        .field("cluster", cluster ? "cask::LocalCluster{.workers = 2, .threads_per_worker = 1}"
                                  : cfg.address.c_str())
        .field("workers", s.workers)
        .field("slots", s.slots)
        .field("processes", true)
        .field("quick", cfg.quick)
        .field("runs", cfg.repeats())
        .field("start_attempts", start_attempts);
    if (!start_errors.empty()) info.field("start_errors", start_errors);
    info.field("note", "cluster_transfer: two values made at once by make_blob on the 2 x 1-thread "
                       "cluster (one per worker, checked by the producer pid each value carries), "
                       "then one consume_blobs(a, b) task: the value made on the other worker "
                       "crosses between the worker processes; MB/s = bytes moved / (consumer "
                       "submitted -> its body starts, CLOCK_MONOTONIC across processes); the "
                       "producers are waited for first, untimed")
        .print();
    for (const auto& c : chosen) {
      try {
        c.run(client, cfg);
      } catch (const std::exception& e) {
        ++failures;
        Record(c.name).field("impl", "cask").field("error", e.what()).print();
      }
    }
  } catch (const std::exception& e) {  // connecting, or stats() of the info record
    std::cerr << "cask_cluster_bench: " << e.what() << "\n";
    Record("info").field("impl", "cask").field("mode", "cluster").field("error", e.what()).print();
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
