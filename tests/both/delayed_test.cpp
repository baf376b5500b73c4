// Both modes, Delayed (beyond the cases in nested_test.cpp): a lazy graph runs nothing
// until compute and then each call once, compute of several values, a task error raised
// by compute directly and through a dependent, persist of a gated call (pending, its
// future reused by compute and by later delayed calls), persist of a graph and of a
// collection, and futures_of over futures.
#include <string>
#include <tuple>
#include <vector>

#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_cluster_test::count_lines;

namespace {
using Futures = std::vector<cask::Future<int>>;
}  // namespace

BOTH_CASE("Delayed.graph_runs_nothing_until_compute_then_each_call_once", 30) {
  const std::string log = env.file("runs");
  auto a = cask::delayed(count_run)(log, 1);
  auto b = cask::delayed(inc)(a);  // delayed of delayed
  auto c = cask::delayed(add)(b, cask::delayed(count_run)(log, 10));
  static_assert(std::is_same_v<decltype(c), cask::Delayed<int>>);
  // Nothing reached the cluster: the scheduler has no task (its stats answer comes after
  // anything this client sent before), and nothing ran.
  CHECK(env.client.stats().tasks() == 0);
  CHECK(env.client.submit(cask::options{.pure = false}, inc, 2).result(kPatience) == 3);
  CHECK(count_lines(log, "run") == 0);
  CHECK(cask::futures_of(c).empty());  // not persisted: no futures behind it
  CHECK(cask::compute(c) == 12);        // compute runs it, blocks and returns the value
  CHECK(count_lines(log, "run") == 2);
}

BOTH_CASE("Delayed.compute_several_values_of_several_types", 30) {
  auto x = cask::delayed(inc)(4);
  auto y = cask::delayed(greet)(std::string("lazy"));
  auto [vx, vy] = cask::compute(x, y);
  CHECK(vx == 5);
  CHECK(vy == "hello, lazy");
}

BOTH_CASE("Delayed.compute_rethrows_the_task_error_itself", 30) {
  auto bad = cask::delayed(fail_custom)(5);
  for (int round = 0; round < 2; ++round) {
    INFO("round ", round);
    if (env.cluster())
      CHECK_THROWS_WITH_AS((void)cask::compute(bad), "cluster_tasks::TaskFailure: failure 5", cask::RemoteError);
    else
      CHECK_THROWS_WITH_AS((void)cask::compute(bad), "failure 5", TaskFailure);
  }
  CHECK(cask::compute(cask::delayed(inc)(1)) == 2);  // the client keeps serving
}

BOTH_CASE("Delayed.persisted_gated_call_is_pending_and_its_future_reused", 30) {
  Gate gate(env, "gate");
  auto d = cask::delayed(gated)(gate.path(), gate.log(), 6, 20000);
  CHECK(gate.count("start") == 0);
  auto p = env.client.persist(d);  // returns at once
  REQUIRE(gate.wait_for(1));       // started without compute or result
  Futures fs = cask::futures_of(p);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].valid());
  CHECK(fs[0].status() == cask::Status::pending);
  CHECK(cask::futures_of(d).empty());  // the original description is still only that
  gate.open();
  CHECK(fs[0].result(kPatience) == 6);
  // Computing the persisted object uses its running future: nothing runs again.
  CHECK(cask::compute(p) == 6);
  CHECK(env.client.compute(p) == fs[0]);
  // A persisted call can be the argument of another delayed call.
  CHECK(cask::compute(cask::delayed(add)(p, 4)) == 10);
  CHECK(gate.count("start") == 1);
}

BOTH_CASE("Delayed.persist_of_a_graph_and_of_a_collection", 30) {
  const std::string log = env.file("runs");
  auto graph = cask::delayed(add)(cask::delayed(count_run)(log, 2), 5);
  auto p = env.client.persist(graph);
  Futures fs = cask::futures_of(p);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].result(kPatience) == 7);
  std::vector<cask::Delayed<int>> many;
  for (int i = 0; i < 4; ++i) many.push_back(env.client.persist(cask::delayed(inc)(100 + i)));
  Futures all = cask::futures_of(many);
  REQUIRE(all.size() == 4);
  CHECK(env.client.gather(all) == std::vector{101, 102, 103, 104});
  std::vector<cask::Delayed<int>> lazy{cask::delayed(inc)(1)};
  CHECK(cask::futures_of(lazy).empty());
  CHECK(count_lines(log, "run") == 1);
}

BOTH_CASE("Delayed.futures_of_futures", 30) {
  auto f = env.client.submit(inc, 1);
  CHECK(cask::futures_of(f) == Futures{f});
  Futures fs{f, env.client.submit(inc, 2)};
  CHECK(cask::futures_of(fs) == fs);
  CHECK(env.client.gather(fs) == std::vector{2, 3});
}
