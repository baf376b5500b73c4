// cask_bench: the performance cases of issues 2, 3 and 4 on the embedded cluster.
//
//   cask_bench                          # every case, full sizes
//   cask_bench --quick                  # every case, small sizes (a smoke run, seconds)
//   cask_bench --case roundtrip         # one case; --case takes a comma list of names or
//   cask_bench --case map_gather        #   prefixes ("map_gather" = every size)
//   cask_bench --case map_gather --sizes 10000,1000000
//   cask_bench --case memory --pending 100000
//   cask_bench --case as_completed,nested_child,wait_first_reaction   # issue 3's cases
//   cask_bench --case queue,variable,lock,event,actor                 # issue 4's cases
//   cask_bench --list                   # the case names
//
// Output: one JSON object per line, {"case": ..., "value": ..., "unit": ..., ...extras};
// bench/report.py turns these (and dask_bench.py's) into the comparison table.
//
// The cluster is `cask::Client client;` with default options: one worker per hardware
// thread, one execution slot each, as a user gets it. Every case starts from an empty
// cluster (client.stats().tasks() == 0) and leaves it empty.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cask/cask.hpp>

#include "bench_util.hpp"

// cask_bench_allocs (the same program built with CASK_BENCH_COUNT_ALLOCS) counts every
// operator new in the process, CAF's and the runtime's included, and adds allocations
// and bytes per task to the records. Its timings are not comparable (a shared counter).
#ifdef CASK_BENCH_COUNT_ALLOCS
#include <atomic>
#include <new>
namespace {
std::atomic<std::size_t> g_allocs{0};
std::atomic<std::size_t> g_alloc_bytes{0};
void* counted_alloc(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_alloc_bytes.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n); } catch (...) { return nullptr; }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
namespace {
struct AllocCount {
  std::size_t allocs = g_allocs.load();
  std::size_t bytes = g_alloc_bytes.load();
};
}  // namespace
#endif

namespace {

using namespace std::chrono_literals;
using namespace bench_util;

// The trivial task every case runs. Exported (cask_executable links with -rdynamic), so
// keys read "trivial-<hash>".
int trivial(int x) { return x + 1; }

/// Gives freed heap pages back to the OS, so that an RSS baseline is not flattered by
/// memory a previous case freed but the allocator kept.
std::size_t trimmed_rss() {
  malloc_trim(0);
  return rss_bytes();
}

/// Waits until the scheduler holds no task, and no future actor, coordination object or
/// Actor<T> instance is alive.
/// stats() gives up after a while when the scheduler is busy (e.g. with a million release
/// messages queued ahead of it); that is not a failure here, only a longer wait.
/// `actors_kept`: Actor<T> instances the case still holds (its calls' futures must be gone).
void wait_until_empty(cask::Client& client, const char* where, std::size_t actors_kept = 0) {
  const auto deadline = Clock::now() + 300s;
  for (;;) {
    cask::ClusterStats s;
    try {
      s = client.stats();
    } catch (const cask::CommError&) {
      if (Clock::now() > deadline) throw;
      continue;
    }
    if (s.tasks() == 0 && s.future_actors == 0 && s.coordination_objects == 0 &&
        s.actors == actors_kept)
      return;
    if (Clock::now() > deadline) {
      std::ostringstream os;
      os << s;
      throw std::runtime_error(std::string(where) + ": the cluster did not empty: " + os.str());
    }
    std::this_thread::sleep_for(1ms);
  }
}

// ---------------------------------------------------------------------------------------
// Configuration and the cases.

struct Config {
  bool quick = false;
  std::vector<std::size_t> sizes;  // map_gather sizes
  std::vector<std::size_t> as_completed_sizes;
  std::size_t pending = 0;         // memory case
  int runs = 0;                    // 0: the case's default
};

/// Sequential submit -> result() round trip, one task at a time.
void roundtrip(cask::Client& client, const Config& cfg) {
  const int warmup = cfg.quick ? 200 : 2000;
  const int runs = cfg.runs ? cfg.runs : (cfg.quick ? 2 : 5);
  const int per_run = cfg.quick ? 500 : 2000;
  for (int i = 0; i < warmup; ++i) (void)client.submit(trivial, next_arg()).result();
  wait_until_empty(client, "roundtrip warm-up");

  std::vector<double> all, run_medians;
  all.reserve(std::size_t(runs) * per_run);
#ifdef CASK_BENCH_COUNT_ALLOCS
  const AllocCount a0;
#endif
  for (int r = 0; r < runs; ++r) {
    std::vector<double> us;
    us.reserve(per_run);
    for (int i = 0; i < per_run; ++i) {
      const int x = next_arg();
      const auto t0 = Clock::now();
      const int v = client.submit(trivial, x).result();
      us.push_back(seconds_since(t0) * 1e6);
      if (v != x + 1) throw std::runtime_error("roundtrip: wrong result");
    }
    run_medians.push_back(median(us));
    all.insert(all.end(), us.begin(), us.end());
    wait_until_empty(client, "roundtrip");
  }
  Record rec("roundtrip");
#ifdef CASK_BENCH_COUNT_ALLOCS
  const AllocCount a1;
  const double calls = double(runs) * per_run;
  rec.field("allocs_per_task", double(a1.allocs - a0.allocs) / calls)
      .field("alloc_bytes_per_task", double(a1.bytes - a0.bytes) / calls);
#endif
  rec.field("impl", "cask")
      .field("value", median(run_medians))
      .field("unit", "us")
      .field("p10", percentile(all, 10))
      .field("p90", percentile(all, 90))
      .field("p99", percentile(all, 99))
      .field("runs", runs)
      .field("calls_per_run", per_run)
      .list("run_medians", run_medians)
      .field("note", "median over runs of the per-call median (submit, result() and dropping the "
                     "future); p10/p90/p99 over all calls")
      .print();
}

/// One map + gather of n trivial tasks; returns {seconds for map+gather, map alone,
/// release (dropping the futures until the cluster is empty)}.
struct MapTiming {
  double total = 0, submit = 0, release = 0;
  double allocs = 0, alloc_bytes = 0;  // per task, cask_bench_allocs only
};

MapTiming map_gather_once(cask::Client& client, std::size_t n) {
  std::vector<int> xs(n);
  std::iota(xs.begin(), xs.end(), next_arg(static_cast<int>(n)));
  MapTiming t;
#ifdef CASK_BENCH_COUNT_ALLOCS
  const AllocCount a0;
#endif
  {
    const auto t0 = Clock::now();
    auto fs = client.map(trivial, xs);
    t.submit = seconds_since(t0);
    auto vs = client.gather(fs);
    t.total = seconds_since(t0);
    for (std::size_t i = 0; i < n; ++i)
      if (vs[i] != xs[i] + 1) throw std::runtime_error("map_gather: wrong result");
    const auto t1 = Clock::now();
    fs.clear();
    fs.shrink_to_fit();
    wait_until_empty(client, "map_gather");
    t.release = seconds_since(t1);
  }
#ifdef CASK_BENCH_COUNT_ALLOCS
  const AllocCount a1;
  // wait_until_empty's stats() round trips allocate too, a few hundred at most.
  t.allocs = double(a1.allocs - a0.allocs) / double(n);
  t.alloc_bytes = double(a1.bytes - a0.bytes) / double(n);
#endif
  return t;
}

void map_gather(cask::Client& client, const Config& cfg, std::size_t n) {
  const int runs = cfg.runs ? cfg.runs : (cfg.quick ? 2 : (n >= 1000000 ? 3 : 5));
  map_gather_once(client, std::min<std::size_t>(n, 10000));  // warm-up
  std::vector<double> rates, totals, submits, releases;
  MapTiming t;
  for (int r = 0; r < runs; ++r) {
    t = map_gather_once(client, n);
    rates.push_back(double(n) / t.total);
    totals.push_back(t.total);
    submits.push_back(t.submit);
    releases.push_back(t.release);
  }
  const double rate = median(rates);
  Record rec("map_gather_" + size_name(n));
#ifdef CASK_BENCH_COUNT_ALLOCS
  rec.field("allocs_per_task", t.allocs).field("alloc_bytes_per_task", t.alloc_bytes);
#endif
  rec
      .field("impl", "cask")
      .field("value", rate)
      .field("unit", "tasks/s")
      .field("n", n)
      .field("runs", runs)
      .field("us_per_task", 1e6 / rate)
      .list("rates", rates)
      .field("map_s", median(submits))
      .field("map_gather_s", median(totals))
      .field("release_s", median(releases))
      .field("note", "map()+gather() wall time; release_s (dropping the futures until the "
                     "cluster is empty) is not included")
      .print();
}

/// RSS growth per future while `pending` futures wait in the queue behind gated tasks.
void memory_per_pending_future(cask::Client& client, const Config& cfg) {
  const std::size_t n = cfg.pending ? cfg.pending : (cfg.quick ? 10000 : 1000000);
  const std::size_t slots = client.stats().slots;
  wait_until_empty(client, "memory (start)");

  // A small warm-up of the same shape, so that one-time allocations (thread arenas,
  // CAF's per-thread caches) are not counted per future.
  map_gather_once(client, std::min<std::size_t>(n, 10000));

  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::vector<cask::Future<int>> blockers;
  for (std::size_t i = 0; i < slots; ++i)
    blockers.push_back(client.submit([open] { open.wait(); return 0; }));  // stateful: fresh key
  const auto deadline = Clock::now() + 30s;
  while (client.stats().slots_busy < slots) {
    if (Clock::now() > deadline) throw std::runtime_error("memory: the gate tasks did not start");
    std::this_thread::sleep_for(1ms);
  }

  const std::size_t before = trimmed_rss();
  std::vector<cask::Future<int>> fs;
  {
    std::vector<int> xs(n);
    std::iota(xs.begin(), xs.end(), next_arg(static_cast<int>(n)));
    fs = client.map(trivial, xs);
  }
  // Every submission has reached the scheduler (no message still in flight).
  cask::ClusterStats held;
  for (;;) {
    held = client.stats();
    if (held.tasks() >= n + slots) break;
    std::this_thread::sleep_for(1ms);
  }
  const std::size_t after = trimmed_rss();
  const bool all_pending = std::none_of(fs.begin(), fs.end(), [](const auto& f) { return f.done(); });

  gate.set_value();
  const auto t0 = Clock::now();
  auto vs = client.gather(fs);
  const double drain_s = seconds_since(t0);
  for (auto& b : blockers) (void)b.result();
  blockers.clear();
  fs.clear();
  fs.shrink_to_fit();
  wait_until_empty(client, "memory (end)");

  Record("memory_per_pending_future")
      .field("impl", "cask")
      .field("value", double(after - before) / double(n))
      .field("unit", "bytes")
      .field("n", n)
      .field("runs", 1)
      .field("rss_before_mb", double(before) / 1048576.0)
      .field("rss_after_mb", double(after) / 1048576.0)
      .field("all_pending", all_pending)
      .field("future_actors", held.future_actors)
      .field("queued", held.queued)
      .field("drain_tasks_per_s", double(n) / drain_s)
      .field("note", "RSS growth / n with n futures held pending behind gated slots; includes "
                     "the client's Future handles")
      .print();
}


// ---------------------------------------------------------------------------------------
// Issue 3: as_completed, nested submission, wait(FIRST_COMPLETED).

/// One map of n trivial tasks consumed through as_completed(...).with_results(); returns
/// the seconds from the start of map() to the last future consumed.
double as_completed_once(cask::Client& client, std::size_t n) {
  std::vector<int> xs(n);
  std::iota(xs.begin(), xs.end(), next_arg(static_cast<int>(n)));
  long long expected = 0;
  for (int x : xs) expected += x + 1;
  double total = 0;
  {
    const auto t0 = Clock::now();
    auto fs = client.map(trivial, xs);
    long long sum = 0;
    std::size_t seen = 0;
    for (auto& c : cask::as_completed(fs).with_results()) {
      if (c.error || !c.value) throw std::runtime_error("as_completed: a task failed");
      sum += *c.value;
      ++seen;
    }
    total = seconds_since(t0);
    if (seen != n || sum != expected) throw std::runtime_error("as_completed: wrong results");
  }
  wait_until_empty(client, "as_completed");
  return total;
}

void as_completed_case(cask::Client& client, const Config& cfg, std::size_t n) {
  const int runs = cfg.runs ? cfg.runs : (cfg.quick ? 2 : 5);
  as_completed_once(client, std::min<std::size_t>(n, 10000));  // warm-up
  std::vector<double> rates, totals;
  for (int r = 0; r < runs; ++r) {
    const double t = as_completed_once(client, n);
    rates.push_back(double(n) / t);
    totals.push_back(t);
  }
  const double rate = median(rates);
  Record("as_completed_" + size_name(n))
      .field("impl", "cask")
      .field("value", rate)
      .field("unit", "tasks/s")
      .field("n", n)
      .field("runs", runs)
      .field("us_per_task", 1e6 / rate)
      .list("rates", rates)
      .field("seconds", median(totals))
      .field("note", "map() of n trivial tasks, then as_completed(fs).with_results() summing "
                     "every value; from the start of map() to the last one consumed")
      .print();
}

/// The parent of the nested case: submits n children from inside its task and sums them
/// through as_completed.
long long nested_parent(int base, int n) {
  cask::Client client = cask::get_client();
  std::vector<int> xs(static_cast<std::size_t>(n));
  std::iota(xs.begin(), xs.end(), base);
  auto fs = client.map(trivial, xs);
  long long sum = 0;
  for (auto& c : cask::as_completed(fs).with_results()) {
    if (c.error) std::rethrow_exception(c.error);
    sum += *c.value;
  }
  return sum;
}

/// One task submits `children` children (get_client) and sums them via as_completed;
/// µs per child, from submitting the parent to its result on the main thread.
void nested_child(cask::Client& client, const Config& cfg) {
  const int children = 1000;
  const int runs = cfg.runs ? cfg.runs : (cfg.quick ? 3 : 15);
  auto once = [&] {
    const int base = next_arg(children);
    long long expected = 0;
    for (int i = 0; i < children; ++i) expected += base + i + 1;
    const auto t0 = Clock::now();
    const long long sum = client.submit(nested_parent, base, children).result();
    const double s = seconds_since(t0);
    if (sum != expected) throw std::runtime_error("nested_child: wrong sum");
    wait_until_empty(client, "nested_child");
    return s;
  };
  for (int i = 0; i < 3; ++i) once();  // warm-up
  std::vector<double> per_child;
  for (int r = 0; r < runs; ++r) per_child.push_back(once() * 1e6 / children);
  Record("nested_child")
      .field("impl", "cask")
      .field("value", median(per_child))
      .field("unit", "us")
      .field("children", children)
      .field("runs", runs)
      .field("min", *std::min_element(per_child.begin(), per_child.end()))
      .field("max", *std::max_element(per_child.begin(), per_child.end()))
      .list("run_us_per_child", per_child)
      .field("note", "one task maps 1,000 trivial children through get_client() and sums them "
                     "with as_completed; (submit of the parent -> its result) / 1,000, median "
                     "over runs")
      .print();
}

/// wait(FIRST_COMPLETED) reaction: two tasks gated on events the bench controls; the main
/// thread enters wait, a helper thread opens the first gate, the first task records a
/// steady_clock timestamp right before it returns, and the reaction is the time from that
/// timestamp to wait returning. The second task stays gated (seceded, so it holds no slot)
/// until wait has returned.
void wait_first_reaction(cask::Client& client, const Config& cfg) {
  const int trials = cfg.runs ? cfg.runs : (cfg.quick ? 30 : 300);
  const int warmup = cfg.quick ? 5 : 20;
  const auto open_after = 2ms;  // the helper opens the first gate this long after wait starts
  std::vector<double> us;
  int late = 0;  // trials where the task finished before wait was entered (not counted)
  for (int t = 0; t < warmup + trials; ++t) {
    std::promise<void> gate_a, gate_b;
    std::shared_future<void> open_a = gate_a.get_future().share();
    std::shared_future<void> open_b = gate_b.get_future().share();
    auto finished_at = std::make_shared<std::atomic<long long>>(0);
    // Stateful lambdas: fresh keys every trial.
    auto fa = client.submit([open_a, finished_at] {
      open_a.wait();
      finished_at->store(Clock::now().time_since_epoch().count(), std::memory_order_release);
      return 1;
    });
    auto fb = client.submit([open_b] {
      cask::secede();  // the gated task gives its slot back: the first can never queue behind it
      open_b.wait();
      return 2;
    });
    std::vector<cask::Future<int>> fs{fa, fb};
    std::atomic<bool> entering{false};
    std::thread opener([&] {
      while (!entering.load(std::memory_order_acquire)) std::this_thread::yield();
      std::this_thread::sleep_for(open_after);
      gate_a.set_value();
    });
    const auto t_enter = Clock::now();
    entering.store(true, std::memory_order_release);
    auto res = cask::wait(fs, cask::FIRST_COMPLETED);
    const auto t_return = Clock::now();
    opener.join();
    gate_b.set_value();
    if (res.done.size() != 1 || !(res.done.front() == fa))
      throw std::runtime_error("wait_first_reaction: wait returned the wrong set");
    const long long done_ns = finished_at->load(std::memory_order_acquire);
    if (fa.result() != 1 || fb.result() != 2) throw std::runtime_error("wait_first_reaction: wrong result");
    const Clock::time_point t_done{Clock::duration(done_ns)};
    if (t < warmup) continue;
    if (t_done < t_enter) {
      ++late;
      continue;
    }
    us.push_back(std::chrono::duration<double, std::micro>(t_return - t_done).count());
  }
  wait_until_empty(client, "wait_first_reaction");
  Record("wait_first_reaction")
      .field("impl", "cask")
      .field("value", median(us))
      .field("unit", "us")
      .field("trials", us.size())
      .field("late", late)
      .field("p10", percentile(us, 10))
      .field("p90", percentile(us, 90))
      .field("p99", percentile(us, 99))
      .field("note", "time from the first task's last statement (a steady_clock stamp before "
                     "it returns) to wait(fs, FIRST_COMPLETED) returning on the main thread; "
                     "its gate opens 2 ms after wait is entered, the other task stays gated; "
                     "median over trials")
      .print();
}

// ---------------------------------------------------------------------------------------
// Issue 4: coordination objects (Queue, Variable, Lock, Event) and actors, used from the
// client thread (the main thread, outside any task).

/// Runs `pair(i)` (one put+get, set+get, ...) per_run times per run after a warm-up, and
/// records the median over runs of pairs/s, with per-pair latency percentiles.
template <class Pair>
void object_pairs(const Config& cfg, const std::string& name, const char* what, Pair&& pair) {
  const int warmup = cfg.quick ? 100 : 2000;
  const int runs = cfg.runs ? cfg.runs : (cfg.quick ? 2 : 5);
  const int per_run = cfg.quick ? 1000 : 20000;
  for (int i = 0; i < warmup; ++i) pair(i);
  std::vector<double> rates, all;
  all.reserve(std::size_t(runs) * per_run);
#ifdef CASK_BENCH_COUNT_ALLOCS
  const AllocCount a0;
#endif
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    auto prev = t0;
    for (int i = 0; i < per_run; ++i) {
      pair(i);
      const auto now = Clock::now();
      all.push_back(std::chrono::duration<double, std::micro>(now - prev).count());
      prev = now;
    }
    rates.push_back(double(per_run) / seconds_since(t0));
  }
  const double rate = median(rates);
  Record rec(name);
#ifdef CASK_BENCH_COUNT_ALLOCS
  const AllocCount a1;
  const double pairs = double(runs) * per_run;
  rec.field("allocs_per_pair", double(a1.allocs - a0.allocs) / pairs)
      .field("alloc_bytes_per_pair", double(a1.bytes - a0.bytes) / pairs);
#endif
  rec.field("impl", "cask")
      .field("value", rate)
      .field("unit", "pairs/s")
      .field("pairs_per_run", per_run)
      .field("runs", runs)
      .field("us_per_pair", 1e6 / rate)
      .field("p50", percentile(all, 50))
      .field("p90", percentile(all, 90))
      .field("p99", percentile(all, 99))
      .list("rates", rates)
      .field("note", std::string(what) + " from the client thread, one pair after the other on "
                     "one handle; median over runs of pairs/s; p50/p90/p99: µs per pair")
      .print();
}

void queue_put_get(cask::Client& client, const Config& cfg) {
  {
    cask::Queue<int> q{"cask-bench-queue", client};
    object_pairs(cfg, "queue_put_get", "Queue<int>: put(i) then get()", [&](int i) {
      q.put(i);
      if (q.get() != i) throw std::runtime_error("queue_put_get: wrong item");
    });
    if (q.size() != 0) throw std::runtime_error("queue_put_get: items left");
  }
  wait_until_empty(client, "queue_put_get");
}

void variable_set_get(cask::Client& client, const Config& cfg) {
  {
    cask::Variable<int> v{"cask-bench-variable", client};
    object_pairs(cfg, "variable_set_get", "Variable<int>: set(i) then get()", [&](int i) {
      v.set(i);
      if (v.get() != i) throw std::runtime_error("variable_set_get: wrong value");
    });
    v.erase();  // a set variable outlives its handles
  }
  wait_until_empty(client, "variable_set_get");
}

void lock_acquire_release(cask::Client& client, const Config& cfg) {
  {
    cask::Lock lock{"cask-bench-lock", client};
    object_pairs(cfg, "lock_acquire_release", "Lock: acquire() then release() (uncontended)",
                 [&](int) {
                   lock.acquire();
                   lock.release();
                 });
    if (lock.locked()) throw std::runtime_error("lock_acquire_release: still locked");
  }
  wait_until_empty(client, "lock_acquire_release");
}

void event_set_is_set(cask::Client& client, const Config& cfg) {
  {
    cask::Event ev{"cask-bench-event", client};
    object_pairs(cfg, "event_set_is_set", "Event: set() then is_set()", [&](int) {
      ev.set();
      if (!ev.is_set()) throw std::runtime_error("event_set_is_set: not set");
    });
    ev.clear();  // a set event outlives its handles
  }
  wait_until_empty(client, "event_set_is_set");
}

struct BenchCounter {
  long long n = 0;
  long long increment() { return ++n; }
};

/// calls_per_run sequential Actor calls, each waited for (call(...).result()) before the
/// next; µs per call = run time / calls, median over runs.
void actor_call_sequential(cask::Client& client, const Config& cfg) {
  const int warmup = cfg.quick ? 100 : 1000;
  const int runs = cfg.runs ? cfg.runs : (cfg.quick ? 2 : 5);
  const int per_run = cfg.quick ? 500 : 10000;
  {
    auto counter = client.submit_actor<BenchCounter>().result();
    long long expected = 0;
    for (int i = 0; i < warmup; ++i)
      if (counter.call(&BenchCounter::increment).result() != ++expected)
        throw std::runtime_error("actor_call_sequential: wrong count");
    std::vector<double> per_call, all;
    all.reserve(std::size_t(runs) * per_run);
#ifdef CASK_BENCH_COUNT_ALLOCS
    const AllocCount a0;
#endif
    for (int r = 0; r < runs; ++r) {
      const auto t0 = Clock::now();
      auto prev = t0;
      for (int i = 0; i < per_run; ++i) {
        if (counter.call(&BenchCounter::increment).result() != ++expected)
          throw std::runtime_error("actor_call_sequential: wrong count");
        const auto now = Clock::now();
        all.push_back(std::chrono::duration<double, std::micro>(now - prev).count());
        prev = now;
      }
      per_call.push_back(seconds_since(t0) * 1e6 / per_run);
    }
    Record rec("actor_call_sequential");
#ifdef CASK_BENCH_COUNT_ALLOCS
    const AllocCount a1;
    const double calls = double(runs) * per_run;
    rec.field("allocs_per_call", double(a1.allocs - a0.allocs) / calls)
        .field("alloc_bytes_per_call", double(a1.bytes - a0.bytes) / calls);
#endif
    rec.field("impl", "cask")
        .field("value", median(per_call))
        .field("unit", "us")
        .field("calls_per_run", per_run)
        .field("runs", runs)
        .field("p50", percentile(all, 50))
        .field("p90", percentile(all, 90))
        .field("p99", percentile(all, 99))
        .list("run_us_per_call", per_call)
        .field("note", "Actor<Counter>: call(&Counter::increment).result(), one after the other "
                       "from the client thread; (run time / calls) median over runs; "
                       "p50/p90/p99 over all calls")
        .print();
  }
  wait_until_empty(client, "actor_call_sequential");
}

/// n Actor calls submitted back to back, then result() of each in order; calls/s from the
/// first call to the last result, median over runs.
void actor_call_pipelined(cask::Client& client, const Config& cfg) {
  const std::size_t n = cfg.quick ? 5000 : 100000;
  const int runs = cfg.runs ? cfg.runs : (cfg.quick ? 2 : 5);
  std::vector<double> rates, submits, lasts, alls;
  {
    auto counter = client.submit_actor<BenchCounter>().result();
    long long expected = 0;
    auto once = [&](std::size_t calls) {
      std::vector<cask::Future<long long>> fs;
      fs.reserve(calls);
      const auto t0 = Clock::now();
      for (std::size_t i = 0; i < calls; ++i) fs.push_back(counter.call(&BenchCounter::increment));
      const double submit_s = seconds_since(t0);
      (void)fs.back().result();
      const double last_s = seconds_since(t0);
      for (auto& f : fs)
        if (f.result() != ++expected) throw std::runtime_error("actor_call_pipelined: wrong count");
      const double all_s = seconds_since(t0);
      fs.clear();
      fs.shrink_to_fit();
      wait_until_empty(client, "actor_call_pipelined (between runs)", 1);
      return std::array<double, 3>{submit_s, last_s, all_s};
    };
    once(std::min<std::size_t>(n, 10000));  // warm-up
    for (int r = 0; r < runs; ++r) {
      const auto t = once(n);
      submits.push_back(t[0]);
      lasts.push_back(t[1]);
      alls.push_back(t[2]);
      rates.push_back(double(n) / t[2]);
    }
  }
  wait_until_empty(client, "actor_call_pipelined");
  const double rate = median(rates);
  Record("actor_call_pipelined")
      .field("impl", "cask")
      .field("value", rate)
      .field("unit", "calls/s")
      .field("n", n)
      .field("runs", runs)
      .field("us_per_call", 1e6 / rate)
      .list("rates", rates)
      .field("submit_s", median(submits))
      .field("last_result_s", median(lasts))
      .field("all_results_s", median(alls))
      .field("note", "Actor<Counter>: n calls of increment() submitted back to back from the "
                     "client thread, then result() of each; n / (first call -> every result), "
                     "median over runs")
      .print();
}

// ---------------------------------------------------------------------------------------
// The case table (report.py has the targets).

struct Case {
  std::string name;
  std::function<void(cask::Client&, const Config&)> run;
};

std::vector<Case> cases_for(const Config& cfg) {
  std::vector<Case> out;
  out.push_back({"roundtrip", roundtrip});
  for (std::size_t n : cfg.sizes)
    out.push_back({"map_gather_" + size_name(n),
                   [n](cask::Client& c, const Config& k) { map_gather(c, k, n); }});
  out.push_back({"memory_per_pending_future", memory_per_pending_future});
  for (std::size_t n : cfg.as_completed_sizes)
    out.push_back({"as_completed_" + size_name(n),
                   [n](cask::Client& c, const Config& k) { as_completed_case(c, k, n); }});
  out.push_back({"nested_child", nested_child});
  out.push_back({"wait_first_reaction", wait_first_reaction});
  out.push_back({"queue_put_get", queue_put_get});
  out.push_back({"variable_set_get", variable_set_get});
  out.push_back({"lock_acquire_release", lock_acquire_release});
  out.push_back({"event_set_is_set", event_set_is_set});
  out.push_back({"actor_call_sequential", actor_call_sequential});
  out.push_back({"actor_call_pipelined", actor_call_pipelined});
  return out;
}

[[noreturn]] void usage(int code) {
  std::cerr << "usage: cask_bench [--quick] [--case NAME[,NAME...]] [--sizes N,N,...]\n"
               "                  [--pending N] [--runs N] [--list]\n";
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  std::vector<std::string> wanted;
  bool list = false;
  std::string sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--quick") cfg.quick = true;
    else if (a == "--case") for (auto& c : split(value())) wanted.push_back(c);
    else if (a == "--sizes") sizes = value();
    else if (a == "--pending") cfg.pending = std::stoul(value());
    else if (a == "--runs") cfg.runs = std::stoi(value());
    else if (a == "--list") list = true;
    else if (a == "-h" || a == "--help") usage(0);
    else usage(2);
  }
  if (!sizes.empty())
    for (auto& s : split(sizes)) cfg.sizes.push_back(std::stoul(s));
  else if (cfg.quick)
    cfg.sizes = {1000, 10000};
  else
    cfg.sizes = {10000, 100000, 1000000};
  cfg.as_completed_sizes = cfg.quick ? std::vector<std::size_t>{1000, 10000}
                                     : std::vector<std::size_t>{10000, 100000};

  auto all = cases_for(cfg);
  std::vector<Case> chosen;
  for (const auto& c : all) {
    const bool pick = wanted.empty() || std::any_of(wanted.begin(), wanted.end(), [&](const auto& w) {
                        return c.name.rfind(w, 0) == 0;
                      });
    if (pick) chosen.push_back(c);
  }
  if (list) {
    for (const auto& c : all) std::cout << c.name << "\n";
    return 0;
  }
  if (chosen.empty()) {
    std::cerr << "cask_bench: no case matches\n";
    return 2;
  }

  int failures = 0;
  cask::Client client;  // the default: one worker per hardware thread, one slot each
  {
    const auto s = client.stats();
    Record("info")
        .field("impl", "cask")
        .field("workers", s.workers)
        .field("slots", s.slots)
        .field("hardware_threads", static_cast<std::size_t>(std::thread::hardware_concurrency()))
        .field("quick", cfg.quick)
        .print();
  }
  for (const auto& c : chosen) {
    try {
      c.run(client, cfg);
    } catch (const std::exception& e) {
      ++failures;
      Record(c.name).field("impl", "cask").field("error", e.what()).print();
    }
  }
  return failures == 0 ? 0 : 1;
}
