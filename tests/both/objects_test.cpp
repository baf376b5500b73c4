// Both modes, the other coordination objects: Variable (set/get/erase, timeouts, waiting for
// the first set), Lock (acquire/release/timeouts, held by a task until it returns, released
// when its holder handle goes), Semaphore leases, Event (set/wait/clear) and Pub/Sub fan-out,
// each shared by name between the client and the tasks. Blocked callers are observed through
// the tasks' log lines or the objects themselves, never through sleeps.
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "coord_actor_tasks.hpp"
#include "coord_tasks.hpp"
#include "harness.hpp"
#include "coord_util.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace both_tasks;
using cask_cluster_test::contains;
using cask_cluster_test::count_lines;
using cask_cluster_test::error_of;
using cask_cluster_test::eventually;

BOTH_CASE("Variable.set_get_erase_and_timeouts", 30) {
  const std::string name = "both.v.config";
  cask::Variable<std::string> v{name, env.client};
  CHECK_THROWS_AS((void)v.get(50ms), cask::TimeoutError);
  v.set("v1");
  CHECK(v.get() == "v1");
  v.set("v2");
  CHECK(v.get(kPatience) == "v2");  // the latest value
  // Tasks read and set it by name.
  CHECK(env.client.submit(variable_get, name, 1000).result(kPatience) == "v2");
  CHECK(env.client.submit(variable_set, name, std::string("v3")).result(kPatience) == 1);
  CHECK(cask::Variable<std::string>{name, env.client}.get() == "v3");
  v.erase();
  CHECK_THROWS_AS((void)v.get(50ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)env.client.submit(variable_get, name, 50).result(kPatience), cask::TimeoutError);
}

BOTH_CASE("Variable.get_waits_for_the_first_set", 30) {
  const std::string name = "both.v.first";
  cask::Variable<std::string> v{name, env.client};
  auto waiting = in_background([&] { return v.get(kPatience); });
  CHECK(waiting.wait_for(50ms) == std::future_status::timeout);
  CHECK(env.client.submit(variable_set, name, std::string("ready")).result(kPatience) == 1);
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get() == "ready");
  // A type mismatch is a clear error; the first handle keeps working.
  CHECK(contains(error_of([&] { cask::Variable<int> wrong{name, env.client}; }), name));
  CHECK(v.get() == "ready");
}

BOTH_CASE("Lock.acquire_release_timeouts_and_guards", 30) {
  const std::string name = "both.l.basic";
  cask::Lock a{name, env.client};
  cask::Lock b{name, env.client};
  CHECK_FALSE(a.locked());
  a.acquire();
  CHECK(b.locked());
  CHECK_FALSE(b.acquire(50ms));
  CHECK_FALSE(b.try_lock());
  CHECK(env.client.submit(lock_try, name, 50).result(kPatience) == 0);
  // Releasing a lock this handle does not hold: a clear error, nothing changes.
  const auto what = error_of([&] { b.release(); });
  CHECK(contains(what, "Lock '" + name + "'"));
  CHECK(contains(what, "does not hold"));
  CHECK(a.locked());
  // A blocked acquire gets it when the holder releases.
  auto waiting = in_background([&] { return b.acquire(kPatience); });
  CHECK(waiting.wait_for(50ms) == std::future_status::timeout);
  a.release();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get());
  b.release();
  CHECK_FALSE(a.locked());
  CHECK(env.client.submit(lock_try, name, 1000).result(kPatience) == 1);
  {
    std::lock_guard guard{a};
    CHECK(b.locked());
  }
  CHECK_FALSE(b.locked());
}

BOTH_CASE("Lock.held_by_a_task_until_it_returns", 30) {
  const std::string name = "both.l.task";
  const auto log = env.file("log"), gate = env.file("gate");
  cask::Lock lock{name, env.client};
  auto holder = env.client.submit(lock_hold, name, log, gate, 20000);
  REQUIRE(logged(log, "locked"));
  CHECK(lock.locked());
  CHECK_FALSE(lock.acquire(50ms));
  CHECK_THROWS_AS((void)env.client.submit(lock_release_unheld, name).result(kPatience), cask::Error);
  CHECK(lock.locked());
  // The task returns; its handle goes and with it the lock.
  cask_cluster_test::open_gate(gate);
  CHECK(holder.result(kPatience) == 1);
  CHECK(lock.acquire(kPatience));
  lock.release();
}

BOTH_CASE("Lock.released_when_the_holding_handle_goes", 30) {
  const std::string name = "both.l.handle";
  cask::Lock mine{name, env.client};
  std::optional<cask::Lock> theirs{std::in_place, name, env.client};
  theirs->acquire();
  CHECK_FALSE(mine.acquire(50ms));
  auto blocked = in_background([&] { return mine.acquire(kPatience); });
  CHECK(blocked.wait_for(50ms) == std::future_status::timeout);
  theirs.reset();
  REQUIRE(blocked.wait_for(kPatience) == std::future_status::ready);
  CHECK(blocked.get());
  CHECK(mine.locked());
  mine.release();
}

BOTH_CASE("Semaphore.leases_up_to_max_and_back", 30) {
  const std::string name = "both.s.db";
  cask::Semaphore sem{name, 2, env.client};
  CHECK(sem.max_leases() == 2);
  sem.acquire();
  CHECK(sem.acquire(1s));  // one handle may hold several leases
  CHECK(sem.get_value() == 2);
  CHECK_FALSE(sem.acquire(50ms));
  CHECK(env.client.submit(semaphore_try, name, 2, 50).result(kPatience) == 0);
  sem.release();
  CHECK(env.client.submit(semaphore_try, name, 2, 5000).result(kPatience) == 1);
  sem.release();
  CHECK(sem.get_value() == 0);
  CHECK_THROWS_AS(sem.release(), cask::Error);  // holds none now
  // Another max for the same name, or a max of 0: clear errors; it keeps serving.
  CHECK(contains(error_of([&] { cask::Semaphore three(name, 3, env.client); }), "max_leases 2, not 3"));
  CHECK_THROWS_AS(cask::Semaphore("both.s.zero", 0, env.client), cask::Error);
  // The leases of a destroyed handle come back.
  {
    cask::Semaphore other{name, 2, env.client};
    other.acquire();
    other.acquire();
    CHECK(sem.get_value() == 2);
    CHECK_FALSE(sem.acquire(50ms));
  }
  CHECK(sem.acquire(kPatience));
  CHECK(sem.get_value() == 1);
  sem.release();
}

BOTH_CASE("Event.set_wait_clear_from_client_and_tasks", 30) {
  const std::string name = "both.e.ready";
  const auto log = env.file("log");
  cask::Event ready{name, env.client};
  CHECK_FALSE(ready.is_set());
  CHECK_FALSE(ready.wait(50ms));
  CHECK(env.client.submit(event_wait, name, log, 50).result(kPatience) == 0);
  // Two tasks wait, on both slots (2 workers x 1); one set, by a task that only runs
  // because the waiting ones handed their slots back, wakes both.
  auto first = env.client.submit(event_wait, name, log, -1);
  auto second = env.client.submit(event_wait, name, log, -2);
  REQUIRE(eventually([&] { return count_lines(log, "waiting") == 3; }));
  CHECK_FALSE(first.done());
  CHECK_FALSE(second.done());
  CHECK(env.client.submit(event_set, name).result(kPatience) == 1);
  CHECK(first.result(kPatience) == 1);
  CHECK(second.result(kPatience) == 1);
  CHECK(ready.is_set());
  CHECK(ready.wait(0ms));  // set: returns at once
  ready.clear();
  CHECK_FALSE(ready.is_set());
  CHECK_FALSE(ready.wait(50ms));  // cleared: waits block again
  // Set by the client, seen by another client thread blocked in wait().
  auto blocked = in_background([&] { return ready.wait(kPatience); });
  ready.set();
  REQUIRE(blocked.wait_for(kPatience) == std::future_status::ready);
  CHECK(blocked.get());
}

BOTH_CASE("PubSub.fans_out_to_the_client_and_tasks_in_order", 30) {
  const std::string topic = "both.p.news";
  const auto log = env.file("log");
  cask::Pub<std::string> pub{topic, env.client};
  pub.put("before anyone subscribed");  // dropped: no subscriber yet
  cask::Sub<std::string> mine{topic, env.client};
  // Two subscribing tasks (different timeouts: different keys).
  auto first = env.client.submit(subscribe_get, topic, log, 20000);
  auto second = env.client.submit(subscribe_get, topic, log, 20001);
  REQUIRE(eventually([&] { return count_lines(log, "subscribed") == 2; }));
  pub.put("hello");
  CHECK(first.result(kPatience) == "hello");
  CHECK(second.result(kPatience) == "hello");
  CHECK(mine.get(kPatience) == "hello");
  // Published by a task: only the current subscribers (this one) get it, in order.
  CHECK(env.client.submit(publish, topic, std::string("from a task")).result(kPatience) == 1);
  pub.put("last");
  CHECK(mine.get(kPatience) == "from a task");
  CHECK(mine.get(kPatience) == "last");
  CHECK_THROWS_AS((void)mine.get(50ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)env.client.submit(subscribe_get, topic, log, 50).result(kPatience), cask::TimeoutError);
  // Another type on the same topic: a clear error; the first handles keep working.
  CHECK_THROWS_AS(cask::Sub<int>(topic, env.client), cask::Error);
  pub.put("still");
  CHECK(mine.get(kPatience) == "still");
}

BOTH_CASE("Variable.cancelling_a_task_blocked_in_get_wakes_it", 30) {
  const std::string name = "both.v.cancelled";
  const auto log = env.file("log");
  auto waiting = env.client.submit(variable_get_logged, name, log);
  REQUIRE(logged(log, "waiting"));
  waiting.cancel();
  CHECK_THROWS_AS((void)waiting.result(kPatience), cask::CancelledError);
  // The variable serves on: a later set is seen by a new reader.
  cask::Variable<std::string> v{name, env.client};
  v.set("after");
  CHECK(env.client.submit(variable_get_logged, name, env.file("log2")).result(kPatience) == "after");
}

BOTH_CASE("Lock.released_when_the_acquiring_task_throws", 30) {
  const std::string name = "both.l.throws";
  cask::Lock lock{name, env.client};
  auto failed = env.client.submit(lock_then_fail, name, env.file("log"));
  CHECK(task_error_message<std::runtime_error>(env, failed, "std::runtime_error") == "failed holding " + name);
  CHECK(lock.acquire(kPatience));
  lock.release();
}

BOTH_CASE("Lock.released_when_the_acquiring_task_is_cancelled", 30) {
  const std::string name = "both.l.cancelled";
  const auto log = env.file("log");
  cask::Lock lock{name, env.client};
  auto holder = env.client.submit(lock_until_stopped, name, log);
  REQUIRE(logged(log, "locked"));
  CHECK(lock.locked());
  holder.cancel();
  CHECK_THROWS_AS((void)holder.result(kPatience), cask::CancelledError);
  CHECK(lock.acquire(kPatience));
  lock.release();
}

BOTH_CASE("Lock.mutual_exclusion_between_tasks", 60) {
  const std::string name = "both.l.contended";
  const auto log = env.file("log");
  std::vector<cask::Future<int>> tasks;
  for (int i = 0; i < 8; ++i) tasks.push_back(env.client.submit(locked_section, name, log, i));
  // The client competes too, with its own handle, in the same log.
  cask::Lock mine{name, env.client};
  for (int i = 0; i < 20; ++i) {
    std::lock_guard guard{mine};
    std::ofstream(log, std::ios::app) << "enter client\n";
    std::this_thread::yield();
    std::ofstream(log, std::ios::app) << "leave client\n";
  }
  for (int i = 0; i < 8; ++i) CHECK(tasks[i].result(kPatience) == i);
  CHECK_FALSE(mine.locked());
  // Every "enter i" is followed at once by its "leave i": no two holders overlapped.
  const auto lines = cask_cluster_test::read_lines(log);
  REQUIRE(lines.size() == 56);
  for (std::size_t i = 0; i < lines.size(); i += 2) {
    CHECK(lines[i].rfind("enter ", 0) == 0);
    CHECK(lines[i + 1] == "leave " + lines[i].substr(6));
  }
}

BOTH_CASE("Semaphore.leases_of_a_failed_task_come_back", 30) {
  const std::string name = "both.s.failed";
  cask::Semaphore sem{name, 3, env.client};
  sem.acquire();
  auto failed = env.client.submit(semaphore_then_fail, name, 3, 2);
  CHECK(task_error_message<std::runtime_error>(env, failed, "std::runtime_error") == "failed holding 2 leases");
  // The failed task's two leases come back; this handle's one stays taken.
  CHECK(sem.acquire(kPatience));
  CHECK(sem.acquire(kPatience));
  CHECK(sem.get_value() == 3);
  CHECK_FALSE(sem.acquire(50ms));
  for (int i = 0; i < 3; ++i) sem.release();
  CHECK(sem.get_value() == 0);
}

BOTH_CASE("Event.cancelling_a_task_blocked_in_wait_wakes_it", 30) {
  const std::string name = "both.e.cancelled";
  const auto log = env.file("log");
  auto waiting = env.client.submit(event_wait, name, log, -1);
  REQUIRE(logged(log, "waiting"));
  waiting.cancel();
  CHECK_THROWS_AS((void)waiting.result(kPatience), cask::CancelledError);
  // The event serves on.
  cask::Event e{name, env.client};
  e.set();
  CHECK(env.client.submit(event_wait, name, env.file("log2"), -1).result(kPatience) == 1);
}

BOTH_CASE("PubSub.range_for_and_each_publisher_keeps_its_order", 30) {
  const std::string topic = "both.p.publishers";
  cask::Sub<std::string> sub{topic, env.client};
  auto a = env.client.submit(publish_many, topic, std::string("a"), 20);
  auto b = env.client.submit(publish_many, topic, std::string("b"), 20);
  std::map<char, int> next{{'a', 0}, {'b', 0}};
  int seen = 0;
  for (const std::string& message : sub) {
    REQUIRE(next.count(message[0]) == 1);
    CHECK(message == std::string(1, message[0]) + " " + std::to_string(next[message[0]]));
    ++next[message[0]];
    if (++seen == 40) break;
  }
  CHECK(next == std::map<char, int>{{'a', 20}, {'b', 20}});
  CHECK(a.result(kPatience) == 20);
  CHECK(b.result(kPatience) == 20);
  CHECK_THROWS_AS((void)sub.get(50ms), cask::TimeoutError);
}
