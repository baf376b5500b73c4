// Both modes: nested submission with get_client, blocking on children on few slots,
// secede/rejoin, cancelling a parent blocked on its child, delayed/compute/persist.
#include "both_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace both_tasks;
using cask_cluster_test::count_lines;

BOTH_CASE("Nested.map_and_gather_inside_task", 30) {
  // inc over 0..9 sums to 55; add(first, last) = 1 + 10.
  CHECK(env.client.submit(nested_map_gather, 10).result(kPatience) == 66);
}

BOTH_CASE("Nested.children_waited_on_from_busy_slots", 30) {
  // Both slots block on children (result, wait, as_completed): they only finish when a
  // blocked parent hands its slot back.
  auto a = env.client.submit(nested_wait_children, 5);
  auto b = env.client.submit(nested_wait_children, 6);
  CHECK(a.result(kPatience) == 15 + 20);
  CHECK(b.result(kPatience) == 21 + 30);
}

BOTH_CASE("Nested.get_client_outside_task_is_the_current_client", 30) {
  cask::Client current = cask::get_client();
  CHECK(current.submit(inc, 1).result(kPatience) == 2);
}

BOTH_CASE("Nested.secede_lets_another_task_run_on_the_slot", 30) {
  Gate gate(env, "gate");
  auto a = env.client.submit(cask::options{.pure = false}, seceded_gated, gate.path(), gate.log(), 1);
  auto b = env.client.submit(cask::options{.pure = false}, seceded_gated, gate.path(), gate.log(), 2);
  REQUIRE(gate.wait_for(2, "seceded"));
  // Both tasks hold no slot while they wait for the gate: a third one runs meanwhile.
  CHECK(env.client.submit(inc, 1).result(kPatience) == 2);
  CHECK_FALSE(a.done());
  gate.open();
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
  CHECK(gate.count("rejoined") == 2);
}

BOTH_CASE("Nested.compute_inside_a_task", 30) {
  CHECK(env.client.submit(nested_compute, 1).result(kPatience) == 12);
}

BOTH_CASE("Nested.cancel_parent_blocked_in_result_cancels_child", 30) {
  const std::string gate = env.file("gate"), log = env.file("child");
  auto parent = env.client.submit(cask::options{.pure = false}, parent_of_gated, gate, log);
  REQUIRE(logged(log, "start"));
  parent.cancel();
  CHECK(logged(log, "stopped"));
  CHECK_THROWS_AS((void)parent.result(kPatience), cask::CancelledError);
  cask_cluster_test::open_gate(gate);
}

BOTH_CASE("Delayed.nothing_runs_until_compute", 30) {
  const std::string log = env.file("runs");
  auto d = cask::delayed(count_run)(log, 4);
  CHECK(env.client.stats().tasks() == 0);
  CHECK(count_lines(log, "run") == 0);
  CHECK(cask::compute(d) == 4);
  CHECK(count_lines(log, "run") == 1);
}

BOTH_CASE("Delayed.calls_take_delayed_arguments_and_compute_several", 30) {
  auto one = cask::delayed(inc)(0);
  auto two = cask::delayed(add)(one, one);
  auto [a, b] = cask::compute(one, cask::delayed(add)(two, 10));
  CHECK(a == 1);
  CHECK(b == 12);
}

BOTH_CASE("Delayed.compute_rethrows_task_errors", 30) {
  auto bad = cask::delayed(fail_with)(std::string("lazy"));
  auto dependent = cask::delayed(inc)(bad);
  if (env.cluster())
    CHECK_THROWS_WITH_AS((void)cask::compute(dependent), "std::runtime_error: lazy", cask::RemoteError);
  else
    CHECK_THROWS_WITH_AS((void)cask::compute(dependent), "lazy", std::runtime_error);
}

BOTH_CASE("Delayed.client_compute_returns_a_future_at_once", 30) {
  Gate gate(env, "gate");
  auto d = cask::delayed(add)(cask::delayed(inc)(1), 2);
  cask::Future<int> blocker = gate.submit(0);
  auto blocked = cask::delayed(add)(d, blocker);  // a future as a delayed argument
  cask::Future<int> f = env.client.compute(blocked);
  CHECK_FALSE(f.done());
  gate.open();
  CHECK(f.result(kPatience) == 4);
}

BOTH_CASE("Delayed.persist_starts_work_and_futures_of_returns_its_futures", 30) {
  const std::string log = env.file("runs");
  auto d = cask::delayed(count_run)(log, 6);
  CHECK(cask::futures_of(d).empty());
  auto p = env.client.persist(d);
  CHECK(logged(log, "run"));  // started without compute
  auto fs = cask::futures_of(p);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].result(kPatience) == 6);
  CHECK(cask::compute(p) == 6);
  CHECK(count_lines(log, "run") == 1);  // computing a persisted call reuses its future
}
