// Both modes, cask::Semaphore beyond objects_test.cpp: at most max leases at once (and max
// is reached) among tasks that hold their lease off-slot, timed acquire, several leases per
// handle and copies sharing them, release without a lease is an error that leaves it
// working, the maximum is checked from the client and from tasks, leases of a destroyed
// handle or a cancelled task come back, a failed task gives back only its own leases,
// blocked acquires hand the slot back, retirement.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coord_more_tasks.hpp"
#include "coord_tasks.hpp"
#include "harness.hpp"
#include "coord_util.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace coord_more_tasks;
using cask_cluster_test::contains;
using cask_cluster_test::error_of;
using cask_cluster_test::eventually;

BOTH_CASE("Semaphore.at_most_max_leases_at_once_and_max_is_reached", 60) {
  // Holders secede while they wait for max holders to be in, so the 2 slots do not cap them:
  // only the semaphore does. The log is replayed to find the most holders in at once.
  constexpr int kMax = 3, kTasks = 8;
  const std::string name = named(env, "both.s.limited");
  const auto log = env.file("log");
  cask::Semaphore sem{name, kMax, env.client};
  std::vector<cask::Future<int>> tasks;
  for (int i = 0; i < kTasks; ++i)
    tasks.push_back(env.client.submit(cask::options{.pure = false}, semaphore_wait_until_full, name, kMax, log));
  int all_saw_full = 0;
  for (auto& f : tasks) all_saw_full += f.result(std::chrono::seconds(30));
  int now = 0, highest = 0;
  for (const auto& line : cask_cluster_test::read_lines(log)) {
    now += line == "in" ? 1 : -1;
    highest = std::max(highest, now);
  }
  CHECK(now == 0);
  CHECK(highest <= kMax);
  CHECK(highest == kMax);
  CHECK(all_saw_full == kTasks);
  CHECK(sem.get_value() == 0);
}

BOTH_CASE("Semaphore.timed_acquire_false_when_full", 30) {
  cask::Semaphore a{named(env, "both.s.pair"), 2, env.client};
  cask::Semaphore b{named(env, "both.s.pair"), 2, env.client};
  CHECK(a.max_leases() == 2);
  CHECK(a.name() == named(env, "both.s.pair"));
  CHECK(a.acquire(kPatience));
  CHECK(b.acquire(0ms));
  CHECK(a.get_value() == 2);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(b.acquire(50ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_FALSE(a.try_lock());
  CHECK(b.get_value() == 2);  // the timed-out ones took nothing
  auto waiting = in_background([b] { return b.acquire(std::chrono::seconds(30)); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
  a.release();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get());
  CHECK(a.get_value() == 2);
  b.release();
  b.release();
  CHECK(a.get_value() == 0);
}

BOTH_CASE("Semaphore.a_handle_may_hold_several_leases", 30) {
  cask::Semaphore s{named(env, "both.s.several"), 3, env.client};
  cask::Semaphore other{named(env, "both.s.several"), 3, env.client};
  s.acquire();
  s.acquire();
  CHECK(other.get_value() == 2);
  CHECK(other.acquire(kPatience));
  CHECK(s.get_value() == 3);
  CHECK_FALSE(s.acquire(20ms));  // full, for the holder as well
  s.release();
  CHECK(s.get_value() == 2);
  s.release();
  CHECK(s.get_value() == 1);
  CHECK_THROWS_AS(s.release(), cask::Error);  // s has none left; other's is not s's
  CHECK(s.get_value() == 1);
  other.release();
  CHECK(s.get_value() == 0);
  // Copies share the handle's leases.
  cask::Semaphore copy = s;
  s.acquire();
  copy.release();
  CHECK(s.get_value() == 0);
}

BOTH_CASE("Semaphore.release_without_a_lease_throws_and_it_keeps_working", 30) {
  const std::string name = named(env, "both.s.strict");
  cask::Semaphore s{name, 1, env.client};
  cask::Semaphore holder{name, 1, env.client};
  CHECK_THROWS_AS(s.release(), cask::Error);
  CHECK(s.get_value() == 0);
  holder.acquire();
  CHECK_THROWS_AS(s.release(), cask::Error);
  CHECK(s.get_value() == 1);
  CHECK_FALSE(s.acquire(20ms));
  // Inside a task too: the task's own error, the holder's lease stays.
  auto f = env.client.submit(cask::options{.pure = false}, semaphore_release_unheld, name, 1);
  const std::string what = task_error_message<cask::Error>(env, f, "cask::Error");
  CHECK(contains(what, name));
  CHECK(s.get_value() == 1);
  holder.release();
  CHECK(s.acquire(kPatience));
  s.release();
  CHECK(s.get_value() == 0);
}

BOTH_CASE("Semaphore.max_is_checked", 30) {
  const std::string name = named(env, "both.s.sized");
  CHECK_THROWS_AS((cask::Semaphore{named(env, "both.s.zero"), 0, env.client}), cask::Error);
  cask::Semaphore two{name, 2, env.client};
  CHECK_THROWS_WITH_AS((cask::Semaphore{name, 3, env.client}), doctest::Contains(name.c_str()), cask::Error);
  CHECK_THROWS_AS((cask::Semaphore{name, 1}), cask::Error);  // the current client: the mode's
  CHECK_THROWS_AS((cask::Semaphore{name, 0, env.client}), cask::Error);
  // A task asking for another max gets the same clear error.
  auto f = env.client.submit(cask::options{.pure = false}, semaphore_open, name, 5);
  CHECK(contains(task_error_message<cask::Error>(env, f, "cask::Error"), "max_leases 2, not 5"));
  CHECK(env.client.submit(cask::options{.pure = false}, semaphore_open, name, 2).result(kPatience) == 1);
  // The same maximum opens the same semaphore; the first handle is unharmed.
  cask::Semaphore same{name, 2, env.client};
  CHECK(two.acquire(kPatience));
  CHECK(same.acquire(kPatience));
  CHECK(two.get_value() == 2);
  CHECK_FALSE(two.acquire(20ms));
  two.release();
  same.release();
}

BOTH_CASE("Semaphore.leases_of_a_destroyed_handle_come_back", 30) {
  const std::string name = named(env, "both.s.dropped");
  cask::Semaphore watcher{name, 2, env.client};
  {
    cask::Semaphore holder{name, 2, env.client};
    holder.acquire();
    holder.acquire();
    cask::Semaphore copy = holder;
    CHECK(watcher.get_value() == 2);
  }
  CHECK(watcher.acquire(kPatience));
  CHECK(watcher.acquire(kPatience));
  CHECK(watcher.get_value() == 2);
  watcher.release();
  watcher.release();
  // A handle of a task's own, dropped when the task returns.
  CHECK(env.client.submit(cask::options{.pure = false}, semaphore_hold_and_return, name, 2).result(kPatience) == 1);
  CHECK(eventually([&] { return watcher.get_value() == 0; }));
  CHECK(watcher.acquire(kPatience));
  CHECK(watcher.acquire(kPatience));
  watcher.release();
  watcher.release();
}

BOTH_CASE("Semaphore.leases_of_a_cancelled_task_come_back", 30) {
  const std::string name = named(env, "both.s.cancelled");
  const auto log = env.file("log");
  cask::Semaphore sem{name, 2, env.client};
  auto holder = env.client.submit(cask::options{.pure = false}, semaphore_until_stopped, name, 2, log);
  REQUIRE(logged(log, "holding"));
  CHECK(sem.get_value() == 1);
  holder.cancel();
  CHECK_THROWS_AS((void)holder.result(kPatience), cask::CancelledError);
  CHECK(eventually([&] { return sem.get_value() == 0; }));
  CHECK(sem.acquire(kPatience));
  CHECK(sem.acquire(kPatience));
  sem.release();
  sem.release();
}

BOTH_CASE("Semaphore.failed_task_gives_back_only_the_leases_it_took", 30) {
  // The client holds a lease of its own; a task takes two, gives one back and fails: only
  // the one it still held comes back, the client's stays.
  const std::string name = named(env, "both.s.mine");
  cask::Semaphore sem{name, 3, env.client};
  cask::Semaphore watcher{name, 3, env.client};
  sem.acquire();
  auto f = env.client.submit(cask::options{.pure = false}, semaphore_take_two_give_one_fail, name, 3);
  CHECK(task_error_message<std::runtime_error>(env, f, "std::runtime_error") == "failed holding one of two");
  // Bounded wait for the failed task's lease to come back (2 -> 1), then it must stay 1.
  CHECK(eventually([&] { return watcher.get_value() <= 1; }));
  CHECK(watcher.get_value() == 1);
  CHECK_NOTHROW(sem.release());  // the client still holds the lease it took
  CHECK(watcher.get_value() == 0);
}

BOTH_CASE("Semaphore.acquire_inside_task_hands_the_slot_back", 30) {
  // Both slots (2 workers x 1) are taken by tasks blocked in acquire while the client holds
  // the only lease; a third task still runs, so the blocked ones handed their slots back.
  const std::string name = named(env, "both.s.handback");
  cask::Semaphore held{name, 1, env.client};
  held.acquire();
  auto a = env.client.submit(cask::options{.pure = false}, semaphore_wait_logged, name, 1, env.file("log-a"));
  auto b = env.client.submit(cask::options{.pure = false}, semaphore_wait_logged, name, 1, env.file("log-b"));
  REQUIRE(logged(env.file("log-a"), "waiting"));
  REQUIRE(logged(env.file("log-b"), "waiting"));
  CHECK(env.client.submit(cask::options{.pure = false}, inc, 41).result(kPatience) == 42);
  CHECK_FALSE(a.done());
  held.release();
  CHECK(a.result(kPatience) == 1);
  CHECK(b.result(kPatience) == 1);
  CHECK(eventually([&] { return held.get_value() == 0; }));
}

BOTH_CASE("Semaphore.retired_when_free_and_without_handles", 30) {
  // Counted from what the cluster already holds (a shared LocalCluster serves other cases).
  const std::size_t before = objects(env.client);
  {
    cask::Semaphore a{named(env, "both.s.r"), 2, env.client};
    a.acquire();
    cask::Semaphore b{named(env, "both.s.r"), 2, env.client};
    CHECK(eventually([&] { return objects(env.client) == before + 1; }));
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // Retired: the name opens afresh, with any maximum.
  cask::Semaphore again{named(env, "both.s.r"), 5, env.client};
  CHECK(again.get_value() == 0);
  CHECK(again.max_leases() == 5);
}
