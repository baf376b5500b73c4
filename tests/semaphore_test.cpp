// cask::Semaphore: a named cluster-wide limit on concurrent leases. At most max leases at
// once (and max is reached), timed acquire, several leases per handle, get_value, release
// without a lease is an error, the maximum is checked (0, another max for an existing
// name), leases of a dead handle or a failed task come back, blocking inside a task hands
// the slot back, retirement.
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Semaphore.at_most_max_leases_at_once_and_max_is_reached" * doctest::timeout(60)) {
  cask::Client client{{.workers = 6, .threads_per_worker = 1}};
  constexpr std::size_t kMax = 3;
  constexpr int kTasks = 12;
  cask::Semaphore sem{"limited", kMax, client};
  auto current = std::make_shared<std::atomic<int>>(0);
  auto highest = std::make_shared<std::atomic<int>>(0);
  auto full = make_event();  // set once kMax holders are inside at the same time
  auto fs = client.map(cask::options{.pure = false},
                       [current, highest, full](int) {
                         cask::Semaphore s{"limited", kMax};
                         std::lock_guard lease{s};
                         const int now = current->fetch_add(1) + 1;
                         int seen = highest->load();
                         while (now > seen && !highest->compare_exchange_weak(seen, now)) {
                         }
                         if (now == static_cast<int>(kMax)) full->set();
                         // The first holders stay until kMax are in (bounded: a broken
                         // semaphore that admits fewer fails below instead of hanging).
                         const bool was_full = full->wait_for(kPatience);
                         std::this_thread::yield();
                         current->fetch_sub(1);
                         return was_full ? 1 : 0;
                       },
                       std::views::iota(0, kTasks));
  int all_saw_full = 0;
  for (auto& f : fs) all_saw_full += f.result(std::chrono::seconds(30));
  CHECK(highest->load() <= static_cast<int>(kMax));
  CHECK(highest->load() == static_cast<int>(kMax));
  CHECK(all_saw_full == kTasks);
  CHECK(sem.get_value() == 0);
}

TEST_CASE("Semaphore.timed_acquire_false_when_full" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Semaphore a{"pair", 2, client};
  cask::Semaphore b{"pair", 2, client};
  CHECK(a.max_leases() == 2);
  CHECK(a.name() == "pair");
  CHECK(a.acquire(kPatience));
  CHECK(b.acquire(0ms));
  CHECK(a.get_value() == 2);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(b.acquire(50ms));
  CHECK(since(t0) >= 50ms);
  CHECK_FALSE(a.try_lock());
  CHECK(b.get_value() == 2);  // the timed-out ones took nothing
  InBackground<bool> waiting([b] { return b.acquire(std::chrono::seconds(30)); });
  CHECK_FALSE(waiting.wait_for(100ms));
  a.release();
  CHECK(waiting.get());
  CHECK(a.get_value() == 2);
  b.release();
  b.release();
  CHECK(a.get_value() == 0);
}

TEST_CASE("Semaphore.a_handle_may_hold_several_leases" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Semaphore s{"several", 3, client};
  cask::Semaphore other{"several", 3, client};
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

TEST_CASE("Semaphore.release_without_a_lease_throws_and_it_keeps_working" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Semaphore s{"strict", 1, client};
  cask::Semaphore holder{"strict", 1, client};
  CHECK_THROWS_AS(s.release(), cask::Error);
  CHECK(s.get_value() == 0);
  holder.acquire();
  CHECK_THROWS_AS(s.release(), cask::Error);
  CHECK(s.get_value() == 1);
  CHECK_FALSE(s.acquire(20ms));
  holder.release();
  CHECK(s.acquire(kPatience));
  s.release();
  CHECK(s.get_value() == 0);
  auto f = client.submit(cask::options{.pure = false}, [] {
    try {
      cask::Semaphore{"strict", 1}.release();
      return 0;
    } catch (const cask::Error&) {
      return 1;
    }
  });
  CHECK(f.result(kPatience) == 1);
}

TEST_CASE("Semaphore.max_is_checked" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  CHECK_THROWS_AS((cask::Semaphore{"zero", 0, client}), cask::Error);
  cask::Semaphore two{"sized", 2, client};
  CHECK_THROWS_WITH_AS((cask::Semaphore{"sized", 3, client}), doctest::Contains("sized"), cask::Error);
  CHECK_THROWS_AS((cask::Semaphore{"sized", 1}), cask::Error);
  CHECK_THROWS_AS((cask::Semaphore{"sized", 0, client}), cask::Error);
  auto f = client.submit(cask::options{.pure = false}, [] {
    try {
      cask::Semaphore s{"sized", 5};
      return 0;
    } catch (const cask::Error&) {
      return 1;
    }
  });
  CHECK(f.result(kPatience) == 1);
  // The same maximum opens the same semaphore; the first handle is unharmed.
  cask::Semaphore same{"sized", 2, client};
  CHECK(two.acquire(kPatience));
  CHECK(same.acquire(kPatience));
  CHECK(two.get_value() == 2);
  CHECK_FALSE(two.acquire(20ms));
  two.release();
  same.release();
}

TEST_CASE("Semaphore.leases_of_a_destroyed_handle_come_back" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Semaphore watcher{"dropped", 2, client};
  {
    cask::Semaphore holder{"dropped", 2, client};
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
  auto f = client.submit(cask::options{.pure = false}, [] {
    cask::Semaphore inside{"dropped", 2};
    inside.acquire();
    return static_cast<int>(inside.get_value());
  });
  CHECK(f.result(kPatience) == 1);
  CHECK(eventually([&] { return watcher.get_value() == 0; }));
}

TEST_CASE("Semaphore.leases_of_a_failed_task_come_back" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Semaphore sem{"failing", 2, client};  // kept by the client, captured by the tasks
  auto thrower = client.submit(cask::options{.pure = false}, [sem]() -> int {
    sem.acquire();
    sem.acquire();
    throw MyError("failed holding two leases", 1);
  });
  CHECK_THROWS_AS((void)thrower.result(kPatience), MyError);
  CHECK(eventually([&] { return sem.get_value() == 0; }));
  cask::Semaphore other{"failing", 2, client};
  CHECK(other.acquire(kPatience));
  CHECK(other.acquire(kPatience));
  other.release();
  other.release();
  // Cancelled while holding.
  auto holding = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto cancelled = client.submit(cask::options{.pure = false}, [sem, holding, gate] {
    sem.acquire();
    holding->set();
    return gate->wait() ? 1 : -1;
  });
  REQUIRE(holding->wait_for());
  CHECK(sem.get_value() == 1);
  cancelled.cancel();
  CHECK(eventually([&] { return sem.get_value() == 0; }));
  CHECK(other.acquire(kPatience));
  CHECK(other.acquire(kPatience));
  other.release();
  other.release();
  // The client's handle keeps working.
  CHECK(sem.acquire(kPatience));
  sem.release();
}

TEST_CASE("Semaphore.failed_task_gives_back_only_the_leases_it_took" * doctest::timeout(30)) {
  // The client's handle holds a lease it took itself; a task using a copy of that handle
  // takes one more and fails: only the task's lease comes back.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Semaphore sem{"mine", 3, client};
  cask::Semaphore watcher{"mine", 3, client};
  sem.acquire();  // the client's own lease
  auto f = client.submit(cask::options{.pure = false}, [sem]() -> int {
    sem.acquire();
    throw MyError("failed holding one lease", 2);
  });
  CHECK_THROWS_AS((void)f.result(kPatience), MyError);
  // Bounded wait for the failed task's lease to come back (2 -> 1), then it must stay 1.
  CHECK(eventually([&] { return watcher.get_value() <= 1; }));
  CHECK(watcher.get_value() == 1);
  CHECK_NOTHROW(sem.release());  // the client still holds the lease it took
  CHECK(watcher.get_value() == 0);
  // A task that takes two, gives one back and fails returns the other one only.
  sem.acquire();
  auto g = client.submit(cask::options{.pure = false}, [sem]() -> int {
    sem.acquire();
    sem.acquire();
    sem.release();
    throw MyError("failed holding one of two", 3);
  });
  CHECK_THROWS_AS((void)g.result(kPatience), MyError);
  CHECK(eventually([&] { return watcher.get_value() <= 1; }));
  CHECK(watcher.get_value() == 1);
  CHECK_NOTHROW(sem.release());
  CHECK(watcher.get_value() == 0);
}

TEST_CASE("Semaphore.acquire_inside_task_hands_the_slot_back" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Semaphore held{"handback", 1, client};
  held.acquire();
  auto started = make_event();
  auto a = client.submit(cask::options{.pure = false}, [started] {
    cask::Semaphore mine{"handback", 1};
    started->set();
    std::lock_guard lease{mine};
    return 1;
  });
  REQUIRE(started->wait_for());
  auto b = client.submit(cask::options{.pure = false}, [held] {
    held.release();
    return 2;
  });
  CHECK(b.result(kPatience) == 2);
  CHECK(a.result(kPatience) == 1);
  CHECK(eventually([&] { return held.get_value() == 0; }));
}

TEST_CASE("Semaphore.retired_when_free_and_without_handles" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  REQUIRE(objects(client) == 0);
  {
    cask::Semaphore a{"r", 2, client};
    a.acquire();
    cask::Semaphore b{"r", 2, client};
    CHECK(eventually([&] { return objects(client) == 1; }));
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  // Retired: the name opens afresh, with any maximum.
  cask::Semaphore again{"r", 5, client};
  CHECK(again.get_value() == 0);
  CHECK(again.max_leases() == 5);
}
