// Both modes, Client (beyond submit_test.cpp and cancel_test.cpp): result types, fifty
// submits returning at once while every slot is busy, tasks running in parallel on all
// slots, a free worker taking queued work, many threads submitting fresh tasks, map over
// any input range with distinct keys and nothing submitted on unequal lengths, gather's
// order when the first finishes last, scatter's finished future and its release,
// client.cancel releasing everything, and stats by task state.
#include <list>
#include <ranges>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "both_tasks.hpp"
#include "core2_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_cluster_test::eventually;

namespace {
using Futures = std::vector<cask::Future<int>>;
}  // namespace

BOTH_CASE("Submit.result_types_and_void", 30) {
  cask::Future<double> d = env.client.submit(core2_tasks::half, 3);
  CHECK(d.valid());
  CHECK(d.result(kPatience) == doctest::Approx(1.5));
  cask::Future<void> v = env.client.submit(touch, env.file("touched"));
  v.result(kPatience);
  CHECK(v.status() == cask::Status::finished);
  CHECK(v.exception() == nullptr);
}

BOTH_CASE("Submit.task_key_is_empty_outside_a_task", 30) {
  auto f = env.client.submit(both_tasks::own_key, 2);
  CHECK(f.result(kPatience) == f.key());
  CHECK(std::string(cask::this_task::key()).empty());
}

BOTH_CASE("Submit.fifty_submits_return_at_once_while_every_slot_is_busy", 30) {
  Gate gate(env, "gate");
  Futures blockers{gate.submit(7), gate.submit(8)};
  REQUIRE(gate.wait_for(2));
  Futures fs;
  for (int i = 0; i < 50; ++i) fs.push_back(env.client.submit(add, i, 1000));
  // Still blocked: nothing could have run, yet every submit returned.
  for (const auto& b : blockers) CHECK(b.status() == cask::Status::pending);
  for (const auto& f : fs) CHECK(f.status() == cask::Status::pending);
  gate.open();
  CHECK(blockers[0].result(kPatience) + blockers[1].result(kPatience) == 15);
  for (int i = 0; i < 50; ++i) CHECK(fs[i].result(kPatience) == i + 1000);
}

BOTH_CASE("Submit.runs_tasks_in_parallel_on_all_slots", 30) {
  // Two slots: two tasks that each wait for the other to start can only finish when both
  // run at the same time.
  const std::string a = env.file("a"), b = env.file("b");
  auto fa = env.client.submit(core2_tasks::meet, a, b, 1);
  auto fb = env.client.submit(core2_tasks::meet, b, a, 2);
  CHECK(fa.result(kPatience) == 1);
  CHECK(fb.result(kPatience) == 2);
}

BOTH_CASE("Submit.idle_worker_takes_queued_tasks", 30) {
  // One slot is blocked by a gated task; every other task must still run on the free
  // worker ("starts as soon as a worker is free") rather than wait behind the blocked one.
  Gate gate(env, "gate");
  auto blocker = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  Futures fs;
  for (int i = 0; i < 6; ++i) fs.push_back(env.client.submit(cask::options{.pure = false}, inc, i));
  for (int i = 0; i < 6; ++i) {
    INFO("task ", i, ": ", fs[i]);
    CHECK_NOTHROW(CHECK(fs[i].result(kPatience) == i + 1));
  }
  CHECK_FALSE(blocker.done());
  gate.open();
  CHECK(blocker.result(kPatience) == 1);
}

BOTH_CASE("Submit.concurrent_fresh_submits_from_many_threads", 60) {
  constexpr int kThreads = 4, kEach = 200;
  std::vector<Futures> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        per_thread[t].push_back(env.client.submit(cask::options{.pure = false}, add, t, i));
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i) CHECK(per_thread[t][i].result(kPatience) == t + i);
}

BOTH_CASE("Map.elements_get_distinct_keys", 30) {
  Futures fs = env.client.map(inc, std::vector{1, 2, 3, 4});
  REQUIRE(fs.size() == 4);
  CHECK(env.client.gather(fs) == std::vector{2, 3, 4, 5});
  std::set<std::string> keys;
  for (const auto& f : fs) keys.insert(f.key());
  CHECK(keys.size() == 4);
}

BOTH_CASE("Map.any_input_range", 30) {
  auto from_iota = env.client.map(inc, std::views::iota(1, 4));
  CHECK(env.client.gather(from_iota) == std::vector{2, 3, 4});
  std::list<std::string> names{"a", "b"};
  auto from_list = env.client.map(greet, names);
  CHECK(env.client.gather(from_list) == std::vector<std::string>{"hello, a", "hello, b"});
}

BOTH_CASE("Map.unequal_lengths_submit_nothing", 30) {
  CHECK_THROWS_AS((void)env.client.map(add, std::vector{1, 2, 3}, std::vector{10, 20}), cask::Error);
  CHECK_THROWS_AS((void)env.client.map(add, std::vector{1}, std::vector{10, 20}), cask::Error);
  // Nothing was submitted, and the client still works.
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  CHECK(env.client.submit(add, 1, 2).result(kPatience) == 3);
}

BOTH_CASE("Gather.keeps_order_when_the_first_finishes_last", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1), env.client.submit(inc, 2), env.client.submit(inc, 5)};
  // The gate opens only once the last one is done (a done callback creates a file: it
  // does not block).
  const std::string gate_path = gate.path();
  fs[2].add_done_callback([gate_path](const cask::Future<int>&) { cask_cluster_test::open_gate(gate_path); });
  CHECK(env.client.gather(fs) == std::vector{1, 3, 6});
}

BOTH_CASE("Scatter.future_is_done_at_once_with_a_key", 30) {
  cask::Future<std::vector<int>> data = env.client.scatter(std::vector{1, 2, 3});
  CHECK(data.done());
  CHECK(data.status() == cask::Status::finished);
  CHECK(data.result() == std::vector{1, 2, 3});
  CHECK(data.exception() == nullptr);
  CHECK_FALSE(data.key().empty());
  CHECK(eventually([&] { return env.client.stats().finished == 1; }));
  auto x = env.client.scatter(20);
  CHECK(env.client.submit(add, x, x).result(kPatience) == 40);  // the same scattered value twice
}

BOTH_CASE("Scatter.released_with_last_handle", 30) {
  {
    auto data = env.client.scatter(std::string("payload"));
    CHECK(eventually([&] { return env.client.stats().tasks() == 1; }));
  }
  CHECK(eventually([&] {
    const auto s = env.client.stats();
    return s.tasks() == 0 && s.future_actors == 0;
  }));
}

BOTH_CASE("Client.cancel_releases_every_future", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1), gate.submit(2)};
  REQUIRE(gate.wait_for(2));
  for (int i = 0; i < 5; ++i) fs.push_back(env.client.submit(cask::options{.pure = false}, inc, i));
  env.client.cancel(fs);
  for (const auto& f : fs) {
    CHECK(f.status() == cask::Status::cancelled);
    CHECK_THROWS_AS((void)f.result(), cask::CancelledError);
  }
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
}

BOTH_CASE("Stats.fresh_client_reports_nothing_busy", 30) {
  const auto s = env.client.stats();
  CHECK(s.workers == 2);
  CHECK(s.slots == 2);
  CHECK(s.slots_busy == 0);
  CHECK(s.tasks() == 0);
  CHECK(s.future_actors == 0);
}

BOTH_CASE("Stats.counts_every_task_state", 30) {
  Gate gate(env, "gate");
  Futures running{gate.submit(1), gate.submit(2)};
  REQUIRE(gate.wait_for(2));
  // Six more behind the busy slots, and one that waits for a running one as its input.
  Futures behind;
  for (int i = 0; i < 6; ++i) behind.push_back(gate.submit(10 + i));
  auto dependent = env.client.submit(add, running[0], 1);
  cask::ClusterStats s;
  CHECK(eventually([&] {
    s = env.client.stats();
    return s.waiting == 1 && s.queued + s.processing == 8;
  }));
  INFO(s);
  CHECK(s.waiting == 1);
  CHECK(s.processing >= 2);  // the running ones at least
  CHECK(s.queued + s.processing == 8);
  CHECK(s.finished == 0);
  CHECK(s.erred == 0);
  CHECK(s.slots == 2);
  CHECK(s.slots_busy == 2);
  // Future actors live in an embedded Client; a cluster's Client keeps its futures in
  // its proxy (actors/client_proxy.cpp) and has none.
  CHECK(s.future_actors == (env.cluster() ? 0u : 9u));

  auto bad = env.client.submit(cask::options{.priority = -1}, fail_custom, 3);
  gate.open();
  CHECK(dependent.result(kPatience) == 2);
  for (const auto& f : behind) (void)f.result(kPatience);
  CHECK(task_error_message<TaskFailure>(env, bad, "cluster_tasks::TaskFailure") == "failure 3");
  CHECK(eventually([&] {
    s = env.client.stats();
    return s.finished == 9 && s.erred == 1 && s.slots_busy == 0;
  }));
  INFO(s);
  CHECK(s.finished == 9);
  CHECK(s.erred == 1);
  CHECK(s.queued == 0);
  CHECK(s.processing == 0);
  CHECK(s.waiting == 0);
  CHECK(s.slots_busy == 0);
}
