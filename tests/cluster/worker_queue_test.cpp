// A worker's queue side under work stealing, on the real WorkerStore and ExecutionPool (no
// cluster needed): a steal must take the run the scheduler knows about, and a run taken
// back must never be reported by the worker it left (the scheduler counts it there once).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "actors/cluster_worker.hpp"
#include "runtime/execution_pool.hpp"

using namespace cask::detail;

namespace {

JobPtr queued_job(const std::string& key) {
  auto job = std::make_shared<Job>();
  job->key = std::make_shared<const std::string>(key);
  job->fn = [](std::span<const Value>) -> Value { return nullptr; };
  return job;
}

/// The keys a pool reported done, in order; waitable with a bound.
struct Reports {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> keys;

  void add(const JobPtr& job) {
    std::lock_guard lk(mu);
    keys.push_back(*job->key);
    cv.notify_all();
  }
  bool wait_for_count(std::size_t n) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(10), [&] { return keys.size() >= n; });
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lk(mu);
    return keys;
  }
};

std::vector<std::string> keys_of(const std::vector<WireRunId>& runs) {
  std::vector<std::string> keys;
  for (const auto& r : runs) keys.push_back(r.key);
  return keys;
}

}  // namespace

TEST_CASE("WorkerQueue.earlier_run_ending_leaves_later_run_of_its_key_stealable" * doctest::timeout(10)) {
  // The scheduler cancelled run 1 of "k" while it was queued and sent "k" here again
  // (run 2); run 1 then ends (cancelled). Run 2 must stay tracked: else a steal misses it
  // and a cancel of it finds nothing.
  WorkerStore store;
  JobPtr first = queued_job("k");
  store.track("k", first);
  first->cancel();
  JobPtr second = queued_job("k");
  store.track("k", second);
  store.post(first);
  CHECK(store.take_posted().size() == 1);

  CHECK(keys_of(store.steal(1)) == std::vector<std::string>{"k"});
  CHECK(second->phase.load() == JobPhase::stolen);
  CHECK(store.steal(1).empty());  // taken once only
}

TEST_CASE("WorkerQueue.steal_takes_least_urgent_latest_arrival_first" * doctest::timeout(10)) {
  WorkerStore store;
  std::vector<JobPtr> jobs;
  for (auto [key, priority, seq] : std::vector<std::tuple<std::string, int, int>>{
           {"urgent", 5, 0}, {"early", 0, 1}, {"late", 0, 2}}) {
    JobPtr job = queued_job(key);
    job->priority = priority;
    job->seq = std::uint64_t(seq);
    store.track(key, job);
    jobs.push_back(job);
  }
  jobs[1]->phase.store(JobPhase::running);  // a slot started it: not stealable
  CHECK(keys_of(store.steal(5)) == std::vector<std::string>{"late", "urgent"});
}

TEST_CASE("WorkerQueue.stopping_pool_does_not_report_a_stolen_run" * doctest::timeout(10)) {
  Reports reports;
  ExecutionPool pool(1, nullptr, PoolHooks{[&](JobPtr job) { reports.add(job); }, nullptr});
  WorkerStore store;

  // The only slot runs `busy` until the pool asks it to stop; `waiting` queues behind it.
  std::atomic<bool> started{false};
  JobPtr busy = queued_job("busy");
  busy->fn = [&started, stop = busy->stop.get_token()](std::span<const Value>) -> Value {
    started.store(true);
    while (!stop.stop_requested()) std::this_thread::yield();
    return nullptr;
  };
  JobPtr waiting = queued_job("waiting");
  store.track("waiting", waiting);
  pool.push({busy, waiting});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!started.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  REQUIRE(started.load());
  REQUIRE(keys_of(store.steal(1)) == std::vector<std::string>{"waiting"});

  pool.stop();
  REQUIRE(reports.wait_for_count(1));
  CHECK(reports.snapshot() == std::vector<std::string>{"busy"});  // cancelled, reported once
}

TEST_CASE("WorkerQueue.cancel_and_free_of_an_earlier_run_leave_a_later_run_alone" * doctest::timeout(10)) {
  // A key released (or cancelled) and submitted again at once: the scheduler's cancel or
  // free of run 1 can reach the worker after run 2 of the key has arrived, or even after
  // run 2 has stored its value. They must not touch run 2 (seen: a fresh run cancelled,
  // or its value freed, and its future never completed).
  WorkerStore store;
  JobPtr second = queued_job("k");
  second->run = 2;
  store.track("k", second);
  store.cancel({"k", 1});
  CHECK_FALSE(second->stop.stop_requested());
  CHECK(keys_of(store.steal(1)) == std::vector<std::string>{"k"});
  CHECK(store.steal(1).empty());

  store.put("k", std::make_shared<const Bytes>(Bytes{'v'}), 2);
  CHECK_FALSE(store.erase({"k", 1}));
  CHECK(store.get("k") != nullptr);
  CHECK(store.erase({"k", 2}));
  CHECK(store.get("k") == nullptr);

  JobPtr third = queued_job("k");
  third->run = 3;
  store.track("k", third);
  store.cancel({"k", 3});
  CHECK(third->stop.stop_requested());
}
