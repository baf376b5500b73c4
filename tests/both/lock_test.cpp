// Both modes, cask::Lock beyond objects_test.cpp: name/locked/acquire with zero and timed
// waits, separate handles exclude each other while copies share one holder identity,
// release by a non-holder is an error that leaves the lock working, the standard guards,
// the lock comes back when the last copy of its holder goes or its task fails or is
// cancelled (also while waiting to acquire), a task that fails holding nothing releases
// nothing, blocked acquires hand the slot back, retirement, short-lived handles in a loop,
// and a blocked acquire failing when its client goes.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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

BOTH_CASE("Lock.acquire_release_and_locked", 30) {
  cask::Lock lock{named(env, "both.l.plain"), env.client};
  CHECK(lock.name() == named(env, "both.l.plain"));
  CHECK_FALSE(lock.locked());
  lock.acquire();
  CHECK(lock.locked());
  lock.release();
  CHECK_FALSE(lock.locked());
  CHECK(lock.acquire(kPatience));
  CHECK(lock.locked());
  lock.release();
  CHECK(lock.acquire(0ms));  // free: a zero timeout still takes it
  lock.release();
  CHECK_FALSE(lock.locked());
}

BOTH_CASE("Lock.separate_handles_exclude_each_other", 30) {
  cask::Lock a{named(env, "both.l.excl"), env.client};
  cask::Lock b{named(env, "both.l.excl"), env.client};
  cask::Lock c{named(env, "both.l.excl")};  // the current client: the mode's
  a.acquire();
  CHECK(b.locked());  // anyone holding counts
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(b.acquire(50ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_FALSE(c.acquire(0ms));
  CHECK_FALSE(c.try_lock());
  // A blocked acquire gets it once the holder releases.
  auto waiting = in_background([b] { b.acquire(); return true; });
  CHECK(waiting.wait_for(200ms) == std::future_status::timeout);
  a.release();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get());
  CHECK(a.locked());
  CHECK_FALSE(a.acquire(20ms));  // now b holds it
  b.release();
  CHECK(c.acquire(kPatience));
  c.release();
  CHECK_FALSE(a.locked());
}

BOTH_CASE("Lock.copies_share_one_identity", 30) {
  cask::Lock a{named(env, "both.l.copied"), env.client};
  cask::Lock copy = a;
  a.acquire();
  copy.release();  // the copy is the holder too
  CHECK_FALSE(a.locked());
  copy.acquire();
  a.release();
  CHECK_FALSE(copy.locked());
  // Used from another thread, a copy still is the same holder.
  a.acquire();
  std::optional<bool> released;
  std::thread t([copy, &released] {
    try {
      copy.release();
      released = true;
    } catch (const cask::Error&) {
      released = false;
    }
  });
  t.join();
  CHECK(released == true);
  CHECK_FALSE(a.locked());
}

BOTH_CASE("Lock.release_by_a_non_holder_throws_and_the_lock_keeps_working", 30) {
  const std::string name = named(env, "both.l.guarded");
  cask::Lock holder{name, env.client};
  cask::Lock other{name, env.client};
  // Nobody holds it.
  CHECK(contains(error_of([&] { holder.release(); }), "does not hold"));
  CHECK_FALSE(holder.locked());
  // Someone else holds it.
  holder.acquire();
  CHECK(contains(error_of([&] { other.release(); }), "does not hold"));
  CHECK(holder.locked());            // still held by holder
  CHECK_FALSE(other.acquire(20ms));  // and still excluding the other
  holder.release();
  CHECK_THROWS_AS(holder.release(), cask::Error);  // twice is once too many
  // The lock (and the runtime) keep serving.
  CHECK(other.acquire(kPatience));
  CHECK(other.locked());
  other.release();
  CHECK(holder.acquire(kPatience));
  // Inside a task too (while the client holds it): the task's own error, the hold stays.
  auto f = env.client.submit(cask::options{.pure = false}, lock_release_unheld, name);
  CHECK(contains(task_error_message<cask::Error>(env, f, "cask::Error"), "does not hold"));
  CHECK(holder.locked());
  holder.release();
  CHECK(env.client.submit(cask::options{.pure = false}, inc, 3).result(kPatience) == 4);
}

BOTH_CASE("Lock.timed_acquire_gets_it_when_released_in_time", 30) {
  cask::Lock a{named(env, "both.l.timed"), env.client};
  cask::Lock b{named(env, "both.l.timed"), env.client};
  a.acquire();
  auto waiting = in_background([b] { return b.acquire(std::chrono::seconds(30)); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
  a.release();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get());
  CHECK(b.locked());
  // A timed-out acquire took nothing: after b releases, the lock is free.
  CHECK_FALSE(a.acquire(10ms));
  b.release();
  CHECK_FALSE(a.locked());
  CHECK_FALSE(b.locked());
}

BOTH_CASE("Lock.timed_out_acquires_do_not_take_the_lock_later", 30) {
  cask::Lock holder{named(env, "both.l.later"), env.client};
  cask::Lock waiter{named(env, "both.l.later"), env.client};
  holder.acquire();
  for (int i = 0; i < 10; ++i) CHECK_FALSE(waiter.acquire(1ms));
  holder.release();
  // None of the timed-out acquires was granted afterwards.
  CHECK_FALSE(holder.locked());
  CHECK(holder.acquire(0ms));
  holder.release();
}

BOTH_CASE("Lock.works_with_the_standard_guards", 30) {
  cask::Lock lock{named(env, "both.l.guards"), env.client};
  cask::Lock other{named(env, "both.l.guards"), env.client};
  {
    std::lock_guard guard{lock};
    CHECK(lock.locked());
    CHECK_FALSE(other.try_lock());
  }
  CHECK_FALSE(lock.locked());
  {
    std::unique_lock guard{lock};
    CHECK(guard.owns_lock());
    guard.unlock();
    CHECK_FALSE(lock.locked());
    guard.lock();
    CHECK(lock.locked());
  }
  CHECK_FALSE(lock.locked());
  {
    std::unique_lock guard{lock, std::defer_lock};
    CHECK(guard.try_lock_for(kPatience));
    std::unique_lock second{other, std::defer_lock};
    CHECK_FALSE(second.try_lock_for(20ms));
    CHECK_FALSE(second.try_lock());
    CHECK_FALSE(second.try_lock_until(std::chrono::steady_clock::now() + 20ms));
  }
  CHECK_FALSE(lock.locked());
  {
    std::unique_lock guard{other, std::try_to_lock};
    CHECK(guard.owns_lock());
  }
  {
    std::scoped_lock guard{lock};
    CHECK(other.locked());
  }
  CHECK_FALSE(other.locked());
}

// --- the lock comes back ------------------------------------------------------------------

BOTH_CASE("Lock.released_when_the_last_copy_of_the_holder_is_destroyed", 30) {
  const std::string name = named(env, "both.l.dropped");
  cask::Lock other{name, env.client};
  std::optional<cask::Lock> holder;
  holder.emplace(name, env.client);
  holder->acquire();
  std::optional<cask::Lock> copy{*holder};
  holder.reset();  // a copy of the holder is left: still held
  CHECK(other.locked());
  CHECK_FALSE(other.acquire(50ms));
  copy.reset();  // the last copy: released
  CHECK(other.acquire(kPatience));
  other.release();
  // A holder handle dropped inside a task that returns normally also gives it back
  // (lock_hold returns at once: its gate is already open).
  const auto gate = env.file("gate");
  cask_cluster_test::open_gate(gate);
  CHECK(env.client.submit(lock_hold, name, env.file("log"), gate, 20000).result(kPatience) == 1);
  CHECK(other.acquire(kPatience));
  other.release();
}

BOTH_CASE("Lock.released_when_a_retried_task_throws_holding_it", 30) {
  // Every run takes the lock and throws: each failed run gives it back, or the retry
  // would block for ever on its own first run's lock.
  const std::string name = named(env, "both.l.retried");
  cask::Lock other{name, env.client};
  auto f = env.client.submit(cask::options{.pure = false, .retries = 1}, lock_then_throw, name);
  CHECK(task_error_message<std::runtime_error>(env, f, "std::runtime_error") == "failed holding " + name);
  CHECK(other.acquire(kPatience));
  other.release();
  CHECK_FALSE(other.locked());
}

BOTH_CASE("Lock.cancelled_while_waiting_to_acquire_never_gets_it", 30) {
  const std::string name = named(env, "both.l.cancel-waiting");
  const auto log = env.file("log");
  cask::Lock other{name, env.client};
  other.acquire();
  auto waiting = env.client.submit(cask::options{.pure = false}, lock_wait_logged, name, log);
  REQUIRE(logged(log, "waiting"));
  waiting.cancel();
  CHECK_THROWS_AS((void)waiting.result(kPatience), cask::CancelledError);
  other.release();
  // Its acquire was withdrawn with it: the lock is free and stays takeable.
  CHECK(eventually([&] { return !other.locked(); }));
  CHECK(other.acquire(kPatience));
  other.release();
  CHECK_FALSE(other.locked());
}

BOTH_CASE("Lock.failed_task_does_not_release_a_lock_it_no_longer_holds", 30) {
  // The task acquires and releases; then the client takes the lock; then the task fails.
  // The task holds nothing when it fails, so the client's hold must stay.
  const std::string name = named(env, "both.l.passed-on");
  const auto log = env.file("log");
  Gate gate{env, "fail-now"};
  cask::Lock lock{name, env.client};
  cask::Lock other{name, env.client};
  auto f = env.client.submit(cask::options{.pure = false}, lock_release_then_fail, name, log, gate.path());
  REQUIRE(logged(log, "released"));
  REQUIRE(lock.acquire(kPatience));  // the client's own acquisition
  gate.open();
  CHECK(task_error_message<std::runtime_error>(env, f, "std::runtime_error") == "failed after releasing");
  f = {};
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  CHECK(lock.locked());
  CHECK_FALSE(other.acquire(100ms));
  CHECK_NOTHROW(lock.release());
  CHECK(other.acquire(kPatience));
  other.release();
}

// --- slots ---------------------------------------------------------------------------------

BOTH_CASE("Lock.acquire_inside_task_hands_the_slot_back", 30) {
  // Both slots (2 workers x 1) are taken by tasks blocked in acquire while the client holds
  // the lock; a third task still runs, so the blocked ones handed their slots back.
  const std::string name = named(env, "both.l.handback");
  const auto log = env.file("log");
  cask::Lock held{name, env.client};
  held.acquire();
  auto a = env.client.submit(cask::options{.pure = false}, lock_wait_logged, name, log);
  auto b = env.client.submit(cask::options{.pure = false}, lock_wait_logged, name, env.file("log-b"));
  REQUIRE(logged(log, "waiting"));
  REQUIRE(logged(env.file("log-b"), "waiting"));
  CHECK(env.client.submit(cask::options{.pure = false}, inc, 41).result(kPatience) == 42);
  CHECK_FALSE(a.done());
  held.release();
  CHECK(a.result(kPatience) == 1);
  CHECK(b.result(kPatience) == 1);
  CHECK_FALSE(held.locked());
  // Task to task: one holds it until an Event is set, the other blocks in acquire meanwhile
  // (both waits hand their slots back).
  const std::string go = named(env, "both.l.handback-go");
  cask::Event go_event{go, env.client};
  const auto hold_log = env.file("hold.log");
  auto holder = env.client.submit(cask::options{.pure = false}, lock_hold_until_event, name, hold_log, go);
  REQUIRE(logged(hold_log, "locked"));
  auto blocked = env.client.submit(cask::options{.pure = false}, lock_wait_logged, name, env.file("log-c"));
  REQUIRE(logged(env.file("log-c"), "waiting"));
  CHECK_THROWS_AS((void)blocked.result(100ms), cask::TimeoutError);
  go_event.set();
  CHECK(holder.result(kPatience) == 1);
  CHECK(blocked.result(kPatience) == 1);
  CHECK_FALSE(held.locked());
}

// --- retirement and handle churn ---------------------------------------------------------

BOTH_CASE("Lock.retired_when_free_and_without_handles", 30) {
  // Counted from what the cluster already holds (a shared LocalCluster serves other cases).
  const std::size_t before = objects(env.client);
  {
    cask::Lock a{named(env, "both.l.r1"), env.client};
    cask::Lock b{named(env, "both.l.r2"), env.client};
    a.acquire();
    CHECK(eventually([&] { return objects(env.client) == before + 2; }));
  }  // a was held by its (now dead) handle: released, then retired
  CHECK(eventually([&] { return objects(env.client) == before; }));
  {
    std::vector<cask::Lock> many;
    for (int i = 0; i < 300; ++i) many.emplace_back(named(env, "both.l.many-") + std::to_string(i), env.client);
    for (int i = 0; i < 300; i += 2) many[i].acquire();
    CHECK(eventually([&] { return objects(env.client) == before + 300; }));
    for (int i = 0; i < 300; i += 4) many[i].release();
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // A retired lock's name opens as a free lock.
  cask::Lock again{named(env, "both.l.r1"), env.client};
  CHECK_FALSE(again.locked());
  CHECK(again.acquire(0ms));
  again.release();
}

BOTH_CASE("Lock.handles_opened_and_dropped_in_a_loop", 60) {
  // Each new handle (often at the address of the previous one) must find the lock free:
  // the previous holder's end is seen before the new handle's acquire.
  const std::string name = named(env, "both.l.loop");
  cask::Lock watcher{name, env.client};
  bool all_acquired = true;
  for (int i = 0; i < 500; ++i) {
    cask::Lock lock{name, env.client};
    if (!lock.acquire(kPatience)) all_acquired = false;
  }
  CHECK(all_acquired);
  CHECK_FALSE(watcher.locked());
  // The same from two threads at once: the lock passes between short-lived handles.
  int counter = 0;  // deliberately not atomic: the lock is what protects it
  auto body = [&] {
    for (int i = 0; i < 200; ++i) {
      cask::Lock lock{name, env.client};
      std::lock_guard guard{lock};
      const int v = counter;
      std::this_thread::yield();
      counter = v + 1;
    }
  };
  std::thread a(body), b(body);
  a.join();
  b.join();
  CHECK(counter == 400);
  CHECK_FALSE(watcher.locked());
}

BOTH_CASE("Lock.blocked_acquire_fails_when_the_client_is_destroyed", 30) {
  std::optional<cask::Client> client{second_client(env)};
  cask::Lock holder{named(env, "both.l.closing"), *client};
  cask::Lock waiter{named(env, "both.l.closing"), *client};
  holder.acquire();
  auto waiting = in_background([waiter] { waiter.acquire(); return true; });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
  client.reset();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK_THROWS_AS((void)waiting.get(), cask::CommError);
  CHECK_THROWS_AS(holder.release(), cask::CommError);
  CHECK_THROWS_AS((void)holder.locked(), cask::CommError);
  // The mode's own client serves on, and the lock its dead client held is free there.
  cask::Lock again{named(env, "both.l.closing"), env.client};
  CHECK(again.acquire(kPatience));
  again.release();
}
