// cask::Lock: a named cluster-wide mutex. acquire/release/locked, timed acquire, the
// standard guards, holder identity (copies share it, separate handles exclude each other),
// release by a non-holder is an error that leaves the lock working, the lock comes back
// when its holder handle dies or its task fails or is cancelled, mutual exclusion under
// contention, blocking inside a task hands the slot back, retirement.
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Lock.acquire_release_and_locked" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"l", client};
  CHECK(lock.name() == "l");
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

TEST_CASE("Lock.separate_handles_exclude_each_other" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock a{"excl", client};
  cask::Lock b{"excl", client};
  cask::Lock c{"excl"};
  a.acquire();
  CHECK(b.locked());  // anyone holding counts
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(b.acquire(50ms));
  CHECK(since(t0) >= 50ms);
  CHECK_FALSE(c.acquire(0ms));
  CHECK_FALSE(c.try_lock());
  // A blocked acquire gets it once the holder releases.
  InBackground<bool> waiting([b] { b.acquire(); return true; });
  CHECK_FALSE(waiting.wait_for(200ms));
  a.release();
  CHECK(waiting.get());
  CHECK(a.locked());
  CHECK_FALSE(a.acquire(20ms));  // now b holds it
  b.release();
  CHECK(c.acquire(kPatience));
  c.release();
  CHECK_FALSE(a.locked());
}

TEST_CASE("Lock.copies_share_one_identity" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock a{"copied", client};
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

TEST_CASE("Lock.release_by_a_non_holder_throws_and_the_lock_keeps_working" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock holder{"guarded", client};
  cask::Lock other{"guarded", client};
  // Nobody holds it.
  CHECK_THROWS_AS(holder.release(), cask::Error);
  CHECK_FALSE(holder.locked());
  // Someone else holds it.
  holder.acquire();
  CHECK_THROWS_AS(other.release(), cask::Error);
  CHECK(holder.locked());                   // still held by holder
  CHECK_FALSE(other.acquire(20ms));         // and still excluding the other
  holder.release();
  CHECK_THROWS_AS(holder.release(), cask::Error);  // twice is once too many
  // The lock (and the runtime) keep serving.
  CHECK(other.acquire(kPatience));
  CHECK(other.locked());
  other.release();
  CHECK(holder.acquire(kPatience));
  holder.release();
  CHECK(client.submit(cask::options{.pure = false}, slow, 3).result(kPatience) == 9);
  // Inside a task too.
  auto f = client.submit(cask::options{.pure = false}, [] {
    try {
      cask::Lock{"guarded"}.release();
      return 0;
    } catch (const cask::Error&) {
      return 1;
    }
  });
  CHECK(f.result(kPatience) == 1);
}

TEST_CASE("Lock.timed_acquire_gets_it_when_released_in_time" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock a{"timed", client};
  cask::Lock b{"timed", client};
  a.acquire();
  InBackground<bool> waiting([b] { return b.acquire(std::chrono::seconds(30)); });
  CHECK_FALSE(waiting.wait_for(100ms));
  a.release();
  CHECK(waiting.get());
  CHECK(b.locked());
  // A timed-out acquire took nothing: after b releases, the lock is free.
  CHECK_FALSE(a.acquire(10ms));
  b.release();
  CHECK_FALSE(a.locked());
  CHECK_FALSE(b.locked());
}

TEST_CASE("Lock.timed_out_acquires_do_not_take_the_lock_later" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock holder{"later", client};
  cask::Lock waiter{"later", client};
  holder.acquire();
  for (int i = 0; i < 10; ++i) CHECK_FALSE(waiter.acquire(1ms));
  holder.release();
  // None of the timed-out acquires was granted afterwards.
  CHECK_FALSE(holder.locked());
  CHECK(holder.acquire(0ms));
  holder.release();
}

TEST_CASE("Lock.works_with_the_standard_guards" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"guards", client};
  cask::Lock other{"guards", client};
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

TEST_CASE("Lock.released_when_the_last_copy_of_the_holder_is_destroyed" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock other{"dropped", client};
  std::optional<cask::Lock> holder;
  holder.emplace("dropped", client);
  holder->acquire();
  std::optional<cask::Lock> copy{*holder};
  holder.reset();  // a copy of the holder is left: still held
  CHECK(other.locked());
  CHECK_FALSE(other.acquire(50ms));
  copy.reset();  // the last copy: released
  CHECK(other.acquire(kPatience));
  other.release();
  // A holder handle dropped inside a task that returns normally also gives it back.
  auto f = client.submit(cask::options{.pure = false}, [] {
    cask::Lock inside{"dropped"};
    inside.acquire();
    return inside.locked() ? 1 : 0;
  });
  CHECK(f.result(kPatience) == 1);
  CHECK(other.acquire(kPatience));
  other.release();
}

TEST_CASE("Lock.held_after_a_successful_task_through_a_captured_handle" * doctest::timeout(30)) {
  // Acquired in a task with the client's handle (captured by value), released by the client.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"handover", client};
  cask::Lock other{"handover", client};
  auto f = client.submit(cask::options{.pure = false}, [lock] {
    lock.acquire();
    return 1;
  });
  REQUIRE(f.result(kPatience) == 1);
  f = {};
  CHECK(lock.locked());
  CHECK_FALSE(other.acquire(50ms));
  lock.release();
  CHECK(other.acquire(kPatience));
  other.release();
}

TEST_CASE("Lock.released_when_the_acquiring_task_throws" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"failing", client};  // kept by the client, captured by the task
  cask::Lock other{"failing", client};
  auto f = client.submit(cask::options{.pure = false}, [lock]() -> int {
    lock.acquire();
    throw MyError("failed while holding the lock", 3);
  });
  CHECK_THROWS_AS((void)f.result(kPatience), MyError);
  CHECK(other.acquire(kPatience));  // the failed task's lease came back
  CHECK(other.locked());
  other.release();
  CHECK_FALSE(lock.locked());
  // The handle that lived on works as before.
  CHECK(lock.acquire(kPatience));
  lock.release();
  // Also with a handle of the task's own, via get_client, and with retries left.
  auto g = client.submit(cask::options{.pure = false, .retries = 1}, []() -> int {
    cask::Client c = cask::get_client();
    cask::Lock inside{"failing", c};
    inside.acquire();
    throw MyError("again", 4);
  });
  CHECK_THROWS_AS((void)g.result(kPatience), MyError);  // both runs could take it
  CHECK(other.acquire(kPatience));
  other.release();
}

TEST_CASE("Lock.released_when_the_acquiring_task_is_cancelled" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"cancelled", client};
  cask::Lock other{"cancelled", client};
  auto holding = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto f = client.submit(cask::options{.pure = false}, [lock, holding, gate] {
    lock.acquire();
    holding->set();
    return gate->wait() ? 1 : -1;  // wakes when cancelled
  });
  REQUIRE(holding->wait_for());
  CHECK(other.locked());
  f.cancel();
  CHECK(other.acquire(kPatience));
  other.release();
  CHECK(lock.acquire(kPatience));
  lock.release();
  // Cancelled while waiting to acquire: it never gets the lock afterwards.
  other.acquire();
  auto entered = make_event();
  auto waiting = client.submit(cask::options{.pure = false}, [lock, entered] {
    entered->set();
    lock.acquire();
    return 1;
  });
  REQUIRE(entered->wait_for());
  REQUIRE(eventually([&] { return client.stats().slots_busy == 0; }));  // blocked in acquire
  waiting.cancel();
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  other.release();
  CHECK_FALSE(lock.locked());
  CHECK(lock.acquire(kPatience));
  lock.release();
}

TEST_CASE("Lock.failed_task_does_not_release_a_lock_it_no_longer_holds" * doctest::timeout(30)) {
  // The task acquires and releases through a copy of the client's handle; then the client
  // takes the lock through that handle; then the task fails. The task holds nothing when
  // it fails, so the client's hold must stay.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"passed-on", client};
  cask::Lock other{"passed-on", client};
  auto released = make_event();
  auto fail_now = make_event();
  OpenOnExit opener{fail_now};
  auto f = client.submit(cask::options{.pure = false}, [lock, released, fail_now]() -> int {
    lock.acquire();
    lock.release();
    released->set();
    fail_now->wait();
    throw MyError("failed after releasing", 5);
  });
  REQUIRE(released->wait_for());
  REQUIRE(lock.acquire(kPatience));  // the client's own acquisition
  fail_now->set();
  CHECK_THROWS_AS((void)f.result(kPatience), MyError);
  f = {};
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  CHECK(lock.locked());
  CHECK_FALSE(other.acquire(100ms));
  CHECK_NOTHROW(lock.release());
  CHECK(other.acquire(kPatience));
  other.release();
}

// --- contention ------------------------------------------------------------------------------

TEST_CASE("Lock.mutual_exclusion_under_contention" * doctest::timeout(60)) {
  cask::Client client{{.workers = 4, .threads_per_worker = 1}};
  auto counter = std::make_shared<int>(0);  // deliberately not atomic
  auto inside = std::make_shared<std::atomic<int>>(0);
  auto overlap = std::make_shared<std::atomic<bool>>(false);
  constexpr int kTasks = 8, kRounds = 100;
  auto fs = client.map(cask::options{.pure = false},
                       [counter, inside, overlap](int) {
                         cask::Lock lock{"counter"};  // each task its own handle
                         for (int i = 0; i < kRounds; ++i) {
                           std::lock_guard guard{lock};
                           if (inside->fetch_add(1) != 0) overlap->store(true);
                           const int v = *counter;
                           std::this_thread::yield();
                           *counter = v + 1;
                           inside->fetch_sub(1);
                         }
                         return 0;
                       },
                       std::views::iota(0, kTasks));
  // The client competes too.
  cask::Lock mine{"counter", client};
  for (int i = 0; i < kRounds; ++i) {
    std::lock_guard guard{mine};
    if (inside->fetch_add(1) != 0) overlap->store(true);
    const int v = *counter;
    std::this_thread::yield();
    *counter = v + 1;
    inside->fetch_sub(1);
  }
  for (auto& f : fs) REQUIRE(f.result(std::chrono::seconds(50)) == 0);
  CHECK_FALSE(overlap->load());
  CHECK(*counter == (kTasks + 1) * kRounds);
  CHECK_FALSE(mine.locked());
}

TEST_CASE("Lock.acquire_inside_task_hands_the_slot_back" * doctest::timeout(30)) {
  // One slot. The client holds the lock; task A blocks in acquire; task B (submitted after,
  // holding a copy of the client's handle) releases it; A gets it and finishes.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock held{"handback", client};
  held.acquire();
  auto started = make_event();
  auto a = client.submit(cask::options{.pure = false}, [started] {
    cask::Lock mine{"handback"};
    started->set();
    mine.acquire();
    mine.release();
    return 1;
  });
  REQUIRE(started->wait_for());
  auto b = client.submit(cask::options{.pure = false}, [held] {
    held.release();
    return 2;
  });
  CHECK(b.result(kPatience) == 2);
  CHECK(a.result(kPatience) == 1);
  CHECK_FALSE(held.locked());
  // Task to task: A holds it and waits for an event, B blocks in acquire, then both finish.
  auto go = cask::Event{"go", client};
  auto a_holds = make_event();
  auto a2 = client.submit(cask::options{.pure = false}, [a_holds] {
    cask::Lock mine{"handback"};
    std::lock_guard guard{mine};
    a_holds->set();
    cask::Event{"go"}.wait();
    return 1;
  });
  REQUIRE(a_holds->wait_for());
  auto b2 = client.submit(cask::options{.pure = false}, [] {
    cask::Lock mine{"handback"};
    std::lock_guard guard{mine};
    return 2;
  });
  CHECK_THROWS_AS((void)b2.result(100ms), cask::TimeoutError);
  go.set();
  CHECK(a2.result(kPatience) == 1);
  CHECK(b2.result(kPatience) == 2);
  CHECK_FALSE(held.locked());
}

// --- retirement --------------------------------------------------------------------------------

TEST_CASE("Lock.retired_when_free_and_without_handles" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  REQUIRE(objects(client) == 0);
  {
    cask::Lock a{"r1", client};
    cask::Lock b{"r2", client};
    a.acquire();
    CHECK(eventually([&] { return objects(client) == 2; }));
  }  // a was held by its (now dead) handle: released, then retired
  CHECK(eventually([&] { return objects(client) == 0; }));
  {
    std::vector<cask::Lock> many;
    for (int i = 0; i < 300; ++i) many.emplace_back("many-" + std::to_string(i), client);
    for (int i = 0; i < 300; i += 2) many[i].acquire();
    CHECK(eventually([&] { return objects(client) == 300; }));
    for (int i = 0; i < 300; i += 4) many[i].release();
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  // A retired lock's name opens as a free lock.
  cask::Lock again{"r1", client};
  CHECK_FALSE(again.locked());
  CHECK(again.acquire(0ms));
  again.release();
}

TEST_CASE("Lock.handles_opened_and_dropped_in_a_loop" * doctest::timeout(30)) {
  // Each new handle (often at the address of the previous one) must find the lock free:
  // the previous holder's end is seen before the new handle's acquire.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock watcher{"loop", client};
  bool all_acquired = true;
  for (int i = 0; i < 500; ++i) {
    cask::Lock lock{"loop", client};
    if (!lock.acquire(kPatience)) all_acquired = false;
  }
  CHECK(all_acquired);
  CHECK_FALSE(watcher.locked());
  // The same from two threads at once: the lock passes between short-lived handles.
  auto counter = std::make_shared<int>(0);
  auto body = [&client, counter] {
    for (int i = 0; i < 200; ++i) {
      cask::Lock lock{"loop", client};
      std::lock_guard guard{lock};
      const int v = *counter;
      std::this_thread::yield();
      *counter = v + 1;
    }
  };
  std::thread a(body), b(body);
  a.join();
  b.join();
  CHECK(*counter == 400);
  CHECK_FALSE(watcher.locked());
}

TEST_CASE("Lock.blocked_acquire_fails_when_the_client_is_destroyed" * doctest::timeout(30)) {
  std::optional<cask::Client> client;
  client.emplace(cask::ClientOptions{.workers = 1, .threads_per_worker = 1});
  cask::Lock holder{"closing", *client};
  cask::Lock waiter{"closing", *client};
  holder.acquire();
  InBackground<bool> waiting([waiter] { waiter.acquire(); return true; });
  CHECK_FALSE(waiting.wait_for(100ms));
  client.reset();
  REQUIRE(waiting.wait_for());
  CHECK_THROWS_AS((void)waiting.get(), cask::CommError);
  CHECK_THROWS_AS(holder.release(), cask::CommError);
  CHECK_THROWS_AS((void)holder.locked(), cask::CommError);
}
