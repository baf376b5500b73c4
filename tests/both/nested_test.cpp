// Both modes: nested submission with get_client (inside and outside tasks); submit, map,
// wait, as_completed and result inside tasks, on a slot the task must hand back; futures
// made inside tasks; fib(20) and 1,000 parents; secede/rejoin; cancelling a parent blocked
// on its child (every way of blocking), its grandchildren, not children held elsewhere;
// waiting on oneself; delayed/compute/persist.
#include <cstdint>

#include "both_tasks.hpp"
#include "harness.hpp"
#include "nested_more_tasks.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace both_tasks;
using namespace nested_more_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

namespace {

std::uintptr_t id_of(const cask::Client& c) { return reinterpret_cast<std::uintptr_t>(c.state().get()); }

cask::options fresh() {
  cask::options opts;
  opts.pure = false;
  return opts;
}

/// Holds one of the two slots (2 workers x 1) with a gated task until destroyed, so that a
/// case runs on one slot: what blocks in a task must hand that slot back.
class OneSlotLeft {
 public:
  explicit OneSlotLeft(Env& env) : gate_(env, "hog") {
    held_ = gate_.submit(0);
    REQUIRE(gate_.wait_for(1));
  }

 private:
  Gate gate_;
  cask::Future<int> held_;
};

/// Every slot is taken, the last by a task behind `gate`: a further task waits (200 ms of it)
/// until the gate opens, then runs.
void check_next_task_waits_for(Env& env, Gate& gate) {
  auto next = env.client.submit(fresh(), inc, 5);
  CHECK_THROWS_AS((void)next.result(200ms), cask::TimeoutError);
  gate.open();
  CHECK(next.result(kPatience) == 6);
}

/// Both slots are taken by gated tasks: a further task must wait (200 ms of it) until the
/// gate opens, so the cluster has exactly two slots.
void check_exactly_two_slots(Env& env, const std::string& gate_name) {
  // Embedded placement sends up to 2 more tasks per slot to a worker whose recent tasks were
  // short (< 500 us, actors/scheduler.cpp) and never steals them back: both gated tasks would
  // queue on the worker that ran the short ones while the other idles. Two 20 ms tasks first
  // make every worker's mean run time long, so each gated task gets a worker of its own.
  for (int i = 0; i < 2; ++i) CHECK(env.client.submit(fresh(), nap, 20).result(kPatience) == 1);
  Gate gate(env, gate_name);
  auto a = gate.submit(1);
  auto b = gate.submit(2);
  REQUIRE(gate.wait_for(2));
  check_next_task_waits_for(env, gate);
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
}

}  // namespace

BOTH_CASE("Nested.map_and_gather_inside_task", 30) {
  OneSlotLeft one_slot(env);
  // inc over 0..9 sums to 55; add(first, last) = 1 + 10.
  CHECK(env.client.submit(nested_map_gather, 10).result(kPatience) == 66);
}

BOTH_CASE("Nested.submit_and_result_inside_task", 30) {
  OneSlotLeft one_slot(env);  // the children only run because the parent hands its slot back
  CHECK(env.client.submit(submit_and_result, 0).result(kPatience) == 17);
}

BOTH_CASE("Nested.wait_inside_task", 30) {
  OneSlotLeft one_slot(env);
  CHECK(env.client.submit(wait_with_timeout, env.file("gate"), env.file("log")).result(kPatience) == 311);
}

BOTH_CASE("Nested.as_completed_inside_task", 30) {
  OneSlotLeft one_slot(env);
  CHECK(env.client.submit(as_completed_sum, 3).result(kPatience) == 6);
  CHECK(env.client.submit(as_completed_sum, 10).result(kPatience) == 55);
}

BOTH_CASE("Nested.blocking_on_future_from_outside_inside_task", 30) {
  // The task blocks on a future it was handed (through a queue), which is queued behind it
  // on the only free slot: it can only finish because the task gives the slot back.
  OneSlotLeft one_slot(env);
  Gate blocker(env, "blocker");
  auto b = blocker.submit(0);
  REQUIRE(blocker.wait_for(1));
  cask::Queue<cask::Future<int>> q{"both.nested.handed", env.client};
  auto input = env.client.submit(fresh(), inc, 14);  // queued first
  q.put(input);
  cask::options first = fresh();
  first.priority = 10;
  auto user = env.client.submit(first, double_from_queue, std::string("both.nested.handed"));
  blocker.open();
  CHECK(user.result(kPatience) == 30);
  CHECK(b.result(kPatience) == 0);
}

BOTH_CASE("Nested.futures_made_inside_passed_to_other_tasks", 30) {
  OneSlotLeft one_slot(env);
  // Inside: a child's future is the argument of a sibling.
  CHECK(env.client.submit(chain_inside, 5).result(kPatience) == 16);
  // Outside: futures made in one task and returned, used by a task submitted from the test.
  // Embedded they arrive as futures; a cluster refuses to encode a future in a task's
  // result (nothing would hold its key until claimed): a SerializationError.
  auto maker = env.client.submit(start_incs, 3);
  if (env.cluster()) {
    // cask's own errors cross as themselves.
    CHECK_THROWS_WITH_AS((void)maker.result(kPatience), doctest::Contains("future"), cask::SerializationError);
  } else {
    std::vector<cask::Future<int>> made = maker.result(kPatience);
    REQUIRE(made.size() == 3);
    CHECK(env.client.submit(sum, made).result(kPatience) == 9);
  }
  CHECK(env.client.submit(inc, 1).result(kPatience) == 2);  // and the client keeps serving
}

BOTH_CASE("Nested.task_returns_a_running_future", 30) {
  Gate gate(env, "gate");
  auto outer = env.client.submit(start_gated, gate.path(), gate.log(), 21);
  static_assert(std::is_same_v<decltype(outer), cask::Future<cask::Future<int>>>);
  if (env.cluster()) {
    // A future in a task's result cannot cross processes (see above).
    CHECK_THROWS_WITH_AS((void)outer.result(kPatience), doctest::Contains("future"), cask::SerializationError);
    return;
  }
  cask::Future<int> inner = outer.result(kPatience);
  REQUIRE(inner.valid());
  // The parent returned; its child was not cancelled with its scope and keeps running.
  REQUIRE(gate.wait_for(1));
  CHECK(inner.status() == cask::Status::pending);
  gate.open();
  CHECK(inner.result(kPatience) == 21);
  CHECK(gate.count("stopped") == 0);
  // And it can be passed to another task as an argument.
  CHECK(env.client.submit(add, inner, 1).result(kPatience) == 22);
}

// Deep recursion, every level waiting on its children through one free slot. fib(20)
// (21,891 tasks) took 52 s of its 60 on a cluster under the sanitizers in CI: smaller
// there, as the depth and not the count is what is checked.
BOTH_CASE("Nested.deep_fib_with_one_slot_free", 60) {
  OneSlotLeft one_slot(env);
  if (env.cluster())
    CHECK(env.client.submit(fresh(), fib, 16).result(55s) == 987);
  else
    CHECK(env.client.submit(fresh(), fib, 18).result(55s) == 2584);
}

BOTH_CASE("Nested.thousand_tasks_each_waiting_for_a_child_with_one_slot_free", 60) {
  OneSlotLeft one_slot(env);
  std::vector<int> xs(1000);
  for (int i = 0; i < 1000; ++i) xs[i] = i;
  auto fs = env.client.map(fresh(), one_child, xs);
  REQUIRE(fs.size() == 1000);
  long total = 0;
  bool all_right = true;
  for (int i = 0; i < 1000; ++i) {
    const int v = fs[i].result(55s);
    if (v != i + 2) all_right = false;
    total += v;
  }
  CHECK(all_right);
  CHECK(total == 999L * 1000 / 2 + 2000);
  CHECK(eventually([&] { return env.client.stats().slots_busy == 1; }));  // the held one only
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
  {
    cask::Client current = cask::get_client();
    CHECK(id_of(current) == id_of(env.client));
    CHECK(current.submit(inc, 1).result(kPatience) == 2);
  }  // a Client from get_client does not own the cluster: destroying it stops nothing
  CHECK(env.client.submit(inc, 2).result(kPatience) == 3);
  CHECK(cask::get_client().submit(add, 1, 2).result(kPatience) == 3);
}

BOTH_CASE("Nested.get_client_outside_task_is_the_latest_client", 30) {
  cask::Client second{cask::ClientOptions{.workers = 1, .threads_per_worker = 1}};
  CHECK(id_of(cask::get_client()) == id_of(second));
}

BOTH_CASE("Nested.get_client_outside_task_falls_back_to_an_older_live_client", 30) {
  // nested.hpp: "Outside tasks: the most recently created Client still alive."
  { cask::Client second{cask::ClientOptions{.workers = 1, .threads_per_worker = 1}}; }
  cask::Client current = cask::get_client();
  CHECK(id_of(current) == id_of(env.client));
  CHECK(current.submit(inc, 4).result(kPatience) == 5);
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

BOTH_CASE("Nested.blocked_task_without_secede_keeps_its_slot", 30) {
  // The control for the secede cases: blocking on something outside cask holds the slot.
  OneSlotLeft one_slot(env);
  Gate gate(env, "gate");
  auto a = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  check_next_task_waits_for(env, gate);
  CHECK(a.result(kPatience) == 1);
}

BOTH_CASE("Nested.rejoin_takes_a_slot_again", 30) {
  OneSlotLeft one_slot(env);
  const std::string gate1 = env.file("gate1"), gate2 = env.file("gate2"), log = env.file("log");
  struct OpenOnExit {
    std::string a, b;
    ~OpenOnExit() {
      cask_cluster_test::open_gate(a);
      cask_cluster_test::open_gate(b);
    }
  } opener{gate1, gate2};
  auto a = env.client.submit(fresh(), rejoin_then_hold, gate1, gate2, log);
  REQUIRE(logged(log, "seceded"));
  CHECK(env.client.submit(fresh(), inc, 1).result(kPatience) == 2);  // ran on a's slot
  cask_cluster_test::open_gate(gate1);
  REQUIRE(logged(log, "rejoined"));
  auto c = env.client.submit(fresh(), inc, 2);
  CHECK_THROWS_AS((void)c.result(200ms), cask::TimeoutError);  // the slot is a's again
  CHECK(env.client.stats().slots_busy == 2);
  cask_cluster_test::open_gate(gate2);
  CHECK(c.result(kPatience) == 3);
  CHECK(a.result(kPatience) == 1);
}

BOTH_CASE("Nested.secede_and_rejoin_are_idempotent", 30) {
  // Outside a task: no-ops.
  cask::secede();
  cask::rejoin();
  cask::rejoin();
  // Inside: rejoin without secede, and secede/rejoin twice, change nothing.
  CHECK(env.client.submit(secede_rejoin_repeated, 0).result(kPatience) == 1);
  CHECK(env.client.submit(fresh(), inc, 1).result(kPatience) == 2);
  CHECK(eventually([&] { return env.client.stats().slots_busy == 0; }));
  check_exactly_two_slots(env, "gate");
}

BOTH_CASE("Nested.task_may_end_while_seceded", 30) {
  // Dask allows a task to secede and return without rejoining.
  CHECK(env.client.submit(end_seceded, 1).result(kPatience) == 1);
  CHECK(env.client.submit(fresh(), inc, 1).result(kPatience) == 2);
  CHECK(eventually([&] { return env.client.stats().slots_busy == 0; }));
  check_exactly_two_slots(env, "gate");
}

BOTH_CASE("Nested.compute_inside_a_task", 30) {
  CHECK(env.client.submit(nested_compute, 1).result(kPatience) == 12);
}

namespace {

void check_cancel_parent_cancels_child(Env& env, BlockMode mode) {
  const std::string gate = env.file("gate"), log = env.file("child"), parent_log = env.file("parent");
  auto parent = env.client.submit(fresh(), parent_blocking_on_gated, gate, log, parent_log, static_cast<int>(mode));
  REQUIRE(logged(log, "start"));
  parent.cancel();
  CHECK(parent.status() == cask::Status::cancelled);
  CHECK(logged(parent_log, "left"));  // the parent stopped waiting
  CHECK(logged(log, "stopped"));      // and its child was asked to stop
  CHECK_THROWS_AS((void)parent.result(kPatience), cask::CancelledError);
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  CHECK(eventually([&] { return env.client.stats().slots_busy == 0; }));
  cask_cluster_test::open_gate(gate);
  // The cluster is fine afterwards.
  CHECK(env.client.submit(fresh(), inc, 1).result(kPatience) == 2);
}

void check_waiting_on_own_future_is_an_error(Env& env, BlockMode mode) {
  const std::string queue = "both.nested.self." + std::to_string(static_cast<int>(mode));
  cask::Queue<cask::Future<int>> q{queue, env.client};
  auto f = env.client.submit(fresh(), block_on_own_future, queue, static_cast<int>(mode));
  q.put(f);
  try {
    (void)f.result(kPatience);
    FAIL("a task waiting for its own result returned");
  } catch (const cask::TimeoutError&) {
    FAIL("a task waiting for its own result hangs (no error after ", kPatience.count(), " s)");
  } catch (const cask::CancelledError& e) {
    FAIL("got CancelledError instead of a clear error: ", std::string(e.what()));
  } catch (const cask::Error& e) {
    INFO("message: ", std::string(e.what()));
    CHECK_FALSE(std::string(e.what()).empty());
  }
  CHECK(f.status() == cask::Status::error);
  CHECK(env.client.submit(fresh(), inc, 1).result(kPatience) == 2);
}

}  // namespace

BOTH_CASE("Nested.cancel_parent_blocked_in_result_cancels_child", 30) {
  check_cancel_parent_cancels_child(env, block_result);
}

BOTH_CASE("Nested.cancel_parent_blocked_in_timed_result_cancels_child", 30) {
  check_cancel_parent_cancels_child(env, block_result_timeout);
}

BOTH_CASE("Nested.cancel_parent_blocked_in_wait_cancels_child", 30) {
  check_cancel_parent_cancels_child(env, block_wait);
}

BOTH_CASE("Nested.cancel_parent_blocked_in_as_completed_cancels_child", 30) {
  check_cancel_parent_cancels_child(env, block_as_completed);
}

BOTH_CASE("Nested.cancel_parent_blocked_in_result_of_parent_of_gated", 30) {
  // both_tasks::parent_of_gated: the same through a parent that logs nothing itself.
  const std::string gate = env.file("gate"), log = env.file("child");
  auto parent = env.client.submit(cask::options{.pure = false}, parent_of_gated, gate, log);
  REQUIRE(logged(log, "start"));
  parent.cancel();
  CHECK(logged(log, "stopped"));
  CHECK_THROWS_AS((void)parent.result(kPatience), cask::CancelledError);
  cask_cluster_test::open_gate(gate);
}

BOTH_CASE("Nested.cancel_parent_cascades_to_grandchildren", 30) {
  const std::string gate = env.file("gate"), log = env.file("grandchild"), parent_log = env.file("parent");
  auto grandparent = env.client.submit(fresh(), grandparent_of_gated, gate, log, parent_log);
  REQUIRE(logged(log, "start"));
  grandparent.cancel();
  CHECK(logged(log, "stopped"));
  CHECK(logged(parent_log, "left"));
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  cask_cluster_test::open_gate(gate);
}

BOTH_CASE("Nested.cancel_parent_keeps_children_held_elsewhere", 30) {
  Gate gate(env, "gate");
  const std::string queue = "both.nested.shared_child", parent_log = env.file("parent");
  cask::Queue<cask::Future<int>> q{queue, env.client};
  auto parent = env.client.submit(fresh(), parent_sharing_gated, queue, gate.path(), gate.log(), parent_log);
  cask::Future<int> child = q.get(kPatience);  // someone else holds it too
  REQUIRE(gate.wait_for(1));
  parent.cancel();
  REQUIRE(logged(parent_log, "left"));  // the parent's own handle is gone
  CHECK(child.status() == cask::Status::pending);
  gate.open();
  CHECK(child.result(kPatience) == 7);
  CHECK(gate.count("stopped") == 0);
}

BOTH_CASE("Nested.task_blocking_on_own_future_result_gets_error", 30) {
  check_waiting_on_own_future_is_an_error(env, block_result);
}

BOTH_CASE("Nested.task_blocking_on_own_future_timed_result_gets_error", 30) {
  check_waiting_on_own_future_is_an_error(env, block_result_timeout);
}

BOTH_CASE("Nested.task_blocking_on_own_future_in_wait_gets_error", 30) {
  check_waiting_on_own_future_is_an_error(env, block_wait);
}

BOTH_CASE("Nested.task_blocking_on_own_future_in_as_completed_gets_error", 30) {
  check_waiting_on_own_future_is_an_error(env, block_as_completed);
}

BOTH_CASE("Nested.task_blocking_on_its_own_key_gets_error", 30) {
  // A pure task resubmitting itself with the same arguments gets a handle to its own key.
  auto f = env.client.submit(waits_for_own_key, 4);
  try {
    (void)f.result(kPatience);
    FAIL("returned");
  } catch (const cask::TimeoutError&) {
    FAIL("hangs");
  } catch (const cask::CancelledError& e) {
    FAIL("got CancelledError instead of a clear error: ", std::string(e.what()));
  } catch (const cask::Error& e) {
    INFO("message: ", std::string(e.what()));
    CHECK_FALSE(std::string(e.what()).empty());
  }
  CHECK(env.client.submit(fresh(), inc, 1).result(kPatience) == 2);
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
