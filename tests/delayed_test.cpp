// cask::delayed, compute, Client::compute, Client::persist, futures_of: the lazy
// counterpart of futures (example 6-9).
#include <atomic>
#include <tuple>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

std::atomic<int> g_delayed_inc_runs{0};
int delayed_inc(int x) {
  g_delayed_inc_runs.fetch_add(1);
  return x + 1;
}

namespace {
using Futures = std::vector<cask::Future<int>>;
}  // namespace

TEST_CASE("Delayed.nothing_runs_until_compute" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  const int before = g_delayed_inc_runs.load();
  auto d = cask::delayed(delayed_inc)(1);
  auto e = cask::delayed(add)(d, 10);
  static_assert(std::is_same_v<decltype(e), cask::Delayed<int>>);
  // Nothing reached the cluster: the scheduler has no task (its stats answer comes after
  // anything this thread sent before), and nothing ran.
  CHECK(client.stats().tasks() == 0);
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
  CHECK(g_delayed_inc_runs.load() == before);
  CHECK(cask::futures_of(e).empty());  // not persisted: no futures behind it
  // compute runs it, blocks and returns the value.
  CHECK(cask::compute(e) == 12);
  CHECK(g_delayed_inc_runs.load() == before + 1);
}

TEST_CASE("Delayed.calls_take_delayed_arguments" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  const int before = g_delayed_inc_runs.load();
  auto a = cask::delayed(delayed_inc)(1);                  // 2
  auto b = cask::delayed(delayed_inc)(a);                  // 3: delayed of delayed
  auto c = cask::delayed(add)(b, cask::delayed(delayed_inc)(10));  // 3 + 11
  CHECK(g_delayed_inc_runs.load() == before);
  CHECK(cask::compute(c) == 14);
  CHECK(g_delayed_inc_runs.load() == before + 3);
}

TEST_CASE("Delayed.compute_several_returns_a_tuple" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto x = cask::delayed(delayed_inc)(4);
  auto y = cask::delayed(greet)(std::string("lazy"));
  auto [vx, vy] = cask::compute(x, y);
  CHECK(vx == 5);
  CHECK(vy == "hello lazy");
}

TEST_CASE("Delayed.compute_rethrows_task_errors" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto bad = cask::delayed(fails_with_my_error)(5);
  CHECK_THROWS_AS((void)cask::compute(bad), MyError);
  auto dependent = cask::delayed(add)(bad, 1);
  CHECK_THROWS_AS((void)cask::compute(dependent), MyError);
}

TEST_CASE("Delayed.compute_without_client_throws" * doctest::timeout(10)) {
  auto d = cask::delayed(delayed_inc)(1);
  CHECK_THROWS_AS((void)cask::compute(d), cask::Error);
}

TEST_CASE("Delayed.client_compute_returns_a_future_at_once" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  auto d = cask::delayed(gate.task(5))();
  auto e = cask::delayed(add)(d, 1);
  CHECK(gate.runs->load() == 0);
  cask::Future<int> f = client.compute(e);  // does not block on the gated task
  REQUIRE(gate.started->wait_for());       // but it started it
  CHECK(f.status() == cask::Status::pending);
  gate.open->set();
  CHECK(f.result(kPatience) == 6);
  CHECK(gate.runs->load() == 1);
}

TEST_CASE("Delayed.persist_starts_work_and_futures_of_returns_its_futures" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  auto d = cask::delayed(gate.task(6))();
  CHECK(gate.runs->load() == 0);
  auto p = client.persist(d);  // returns at once
  REQUIRE(gate.started->wait_for());  // started without compute or result
  Futures fs = cask::futures_of(p);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].valid());
  CHECK(fs[0].status() == cask::Status::pending);
  CHECK(cask::futures_of(d).empty());  // the original description is still only that
  gate.open->set();
  CHECK(fs[0].result(kPatience) == 6);
  // Computing the persisted object uses its running future: nothing runs again.
  CHECK(cask::compute(p) == 6);
  CHECK(client.compute(p) == fs[0]);
  CHECK(gate.runs->load() == 1);
  // A persisted call can be the argument of another delayed call.
  CHECK(cask::compute(cask::delayed(add)(p, 4)) == 10);
  CHECK(gate.runs->load() == 1);
}

TEST_CASE("Delayed.persist_of_a_graph_and_of_a_collection" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto graph = cask::delayed(add)(cask::delayed(delayed_inc)(1), 5);
  auto p = client.persist(graph);
  Futures fs = cask::futures_of(p);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].result(kPatience) == 7);
  std::vector<cask::Delayed<int>> many;
  for (int i = 0; i < 4; ++i) many.push_back(client.persist(cask::delayed(delayed_inc)(100 + i)));
  Futures all = cask::futures_of(many);
  REQUIRE(all.size() == 4);
  CHECK(client.gather(all) == std::vector{101, 102, 103, 104});
  std::vector<cask::Delayed<int>> lazy{cask::delayed(delayed_inc)(1)};
  CHECK(cask::futures_of(lazy).empty());
}

TEST_CASE("Delayed.futures_of_futures" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 1);
  CHECK(cask::futures_of(f) == Futures{f});
  Futures fs{f, client.submit(slow, 2)};
  CHECK(cask::futures_of(fs) == fs);
}

TEST_CASE("Delayed.compute_inside_a_task" * doctest::timeout(15)) {
  // compute uses the current client, which inside a task is the task's cluster; on a
  // single slot this only finishes because the task gives its slot back while it blocks.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit([] { return cask::compute(cask::delayed(add)(cask::delayed(delayed_inc)(2), 3)); });
  CHECK(f.result(kPatience) == 6);
}
