// cask::Variable<T>: a named cluster-wide value. set/get/get(timeout)/erase, get waits
// for the first set, one object per name from client and tasks, type checks, a held
// future stays alive (and is released by erase), blocking inside a task hands the slot
// back, cancellation wakes a blocked get, retirement (a set variable outlives its handles).
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Variable.set_then_get_returns_the_latest_value" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Variable<int> v{"v", client};
  CHECK(v.name() == "v");
  v.set(1);
  CHECK(v.get() == 1);
  CHECK(v.get(kPatience) == 1);
  CHECK(v.get() == 1);  // get does not take the value away
  v.set(2);
  CHECK(v.get() == 2);
  cask::Variable<std::string> s{"s", client};
  s.set("text");
  CHECK(s.get(0ms) == "text");
}

TEST_CASE("Variable.get_timeout_throws_when_never_set" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Variable<int> v{"unset", client};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)v.get(50ms), cask::TimeoutError);
  CHECK(since(t0) >= 50ms);
  CHECK_THROWS_AS((void)v.get(0ms), cask::TimeoutError);
  // Timed-out gets leave nothing behind that would interfere with a later set/get.
  v.set(3);
  CHECK(v.get(kPatience) == 3);
}

TEST_CASE("Variable.erase_returns_it_to_unset" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Variable<int> v{"erased", client};
  v.set(5);
  CHECK(v.get(kPatience) == 5);
  v.erase();
  CHECK_THROWS_AS((void)v.get(50ms), cask::TimeoutError);
  cask::Variable<int> other{"erased", client};
  CHECK_THROWS_AS((void)other.get(20ms), cask::TimeoutError);
  other.set(6);
  CHECK(v.get(kPatience) == 6);
  v.erase();
  v.erase();  // erasing an unset variable is harmless
  CHECK_THROWS_AS((void)v.get(20ms), cask::TimeoutError);
}

TEST_CASE("Variable.get_waits_for_the_first_set" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Variable<int> v{"later", client};
  InBackground<int> waiting([v] { return v.get(); });
  InBackground<int> timed([v] { return v.get(std::chrono::seconds(30)); });
  CHECK_FALSE(waiting.wait_for(200ms));  // still unset: still waiting
  CHECK_FALSE(timed.finished());
  // Set by a task, once the test says so.
  auto go = make_event();
  auto setter = client.submit(cask::options{.pure = false}, [go] {
    if (!go->wait()) return -1;
    cask::Variable<int>{"later"}.set(17);
    return 0;
  });
  CHECK_FALSE(waiting.finished());
  go->set();
  CHECK(setter.result(kPatience) == 0);
  CHECK(waiting.get() == 17);
  CHECK(timed.get() == 17);
  CHECK(v.get(0ms) == 17);
}

TEST_CASE("Variable.same_name_is_the_same_variable_from_client_and_tasks" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Variable<int> a{"shared", client};
  cask::Variable<int> b{"shared"};
  a.set(1);
  CHECK(b.get(kPatience) == 1);
  auto reader = client.submit(cask::options{.pure = false}, [] { return cask::Variable<int>{"shared"}.get(); });
  CHECK(reader.result(kPatience) == 1);
  auto writer = client.submit(cask::options{.pure = false}, [] {
    cask::Client c = cask::get_client();
    cask::Variable<int>{"shared", c}.set(2);
    return 0;
  });
  REQUIRE(writer.result(kPatience) == 0);
  CHECK(a.get(kPatience) == 2);
  auto eraser = client.submit(cask::options{.pure = false}, [a] { a.erase(); return 0; });
  REQUIRE(eraser.result(kPatience) == 0);
  CHECK_THROWS_AS((void)b.get(20ms), cask::TimeoutError);
}

TEST_CASE("Variable.wrong_value_type_throws_and_first_handle_keeps_working" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Variable<int> a{"typed-variable", client};
  a.set(4);
  CHECK_THROWS_WITH_AS((cask::Variable<std::string>{"typed-variable", client}),
                       doctest::Contains("typed-variable"), cask::Error);
  CHECK_THROWS_AS((cask::Variable<double>{"typed-variable"}), cask::Error);
  // Another kind with that name is unrelated.
  cask::Queue<std::string> q{"typed-variable", client};
  q.put("fine");
  CHECK(q.get(kPatience) == "fine");
  CHECK(a.get(kPatience) == 4);
  a.set(5);
  CHECK(cask::Variable<int>{"typed-variable", client}.get(kPatience) == 5);
}

TEST_CASE("Variable.holding_a_future_keeps_it_alive_until_erased" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Variable<cask::Future<int>> v{"future", client};
  Gate gate;
  OpenOnExit opener{gate.open};
  {
    auto f = client.submit(gate.task(8));
    REQUIRE(gate.started->wait_for());
    v.set(f);
  }  // only the variable holds it now
  CHECK_FALSE(gate.left->wait_for(200ms));  // not released: not asked to stop
  gate.open->set();
  cask::Future<int> back = v.get(kPatience);
  CHECK(back.result(kPatience) == 8);
  CHECK_FALSE(gate.stop_seen->load());
  back = {};
  // A finished future held only by the variable keeps its value.
  {
    auto g = client.submit(cask::options{.pure = false}, slow, 7);
    REQUIRE(g.result(kPatience) == 21);
    v.set(g);  // replaces the first: that one is released
  }
  CHECK(eventually([&] { return client.stats().tasks() == 1; }));
  CHECK(v.get(kPatience).result(kPatience) == 21);
  v.erase();
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
}

TEST_CASE("Variable.erase_releases_a_held_running_future" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Variable<cask::Future<int>> v{"released", client};
  Gate gate;
  OpenOnExit opener{gate.open};
  {
    auto f = client.submit(gate.task(1));
    REQUIRE(gate.started->wait_for());
    v.set(f);
  }
  v.erase();  // the last reference: the running task is asked to stop
  CHECK(gate.left->wait_for());
  CHECK(gate.stop_seen->load());
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
}

TEST_CASE("Variable.get_inside_task_hands_the_slot_back" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto getter = client.submit(cask::options{.pure = false}, [started] {
    cask::Variable<int> v{"handback"};
    started->set();
    return v.get() * 2;
  });
  REQUIRE(started->wait_for());
  auto setter = client.submit(cask::options{.pure = false}, [] {
    cask::Variable<int>{"handback"}.set(21);
    return 0;
  });
  CHECK(setter.result(kPatience) == 0);
  CHECK(getter.result(kPatience) == 42);
}

TEST_CASE("Variable.cancelling_a_task_blocked_in_get_wakes_it" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Variable<int> v{"cancel", client};
  auto started = make_event();
  auto woke_cancelled = make_event();
  auto f = client.submit(cask::options{.pure = false}, [v, started, woke_cancelled] {
    started->set();
    try {
      return v.get();
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
  v.set(3);
  CHECK(v.get(kPatience) == 3);
}

TEST_CASE("Variable.set_variable_outlives_its_handles_until_erased" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  REQUIRE(objects(client) == 0);
  {
    cask::Variable<int> kept{"kept", client};
    kept.set(10);
    cask::Variable<int> unset{"unset", client};
    CHECK(eventually([&] { return objects(client) == 2; }));
  }
  CHECK(eventually([&] { return objects(client) == 1; }));  // the unset one goes
  {
    cask::Variable<int> again{"kept", client};
    CHECK(again.get(kPatience) == 10);
    again.erase();
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  // Set then erased while handles live: retired with the last handle.
  {
    cask::Variable<int> v{"brief", client};
    v.set(1);
    v.erase();
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  // Set from a task that ended: still there for the client.
  auto f = client.submit(cask::options{.pure = false}, [] {
    cask::Variable<int>{"from-task"}.set(12);
    return 0;
  });
  REQUIRE(f.result(kPatience) == 0);
  f = {};
  CHECK(eventually([&] { return objects(client) == 1; }));
  CHECK(cask::Variable<int>{"from-task", client}.get(kPatience) == 12);
}

TEST_CASE("Variable.concurrent_setters_and_readers" * doctest::timeout(60)) {
  // Tasks set increasing values while the client reads: every read is a value some task
  // set, and the last one wins once they are done.
  cask::Client client{{.workers = 4, .threads_per_worker = 1}};
  cask::Variable<int> v{"racy", client};
  v.set(0);
  auto fs = client.map(cask::options{.pure = false},
                       [](int t) {
                         cask::Variable<int> w{"racy"};
                         for (int i = 1; i <= 200; ++i) w.set(t * 1000 + i);
                         return t;
                       },
                       std::vector{1, 2, 3});
  bool valid = true;
  for (int i = 0; i < 300; ++i) {
    const int x = v.get(kPatience);
    if (!(x == 0 || (x / 1000 >= 1 && x / 1000 <= 3 && x % 1000 >= 1 && x % 1000 <= 200))) valid = false;
  }
  CHECK(valid);
  for (auto& f : fs) REQUIRE(f.result(kPatience) > 0);
  const int last = v.get(kPatience);
  CHECK(last % 1000 == 200);
}
