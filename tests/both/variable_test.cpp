// Both modes, cask::Variable<T> beyond objects_test.cpp: set/get keeps the latest value,
// timed gets that time out leave nothing behind, erase returns it to unset, get waits for
// the first set, one variable per name from the client and tasks, type checks from the
// client and tasks, a held future stays alive (and is released by erase), blocking inside a
// task hands the slot back, a cancelled get ends in CancelledError inside the task,
// retirement (a set variable outlives its handles), concurrent setters.
#include <chrono>
#include <string>
#include <vector>

#include "coord_actor_tasks.hpp"
#include "coord_more_tasks.hpp"
#include "coord_tasks.hpp"
#include "coord_util.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace coord_more_tasks;
using cask_cluster_test::contains;
using cask_cluster_test::error_of;
using cask_cluster_test::eventually;

namespace {

/// Sets `v` to the future of a gated task once it runs, and drops the test's own handle of
/// that future: the variable is its only holder afterwards.
void hand_over_a_running_future(cask::Variable<cask::Future<int>>& v, Gate& gate, int value) {
  auto f = gate.submit(value);
  REQUIRE(gate.wait_for(1));
  v.set(f);
}

}  // namespace

BOTH_CASE("Variable.set_then_get_returns_the_latest_value", 30) {
  cask::Variable<int> v{named(env, "both.v.int"), env.client};
  CHECK(v.name() == named(env, "both.v.int"));
  v.set(1);
  CHECK(v.get() == 1);
  CHECK(v.get(kPatience) == 1);
  CHECK(v.get() == 1);  // get does not take the value away
  v.set(2);
  CHECK(v.get() == 2);
  cask::Variable<std::string> s{named(env, "both.v.text"), env.client};
  s.set("text");
  CHECK(s.get(0ms) == "text");
}

BOTH_CASE("Variable.get_timeout_throws_when_never_set", 30) {
  cask::Variable<int> v{named(env, "both.v.unset"), env.client};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)v.get(50ms), cask::TimeoutError);
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_THROWS_AS((void)v.get(0ms), cask::TimeoutError);
  // Timed-out gets leave nothing behind that would interfere with a later set/get.
  v.set(3);
  CHECK(v.get(kPatience) == 3);
}

BOTH_CASE("Variable.erase_returns_it_to_unset", 30) {
  cask::Variable<int> v{named(env, "both.v.erased"), env.client};
  v.set(5);
  CHECK(v.get(kPatience) == 5);
  v.erase();
  CHECK_THROWS_AS((void)v.get(50ms), cask::TimeoutError);
  cask::Variable<int> other{named(env, "both.v.erased"), env.client};
  CHECK_THROWS_AS((void)other.get(20ms), cask::TimeoutError);
  other.set(6);
  CHECK(v.get(kPatience) == 6);
  v.erase();
  v.erase();  // erasing an unset variable is harmless
  CHECK_THROWS_AS((void)v.get(20ms), cask::TimeoutError);
}

BOTH_CASE("Variable.client_threads_wait_for_a_set_by_a_task", 30) {
  const std::string name = named(env, "both.v.later");
  cask::Variable<std::string> v{name, env.client};
  auto waiting = in_background([v] { return v.get(); });
  auto timed = in_background([v] { return v.get(std::chrono::seconds(30)); });
  CHECK(waiting.wait_for(200ms) == std::future_status::timeout);  // still unset: still waiting
  CHECK(timed.wait_for(0ms) == std::future_status::timeout);
  CHECK(env.client.submit(cask::options{.pure = false}, variable_set, name, std::string("17")).result(kPatience) == 1);
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  REQUIRE(timed.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get() == "17");
  CHECK(timed.get() == "17");
  CHECK(v.get(0ms) == "17");
}

BOTH_CASE("Variable.same_name_is_the_same_variable_from_client_and_tasks", 30) {
  const std::string name = named(env, "both.v.shared");
  cask::Variable<std::string> a{name, env.client};
  cask::Variable<std::string> b{name};  // the current client: the mode's
  a.set("1");
  CHECK(b.get(kPatience) == "1");
  CHECK(env.client.submit(cask::options{.pure = false}, variable_get, name, -1).result(kPatience) == "1");
  CHECK(env.client.submit(cask::options{.pure = false}, variable_set, name, std::string("2")).result(kPatience) == 1);
  CHECK(a.get(kPatience) == "2");
  CHECK(env.client.submit(cask::options{.pure = false}, variable_erase, name).result(kPatience) == 1);
  CHECK_THROWS_AS((void)b.get(20ms), cask::TimeoutError);
}

BOTH_CASE("Variable.wrong_value_type_throws_and_first_handle_keeps_working", 30) {
  const std::string name = named(env, "both.v.typed");
  cask::Variable<int> a{name, env.client};
  a.set(4);
  CHECK_THROWS_WITH_AS((cask::Variable<std::string>{name, env.client}), doctest::Contains(name.c_str()), cask::Error);
  CHECK_THROWS_AS((cask::Variable<double>{name}), cask::Error);
  // From a task: the same clear error, naming the variable.
  auto f = env.client.submit(cask::options{.pure = false}, variable_open_double, name);
  CHECK(contains(task_error_message<cask::Error>(env, f, "cask::Error"), name));
  // Another kind with that name is unrelated.
  cask::Queue<std::string> q{name, env.client};
  q.put("fine");
  CHECK(q.get(kPatience) == "fine");
  CHECK(a.get(kPatience) == 4);
  a.set(5);
  CHECK(cask::Variable<int>{name, env.client}.get(kPatience) == 5);
}

BOTH_CASE("Variable.holding_a_future_keeps_it_alive_until_erased", 30) {
  cask::Variable<cask::Future<int>> v{named(env, "both.v.future"), env.client};
  Gate gate{env, "gate"};
  const std::size_t before = env.client.stats().tasks();
  hand_over_a_running_future(v, gate, 8);  // only the variable holds it now
  CHECK_FALSE(cask_cluster_test::eventually([&] { return gate.count("stopped") > 0; }, 200ms));  // not asked to stop
  gate.open();
  cask::Future<int> back = v.get(kPatience);
  CHECK(back.result(kPatience) == 8);
  CHECK(gate.count("stopped") == 0);
  back = {};
  // A finished future held only by the variable keeps its value.
  {
    auto g = env.client.submit(cask::options{.pure = false}, inc, 20);
    REQUIRE(g.result(kPatience) == 21);
    v.set(g);  // replaces the first: that one is released
  }
  CHECK(eventually([&] { return env.client.stats().tasks() == before + 1; }));
  CHECK(v.get(kPatience).result(kPatience) == 21);
  v.erase();
  CHECK(eventually([&] { return env.client.stats().tasks() == before; }));
}

BOTH_CASE("Variable.erase_releases_a_held_running_future", 30) {
  cask::Variable<cask::Future<int>> v{named(env, "both.v.released"), env.client};
  Gate gate{env, "gate"};
  const std::size_t before = env.client.stats().tasks();
  hand_over_a_running_future(v, gate, 1);
  v.erase();  // the last reference: the running task is asked to stop
  CHECK(gate.wait_for(1, "stopped"));
  CHECK(eventually([&] { return env.client.stats().tasks() == before; }));
}

BOTH_CASE("Variable.get_inside_task_hands_the_slot_back", 30) {
  // Both slots (2 workers x 1) are taken by tasks blocked in get; the setter still runs.
  const std::string name = named(env, "both.v.handback");
  auto a = env.client.submit(cask::options{.pure = false}, both_tasks::variable_get_logged, name, env.file("log-a"));
  auto b = env.client.submit(cask::options{.pure = false}, both_tasks::variable_get_logged, name, env.file("log-b"));
  REQUIRE(logged(env.file("log-a"), "waiting"));
  REQUIRE(logged(env.file("log-b"), "waiting"));
  CHECK(env.client.submit(cask::options{.pure = false}, variable_set, name, std::string("21")).result(kPatience) == 1);
  CHECK(a.result(kPatience) == "21");
  CHECK(b.result(kPatience) == "21");
}

BOTH_CASE("Variable.cancelled_get_ends_in_cancelled_error_inside_the_task", 30) {
  const std::string name = named(env, "both.v.cancel");
  const auto log = env.file("log");
  cask::Variable<std::string> v{name, env.client};
  auto f = env.client.submit(cask::options{.pure = false}, variable_get_logging_cancel, name, log);
  REQUIRE(logged(log, "waiting"));
  f.cancel();
  CHECK_THROWS_AS((void)f.result(kPatience), cask::CancelledError);
  CHECK(logged(log, "cancelled"));  // the task's get itself ended in CancelledError
  v.set("3");
  CHECK(v.get(kPatience) == "3");
}

BOTH_CASE("Variable.set_variable_outlives_its_handles_until_erased", 30) {
  // Counted from what the cluster already holds (a shared LocalCluster serves other cases).
  const std::size_t before = objects(env.client);
  {
    cask::Variable<int> kept{named(env, "both.v.kept"), env.client};
    kept.set(10);
    cask::Variable<int> unset{named(env, "both.v.unset-retired"), env.client};
    CHECK(eventually([&] { return objects(env.client) == before + 2; }));
  }
  CHECK(eventually([&] { return objects(env.client) == before + 1; }));  // the unset one goes
  {
    cask::Variable<int> again{named(env, "both.v.kept"), env.client};
    CHECK(again.get(kPatience) == 10);
    again.erase();
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // Set then erased while handles live: retired with the last handle.
  {
    cask::Variable<int> v{named(env, "both.v.brief"), env.client};
    v.set(1);
    v.erase();
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // Set from a task that ended: still there for the client.
  auto f = env.client.submit(cask::options{.pure = false}, variable_set, std::string(named(env, "both.v.from-task")), std::string("12"));
  REQUIRE(f.result(kPatience) == 1);
  f = {};
  CHECK(eventually([&] { return objects(env.client) == before + 1; }));
  CHECK(cask::Variable<std::string>{named(env, "both.v.from-task"), env.client}.get(kPatience) == "12");
}

BOTH_CASE("Variable.concurrent_setters_and_readers", 60) {
  // Tasks set increasing values while the client reads: every read is a value some task
  // set, and the last one wins once they are done.
  const std::string name = named(env, "both.v.racy");
  cask::Variable<int> v{name, env.client};
  v.set(0);
  std::vector<cask::Future<int>> tasks;
  for (int t = 1; t <= 2; ++t) tasks.push_back(env.client.submit(cask::options{.pure = false}, variable_set_many, name, t, 200));
  bool valid = true;
  for (int i = 0; i < 300; ++i) {
    const int x = v.get(kPatience);
    if (!(x == 0 || (x / 1000 >= 1 && x / 1000 <= 2 && x % 1000 >= 1 && x % 1000 <= 200))) valid = false;
  }
  CHECK(valid);
  for (auto& f : tasks) REQUIRE(f.result(kPatience) > 0);
  const int last = v.get(kPatience);
  CHECK(last % 1000 == 200);
}
