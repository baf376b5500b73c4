// Both modes: submit, map, gather, scatter, stats (Future's own API: future_test.cpp).
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <thread>

#include "both_tasks.hpp"
#include "harness.hpp"
#include "tasks.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace both_tasks;
using cask_cluster_test::contains;
using cask_cluster_test::eventually;

BOTH_CASE("Submit.returns_value", 30) {
  cask::Future<int> f = env.client.submit(inc, 41);
  CHECK(f.result(kPatience) == 42);
  CHECK(f.done());
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.exception() == nullptr);
  CHECK(f.result() == 42);  // again: the value stays available
  CHECK(env.client.submit(add, 2, 3).result(kPatience) == 5);
}

BOTH_CASE("Submit.void_task_runs", 30) {
  const std::string marker = env.file("touched");
  cask::Future<void> v = env.client.submit(touch, marker);
  v.result(kPatience);
  CHECK(v.status() == cask::Status::finished);
  CHECK(std::filesystem::exists(marker));
}

BOTH_CASE("Submit.values_of_several_types", 30) {
  CHECK(env.client.submit(greet, std::string("cask")).result(kPatience) == "hello, cask");
  CHECK(env.client.submit(iota_vec, 4).result(kPatience) == std::vector{0, 1, 2, 3});
  CHECK(env.client.submit(split_words, std::string(" a bb ")).result(kPatience) ==
        std::vector<std::string>{"a", "bb"});
  CHECK(env.client.submit(shift, Point{1, 2, "p"}, 3).result(kPatience) == Point{4, 2, "p+"});
  const std::string big(70000, 'y');  // above the cluster's push limit of 64 KiB
  CHECK(env.client.submit(greet, big).result(kPatience) == "hello, " + big);
}

BOTH_CASE("Submit.task_knows_its_key", 30) {
  cask::Future<std::string> f = env.client.submit(own_key, 1);
  CHECK(f.result(kPatience) == f.key());
  CHECK(contains(f.key(), "own_key"));
}

BOTH_CASE("Submit.returns_at_once_while_cluster_is_busy", 30) {
  Gate gate(env, "gate");
  auto a = gate.submit(1);
  auto b = gate.submit(2);
  REQUIRE(gate.wait_for(2));
  cask::Future<int> queued = env.client.submit(inc, 5);  // both slots busy: returns pending
  CHECK(queued.status() == cask::Status::pending);
  CHECK_FALSE(queued.done());
  gate.open();
  CHECK(queued.result(kPatience) == 6);
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
}

BOTH_CASE("Submit.concurrent_submit_from_many_threads", 60) {
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::vector<cask::Future<int>>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) per_thread[t].push_back(env.client.submit(inc, t * 1000 + i));
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i) CHECK(per_thread[t][i].result(kPatience) == t * 1000 + i + 1);
}

BOTH_CASE("Map.one_range", 30) {
  std::vector<int> xs(40);
  std::iota(xs.begin(), xs.end(), 0);
  auto fs = env.client.map(inc, xs);
  REQUIRE(fs.size() == 40);
  for (int i = 0; i < 40; ++i) CHECK(fs[i].result(kPatience) == i + 1);
}

BOTH_CASE("Map.two_zipped_ranges", 30) {
  auto fs = env.client.map(add, std::vector{1, 2, 3}, std::vector{10, 20, 30});
  CHECK(env.client.gather(fs) == std::vector{11, 22, 33});
}

BOTH_CASE("Map.unequal_lengths_throw_error", 30) {
  CHECK_THROWS_AS((void)env.client.map(add, std::vector{1, 2}, std::vector{1}), cask::Error);
  CHECK(env.client.submit(inc, 1).result(kPatience) == 2);  // the client keeps serving
}

BOTH_CASE("Map.empty_range_gives_no_futures", 30) { CHECK(env.client.map(inc, std::vector<int>{}).empty()); }

BOTH_CASE("Gather.values_in_order", 30) {
  auto fs = env.client.map(add, std::vector{5, 4, 3, 2, 1}, std::vector{0, 0, 0, 0, 0});
  CHECK(env.client.gather(fs) == std::vector{5, 4, 3, 2, 1});
  CHECK(env.client.gather(std::vector<cask::Future<int>>{}).empty());
}

BOTH_CASE("Gather.rethrows_first_error_in_order", 30) {
  std::vector<cask::Future<int>> fs{env.client.submit(inc, 1), env.client.submit(fail_with, std::string("first")),
                                    env.client.submit(fail_invalid, std::string("second"))};
  (void)cask::wait(fs, kPatience);  // both errors are there before gather looks
  try {
    (void)env.client.gather(fs);
    FAIL("gather did not throw");
  } catch (const cask::RemoteError& e) {
    CHECK(env.cluster());
    CHECK(std::string(e.what()) == "std::runtime_error: first");
  } catch (const std::runtime_error& e) {
    CHECK_FALSE(env.cluster());
    CHECK(std::string(e.what()) == "first");
  }
  CHECK(fs[0].result(kPatience) == 2);
}

BOTH_CASE("Gather.throws_cancelled_error_for_cancelled_future", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  std::vector<cask::Future<int>> fs{env.client.submit(inc, 1), g};
  g.cancel();
  CHECK_THROWS_AS((void)env.client.gather(fs), cask::CancelledError);
}

BOTH_CASE("Scatter.gives_finished_future", 30) {
  cask::Future<std::string> s = env.client.scatter(std::string("scattered"));
  CHECK(s.result(kPatience) == "scattered");
  CHECK(s.status() == cask::Status::finished);
  cask::Future<std::vector<int>> v = env.client.scatter(std::vector{1, 2, 3});
  CHECK(v.result(kPatience) == std::vector{1, 2, 3});
}

BOTH_CASE("Scatter.future_usable_as_argument", 30) {
  cask::Future<int> s = env.client.scatter(41);
  CHECK(env.client.submit(inc, s).result(kPatience) == 42);
  cask::Future<Point> p = env.client.scatter(Point{1, 1, "s"});
  CHECK(env.client.submit(shift, p, 1).result(kPatience) == Point{2, 1, "s+"});
}

BOTH_CASE("Stats.reports_workers_and_slots", 30) {
  const cask::ClusterStats s = env.client.stats();
  CHECK(s.workers == 2);
  CHECK(s.slots == 2);
}

BOTH_CASE("Stats.counts_tasks_by_state_during_gated_run", 30) {
  Gate gate(env, "gate");
  auto a = gate.submit(1);
  auto b = gate.submit(2);
  REQUIRE(gate.wait_for(2));
  auto waiting = env.client.submit(add, a, b);
  CHECK(eventually([&] {
    const auto s = env.client.stats();
    return s.slots_busy == 2 && s.processing >= 2 && s.waiting >= 1;
  }));
  gate.open();
  CHECK(waiting.result(kPatience) == 3);
  CHECK(eventually([&] {
    const auto s = env.client.stats();
    return s.finished >= 3 && s.slots_busy == 0 && s.waiting == 0;
  }));
}
