// cask::Event: a named cluster-wide flag. set/clear/is_set, wait and timed wait, a set
// wakes every waiter (tasks and threads), wait after set returns at once, clear makes
// waits block again, one object per name from client and tasks, waiting inside a task
// hands the slot back, retirement (a set event outlives its handles until cleared).
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Event.set_clear_and_is_set" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Event e{"flag", client};
  CHECK(e.name() == "flag");
  CHECK_FALSE(e.is_set());
  e.set();
  CHECK(e.is_set());
  e.set();  // idempotent
  CHECK(e.is_set());
  cask::Event same{"flag", client};
  CHECK(same.is_set());
  same.clear();
  CHECK_FALSE(e.is_set());
  e.clear();  // idempotent
  CHECK_FALSE(e.is_set());
}

TEST_CASE("Event.wait_after_set_returns_at_once" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Event e{"ready", client};
  e.set();
  const auto t0 = std::chrono::steady_clock::now();
  e.wait();
  CHECK(e.wait(0ms));
  CHECK(e.wait(kPatience));
  CHECK(since(t0) < std::chrono::seconds(2));
  CHECK(e.is_set());  // waiting does not consume it
  auto f = client.submit(cask::options{.pure = false}, [] {
    cask::Event{"ready"}.wait();
    return cask::Event{"ready"}.wait(0ms) ? 1 : 0;
  });
  CHECK(f.result(kPatience) == 1);
}

TEST_CASE("Event.timed_wait_false_when_not_set_and_after_clear" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Event e{"not-yet", client};
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(e.wait(50ms));
  CHECK(since(t0) >= 50ms);
  CHECK_FALSE(e.wait(0ms));
  e.set();
  CHECK(e.wait(0ms));
  e.clear();
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(e.wait(50ms));
  CHECK(since(t0) >= 50ms);
  CHECK_FALSE(e.is_set());
}

TEST_CASE("Event.timed_wait_true_when_set_meanwhile" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Event e{"meanwhile", client};
  InBackground<bool> waiting([e] { return e.wait(std::chrono::seconds(30)); });
  CHECK_FALSE(waiting.wait_for(100ms));
  cask::Event{"meanwhile", client}.set();
  CHECK(waiting.get());
}

TEST_CASE("Event.set_wakes_every_waiter" * doctest::timeout(30)) {
  // Waiting tasks (on one slot: each gives it back while it waits) and client threads.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  constexpr int kTasks = 5;
  auto started = std::make_shared<std::atomic<int>>(0);
  auto fs = client.map(cask::options{.pure = false},
                       [started](int i) {
                         cask::Event e{"go"};
                         started->fetch_add(1);
                         e.wait();
                         return i;
                       },
                       std::views::iota(0, kTasks));
  cask::Event e{"go", client};
  InBackground<bool> thread_a([e] { e.wait(); return true; });
  InBackground<bool> thread_b([e] { return e.wait(std::chrono::seconds(30)); });
  // Every task started, i.e. all five got the single slot in turn: each handed it back.
  REQUIRE(eventually([&] { return started->load() == kTasks; }));
  REQUIRE(eventually([&] { return client.stats().slots_busy == 0; }));
  for (auto& f : fs) CHECK_FALSE(f.done());
  CHECK_FALSE(thread_a.finished());
  e.set();
  for (int i = 0; i < kTasks; ++i) CHECK(fs[i].result(kPatience) == i);
  CHECK(thread_a.get());
  CHECK(thread_b.get());
}

TEST_CASE("Event.clear_makes_waits_block_again" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Event e{"cycle", client};
  for (int round = 0; round < 3; ++round) {
    InBackground<bool> waiting([e] { return e.wait(std::chrono::seconds(30)); });
    CHECK_FALSE(waiting.wait_for(50ms));
    e.set();
    CHECK(waiting.get());
    e.clear();
    CHECK_FALSE(e.wait(10ms));
  }
}

TEST_CASE("Event.same_name_is_the_same_event_from_client_and_tasks" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Event e{"shared", client};
  auto setter = client.submit(cask::options{.pure = false}, [] {
    cask::Client c = cask::get_client();
    cask::Event{"shared", c}.set();
    return 0;
  });
  REQUIRE(setter.result(kPatience) == 0);
  CHECK(e.is_set());
  auto reader = client.submit(cask::options{.pure = false}, [] { return cask::Event{"shared"}.is_set() ? 1 : 0; });
  CHECK(reader.result(kPatience) == 1);
  auto clearer = client.submit(cask::options{.pure = false}, [e] { e.clear(); return 0; });
  REQUIRE(clearer.result(kPatience) == 0);
  CHECK_FALSE(e.is_set());
  // Another cluster's event of that name is another event.
  cask::Client other{{.workers = 1, .threads_per_worker = 1}};
  cask::Event elsewhere{"shared", other};
  elsewhere.set();
  CHECK_FALSE(e.is_set());
}

TEST_CASE("Event.wait_inside_task_hands_the_slot_back" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto waiter = client.submit(cask::options{.pure = false}, [started] {
    cask::Event e{"handback"};
    started->set();
    e.wait();
    return 1;
  });
  REQUIRE(started->wait_for());
  auto setter = client.submit(cask::options{.pure = false}, [] {
    cask::Event{"handback"}.set();
    return 2;
  });
  CHECK(setter.result(kPatience) == 2);
  CHECK(waiter.result(kPatience) == 1);
  // Timed wait inside a task: false in time, then true once set by a later task.
  cask::Event{"handback", client}.clear();
  auto timed = client.submit(cask::options{.pure = false}, [] {
    cask::Event e{"handback"};
    const bool first = e.wait(20ms);
    const bool second = e.wait(std::chrono::seconds(30));
    return (first ? 10 : 0) + (second ? 1 : 0);
  });
  CHECK_THROWS_AS((void)timed.result(100ms), cask::TimeoutError);
  auto setter2 = client.submit(cask::options{.pure = false}, [] {
    cask::Event{"handback"}.set();
    return 2;
  });
  CHECK(setter2.result(kPatience) == 2);
  CHECK(timed.result(kPatience) == 1);
}

TEST_CASE("Event.cancelling_a_task_blocked_in_wait_wakes_it" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto woke_cancelled = make_event();
  auto f = client.submit(cask::options{.pure = false}, [started, woke_cancelled] {
    cask::Event e{"never"};
    started->set();
    try {
      e.wait();
      return 1;
    } catch (const cask::CancelledError&) {
      woke_cancelled->set();
      throw;
    }
  });
  REQUIRE(started->wait_for());
  REQUIRE(eventually([&] { return client.stats().slots_busy == 0; }));
  f.cancel();
  CHECK(woke_cancelled->wait_for());
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
}

TEST_CASE("Event.set_event_outlives_its_handles_until_cleared" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  REQUIRE(objects(client) == 0);
  {
    cask::Event set{"set", client};
    set.set();
    cask::Event cleared{"cleared", client};
    cleared.set();
    cleared.clear();
    CHECK(eventually([&] { return objects(client) == 2; }));
  }
  CHECK(eventually([&] { return objects(client) == 1; }));
  {
    cask::Event again{"set", client};
    CHECK(again.is_set());
    CHECK(again.wait(0ms));
    again.clear();
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  cask::Event fresh{"set", client};
  CHECK_FALSE(fresh.is_set());
}
