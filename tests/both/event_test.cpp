// Both modes, cask::Event beyond objects_test.cpp: set/clear/is_set (idempotent), wait after
// set returns at once and consumes nothing, timed waits, a set wakes every waiter (tasks on
// handed-back slots and client threads), clear makes waits block again, one event per name
// from the client and tasks (another cluster's is another), waiting inside a task hands the
// slot back, retirement (a set event outlives its handles until cleared).
#include <chrono>
#include <string>
#include <vector>

#include "coord_more_tasks.hpp"
#include "coord_tasks.hpp"
#include "coord_util.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace coord_more_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

BOTH_CASE("Event.set_clear_and_is_set", 30) {
  cask::Event e{named(env, "both.e.flag"), env.client};
  CHECK(e.name() == named(env, "both.e.flag"));
  CHECK_FALSE(e.is_set());
  e.set();
  CHECK(e.is_set());
  e.set();  // idempotent
  CHECK(e.is_set());
  cask::Event same{named(env, "both.e.flag"), env.client};
  CHECK(same.is_set());
  same.clear();
  CHECK_FALSE(e.is_set());
  e.clear();  // idempotent
  CHECK_FALSE(e.is_set());
}

BOTH_CASE("Event.wait_after_set_returns_at_once", 30) {
  const std::string name = named(env, "both.e.ready");
  cask::Event e{name, env.client};
  e.set();
  const auto t0 = std::chrono::steady_clock::now();
  e.wait();
  CHECK(e.wait(0ms));
  CHECK(e.wait(kPatience));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  CHECK(e.is_set());  // waiting does not consume it
  // In a task: an untimed and a zero-timeout wait both see it set.
  CHECK(env.client.submit(cask::options{.pure = false}, event_wait, name, env.file("log"), -1).result(kPatience) == 1);
  CHECK(env.client.submit(cask::options{.pure = false}, event_wait, name, env.file("log"), 0).result(kPatience) == 1);
}

BOTH_CASE("Event.timed_wait_false_when_not_set_and_after_clear", 30) {
  cask::Event e{named(env, "both.e.not-yet"), env.client};
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(e.wait(50ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_FALSE(e.wait(0ms));
  e.set();
  CHECK(e.wait(0ms));
  e.clear();
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(e.wait(50ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_FALSE(e.is_set());
}

BOTH_CASE("Event.timed_wait_true_when_set_meanwhile", 30) {
  cask::Event e{named(env, "both.e.meanwhile"), env.client};
  auto waiting = in_background([e] { return e.wait(std::chrono::seconds(30)); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
  cask::Event{named(env, "both.e.meanwhile"), env.client}.set();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get());
}

BOTH_CASE("Event.set_wakes_every_waiter", 30) {
  // Five waiting tasks on two slots (each gives its slot back while it waits) and two
  // client threads; a task still runs meanwhile; one set wakes them all.
  constexpr int kTasks = 5;
  const std::string name = named(env, "both.e.go");
  const auto log = env.file("log");
  std::vector<cask::Future<int>> tasks;
  for (int i = 0; i < kTasks; ++i)
    tasks.push_back(env.client.submit(cask::options{.pure = false}, event_wait, name, log, -1));
  cask::Event e{name, env.client};
  auto thread_a = in_background([e] { e.wait(); return true; });
  auto thread_b = in_background([e] { return e.wait(std::chrono::seconds(30)); });
  // Every task started, i.e. all five got one of the two slots in turn.
  REQUIRE(eventually([&] { return count_lines(log, "waiting") == kTasks; }));
  CHECK(env.client.submit(cask::options{.pure = false}, inc, 1).result(kPatience) == 2);
  for (auto& f : tasks) CHECK_FALSE(f.done());
  CHECK(thread_a.wait_for(0ms) == std::future_status::timeout);
  e.set();
  for (auto& f : tasks) CHECK(f.result(kPatience) == 1);
  REQUIRE(thread_a.wait_for(kPatience) == std::future_status::ready);
  REQUIRE(thread_b.wait_for(kPatience) == std::future_status::ready);
  CHECK(thread_a.get());
  CHECK(thread_b.get());
}

BOTH_CASE("Event.clear_makes_waits_block_again", 30) {
  cask::Event e{named(env, "both.e.cycle"), env.client};
  for (int round = 0; round < 3; ++round) {
    auto waiting = in_background([e] { return e.wait(std::chrono::seconds(30)); });
    CHECK(waiting.wait_for(50ms) == std::future_status::timeout);
    e.set();
    REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
    CHECK(waiting.get());
    e.clear();
    CHECK_FALSE(e.wait(10ms));
  }
}

BOTH_CASE("Event.same_name_is_the_same_event_from_client_and_tasks", 30) {
  const std::string name = named(env, "both.e.shared");
  cask::Event e{name, env.client};
  CHECK(env.client.submit(cask::options{.pure = false}, event_set, name).result(kPatience) == 1);
  CHECK(e.is_set());
  CHECK(env.client.submit(cask::options{.pure = false}, event_is_set, name).result(kPatience) == 1);
  CHECK(env.client.submit(cask::options{.pure = false}, event_clear, name).result(kPatience) == 1);
  CHECK_FALSE(e.is_set());
  CHECK(env.client.submit(cask::options{.pure = false}, event_is_set, name).result(kPatience) == 0);
  // Another cluster's event of that name is another event (an embedded one in both modes).
  cask::Client other{cask::ClientOptions{.workers = 1, .threads_per_worker = 1}};
  cask::Event elsewhere{name, other};
  elsewhere.set();
  CHECK_FALSE(e.is_set());
}

BOTH_CASE("Event.wait_inside_task_hands_the_slot_back", 30) {
  // Both slots (2 workers x 1) are taken by waiting tasks; the setter still runs.
  const std::string name = named(env, "both.e.handback");
  auto a = env.client.submit(cask::options{.pure = false}, event_wait, name, env.file("log-a"), -1);
  auto b = env.client.submit(cask::options{.pure = false}, event_wait, name, env.file("log-b"), -1);
  REQUIRE(logged(env.file("log-a"), "waiting"));
  REQUIRE(logged(env.file("log-b"), "waiting"));
  CHECK(env.client.submit(cask::options{.pure = false}, event_set, name).result(kPatience) == 1);
  CHECK(a.result(kPatience) == 1);
  CHECK(b.result(kPatience) == 1);
  // Timed wait inside a task: false in time, then true once set by a later task.
  cask::Event{name, env.client}.clear();
  const auto log = env.file("log-timed");
  auto timed = env.client.submit(cask::options{.pure = false}, event_wait_twice, name, log);
  REQUIRE(logged(log, "waiting"));
  CHECK_THROWS_AS((void)timed.result(100ms), cask::TimeoutError);
  CHECK(env.client.submit(cask::options{.pure = false}, event_set, name).result(kPatience) == 1);
  CHECK(timed.result(kPatience) == 1);
}

BOTH_CASE("Event.cancelled_wait_ends_in_cancelled_error_inside_the_task", 30) {
  const std::string name = named(env, "both.e.never");
  const auto log = env.file("log");
  auto f = env.client.submit(cask::options{.pure = false}, event_wait_logging_cancel, name, log);
  REQUIRE(logged(log, "waiting"));
  f.cancel();
  CHECK_THROWS_AS((void)f.result(kPatience), cask::CancelledError);
  CHECK(logged(log, "cancelled"));  // the task's wait itself ended in CancelledError
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  CHECK(env.client.submit(cask::options{.pure = false}, inc, 1).result(kPatience) == 2);
}

BOTH_CASE("Event.set_event_outlives_its_handles_until_cleared", 30) {
  // Counted from what the cluster already holds (a shared LocalCluster serves other cases).
  const std::size_t before = objects(env.client);
  {
    cask::Event set{named(env, "both.e.set"), env.client};
    set.set();
    cask::Event cleared{named(env, "both.e.cleared"), env.client};
    cleared.set();
    cleared.clear();
    CHECK(eventually([&] { return objects(env.client) == before + 2; }));
  }
  CHECK(eventually([&] { return objects(env.client) == before + 1; }));
  {
    cask::Event again{named(env, "both.e.set"), env.client};
    CHECK(again.is_set());
    CHECK(again.wait(0ms));
    again.clear();
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  cask::Event fresh{named(env, "both.e.set"), env.client};
  CHECK_FALSE(fresh.is_set());
}
