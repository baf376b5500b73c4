// Both modes: reference-counted lifecycle (copies share a reference, the last handle
// releases the task and cancels unfinished work) and fire_and_forget (work lives on without
// handles, and after its client is gone).
#include <filesystem>
#include <numeric>

#include "core_support.hpp"
#include "core_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

namespace {

/// Nothing left of this client's work: no task in the scheduler, no future actor in this
/// process (embedded: the scheduler's; a remote client never has any).
bool nothing_held(cask::Client& client) {
  const auto s = client.stats();
  return s.tasks() == 0 && s.future_actors == 0;
}

}  // namespace

BOTH_CASE("Lifecycle.finished_task_released_with_last_handle", 30) {
  {
    auto f = env.client.submit(inc, 100);
    auto copy = f;
    CHECK(f.result(kPatience) == 101);
    // Cluster: the worker pushes the value to the client before the scheduler counts it.
    // Future actors live in the scheduler's process: one here embedded, none in a remote
    // client's process.
    const std::size_t actors_here = env.cluster() ? 0 : 1;
    CHECK(eventually([&] {
      const auto s = env.client.stats();
      return s.finished == 1 && s.future_actors == actors_here;
    }));
  }
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("Lifecycle.erred_task_released_with_last_handle", 30) {
  {
    auto f = env.client.submit(fail_with, std::string("x"));
    CHECK_THROWS((void)f.result(kPatience));
    CHECK(eventually([&] { return env.client.stats().erred == 1; }));
  }
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("Lifecycle.many_released_futures_leave_nothing", 60) {
  {
    std::vector<int> xs(500);
    std::iota(xs.begin(), xs.end(), 0);
    auto fs = env.client.map(inc, xs);
    auto total = env.client.submit(sum, fs);
    CHECK(total.result(kPatience) == 500 * 501 / 2);
  }
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("Lifecycle.dropped_running_task_gets_stop_requested", 30) {
  Gate gate(env, "gate");
  {
    auto g = gate.submit(1);
    REQUIRE(gate.wait_for(1));
  }  // last handle dropped while running
  CHECK(gate.wait_for(1, "stopped"));
  CHECK(eventually([&] { return nothing_held(env.client); }));
  CHECK(eventually([&] { return env.client.stats().slots_busy == 0; }));
}

BOTH_CASE("Lifecycle.dropped_queued_task_never_runs", 30) {
  Gate gate(env, "gate");
  auto a = gate.submit(1), b = gate.submit(2);
  REQUIRE(gate.wait_for(2));  // both slots busy
  const std::string log = env.file("runs");
  { auto dropped = env.client.submit(count_run, log, 1); }
  CHECK(eventually([&] { return env.client.stats().tasks() == 2; }));  // only the gated ones
  gate.open();
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
  // Same priority, submitted later: runs after `dropped` would have run.
  CHECK(env.client.submit(count_run, env.file("later"), 2).result(kPatience) == 2);
  CHECK(count_lines(log, "run") == 0);
}

BOTH_CASE("Lifecycle.dropped_waiting_task_is_released", 30) {
  Gate gate(env, "gate");
  auto input = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  const std::string log = env.file("runs");
  {
    auto dependent = env.client.submit(count_run, log, input);
    CHECK(eventually([&] { return env.client.stats().waiting == 1; }));
  }
  CHECK(eventually([&] { return env.client.stats().waiting == 0; }));  // before the input is done
  gate.open();
  CHECK(input.result(kPatience) == 1);
  CHECK(eventually([&] { return env.client.stats().tasks() == 1; }));  // only the input
  CHECK(env.client.submit(count_run, env.file("later"), 2).result(kPatience) == 2);
  CHECK(count_lines(log, "run") == 0);
  input = {};
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("Lifecycle.copies_share_one_reference", 30) {
  Gate gate(env, "gate");
  cask::Future<int> original = gate.submit(8);
  cask::Future<int> copy = original;
  REQUIRE(gate.wait_for(1));
  original = {};  // one copy gone, one left: nothing is released
  gate.open();
  CHECK(copy.result(kPatience) == 8);
  CHECK(gate.count("stopped") == 0);
  CHECK(eventually([&] { return env.client.stats().finished == 1; }));
  copy = {};
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("Lifecycle.same_key_handles_each_hold_a_reference", 30) {
  Gate gate(env, "gate");
  auto first = gate.submit(2, cask::options{.key = "lifecycle-held"});
  auto second = gate.submit(2, cask::options{.key = "lifecycle-held"});
  REQUIRE(second.key() == first.key());
  REQUIRE(gate.wait_for(1));
  first = {};  // the other handle still wants it
  gate.open();
  CHECK(second.result(kPatience) == 2);
  CHECK(gate.count("stopped") == 0);
  CHECK(gate.count("start") == 1);  // one task for both handles
  second = {};
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("Lifecycle.cancelled_task_released_with_last_handle", 30) {
  Gate gate(env, "gate");
  auto f = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  f.cancel();
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  CHECK(gate.wait_for(1, "stopped"));
  f = {};
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("FireAndForget.running_task_completes_without_handles", 30) {
  Gate gate(env, "gate");
  {
    auto g = gate.submit(1);
    cask::fire_and_forget(g);
    REQUIRE(gate.wait_for(1));
  }  // every handle gone
  gate.open();
  CHECK(gate.wait_for(1, "done"));
  CHECK(gate.count("stopped") == 0);
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("FireAndForget.temporary_future_runs", 30) {
  // DESIGN.md's own usage: the future is a temporary, gone right after the call.
  const std::string log = env.file("runs");
  cask::fire_and_forget(env.client.submit(count_run, log, 1));
  CHECK(logged(log, "run"));
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("FireAndForget.queued_task_runs_without_handles", 30) {
  Gate gate(env, "gate");
  auto a = gate.submit(1), b = gate.submit(2);
  REQUIRE(gate.wait_for(2));  // both slots busy: the five below queue
  const std::string log = env.file("runs");
  {
    std::vector<cask::Future<int>> fs;
    for (int i = 0; i < 5; ++i) fs.push_back(env.client.submit(cask::options{.pure = false}, count_run, log, i));
    cask::fire_and_forget(fs);
  }
  gate.open();
  CHECK(eventually([&] { return count_lines(log, "run") == 5; }));
  a = {};
  b = {};
  CHECK(eventually([&] { return nothing_held(env.client); }));
  CHECK(count_lines(log, "run") == 5);
}

BOTH_CASE("FireAndForget.dependency_chain_runs_without_handles", 30) {
  Gate gate(env, "gate");
  const std::string log = env.file("runs");
  {
    auto input = gate.submit(20);
    cask::fire_and_forget(env.client.submit(core_tasks::log_value, log, input));
  }
  gate.open();
  CHECK(logged(log, "20"));
  CHECK(eventually([&] { return nothing_held(env.client); }));
}

BOTH_CASE("FireAndForget.work_outlives_its_client", 30) {
  // Two fire-and-forget tasks on a second client: the first sleeps cooperatively (woken
  // early if cancelled), the second is queued behind it when the client is destroyed.
  // Embedded, the destructor waits for both; a remote client leaves them to the cluster,
  // which completes them after it disconnected.
  const std::string first_log = env.file("first"), second_log = env.file("second");
  Gate gate(env, "gate");
  std::vector<cask::Future<int>> busy;
  if (env.cluster()) {  // both worker slots taken: the two tasks below are queued
    busy = {gate.submit(1), gate.submit(2)};
    REQUIRE(gate.wait_for(2));
  }
  {
    cask::Client client = core_support::second_client(env);
    cask::fire_and_forget(client.submit(cask::options{.pure = false}, core_tasks::nap_logged, first_log, 200));
    cask::fire_and_forget(client.submit(cask::options{.pure = false}, count_run, second_log, 2));
  }
  gate.open();
  if (env.cluster()) {
    CHECK(logged(first_log, "full"));
    CHECK(logged(second_log, "run"));
  } else {  // the destructor returned: both ran already
    CHECK(count_lines(first_log, "full") == 1);
    CHECK(count_lines(second_log, "run") == 1);
  }
  CHECK(count_lines(first_log, "woken") == 0);
}

BOTH_CASE("FireAndForget.finished_future_is_no_op", 30) {
  {
    auto f = env.client.submit(inc, 5);
    CHECK(f.result(kPatience) == 6);
    cask::fire_and_forget(f);
    CHECK(f.result() == 6);
  }
  CHECK(eventually([&] { return nothing_held(env.client); }));
}
