// Reference-counted lifecycle: copies share a reference, the last handle releases the
// task (and cancels unfinished work), fire_and_forget keeps work alive.
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {

bool cluster_is_empty(cask::Client& client) {
  auto s = client.stats();
  return s.tasks() == 0 && s.future_actors == 0;
}

}  // namespace

TEST_CASE("Lifecycle.finished_task_released_with_last_handle" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  {
    auto f = client.submit(slow, 1);
    CHECK(f.result() == 3);
    CHECK(eventually([&] {
      auto s = client.stats();
      return s.finished == 1 && s.future_actors == 1;
    }));
  }
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("Lifecycle.erred_task_released_with_last_handle" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  {
    auto f = client.submit(fails_with_my_error, 1);
    CHECK_THROWS_AS((void)f.result(), MyError);
    CHECK(eventually([&] { return client.stats().erred == 1; }));
  }
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("Lifecycle.many_released_futures_leave_nothing" * doctest::timeout(15)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  {
    std::vector<int> xs(500);
    for (int i = 0; i < 500; ++i) xs[i] = i;
    auto fs = client.map(slow, xs);
    auto total = client.submit(sum, fs);
    CHECK(total.result() == 3 * 499 * 500 / 2);
  }
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("Lifecycle.dropped_running_task_gets_stop_requested" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto stopped = make_event();
  {
    auto f = client.submit([started, stopped] {
      started->set();
      if (!cask::this_task::sleep_for(30s) && cask::this_task::stop_requested()) stopped->set();
      return 0;
    });
    REQUIRE(started->wait_for());
  }  // last handle dropped while running
  CHECK(stopped->wait_for());
  CHECK(eventually([&] { return cluster_is_empty(client); }));
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
}

TEST_CASE("Lifecycle.dropped_queued_task_never_runs" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto blocker = client.submit([started, gate] { started->set(); gate->wait(); return 1; });
  REQUIRE(started->wait_for());
  {
    auto dropped = client.submit([runs] { return runs->fetch_add(1); });
  }
  gate->set();
  CHECK(blocker.result() == 1);
  auto later = client.submit([runs] { return runs->load(); });  // queued after `dropped`
  CHECK(later.result() == 0);
  CHECK(runs->load() == 0);
}

TEST_CASE("Lifecycle.dropped_waiting_task_is_released" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto input = client.submit([started, gate] { started->set(); gate->wait(); return 1; });
  REQUIRE(started->wait_for());
  {
    auto dependent = client.submit([runs](int x) { runs->fetch_add(1); return x; }, input);
    CHECK(eventually([&] { return client.stats().waiting == 1; }));
  }
  CHECK(eventually([&] { return client.stats().waiting == 0; }));
  gate->set();
  CHECK(input.result() == 1);
  auto later = client.submit([runs] { return runs->load(); });
  CHECK(later.result() == 0);
  input = {};
  later = {};
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("Lifecycle.copies_share_one_reference" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto stopped = std::make_shared<std::atomic<bool>>(false);
  cask::Future<int> original = client.submit([started, gate, stopped] {
    started->set();
    const bool opened = gate->wait();
    stopped->store(cask::this_task::stop_requested());
    return opened ? 8 : -1;
  });
  cask::Future<int> copy = original;
  REQUIRE(started->wait_for());
  original = {};  // one copy gone, one left: nothing is released
  gate->set();
  CHECK(copy.result() == 8);
  CHECK_FALSE(stopped->load());
  CHECK(eventually([&] { return client.stats().finished == 1; }));
  copy = {};
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("Lifecycle.same_key_handles_each_hold_a_reference" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto body = [started, gate] { started->set(); return gate->wait() ? 2 : -1; };
  cask::Future<int> first = client.submit(cask::options{.key = "held"}, body);
  cask::Future<int> second = client.submit(cask::options{.key = "held"}, body);
  REQUIRE(started->wait_for());
  first = {};  // the other handle still wants it
  gate->set();
  CHECK(second.result() == 2);
  second = {};
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("Lifecycle.cancelled_task_released_with_last_handle" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto f = client.submit([started, gate] { started->set(); gate->wait(); return 1; });
  REQUIRE(started->wait_for());
  f.cancel();
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  f = {};
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("FireAndForget.running_task_completes_without_handles" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  auto completed = make_event();
  OpenOnExit opener{gate};
  auto stopped = std::make_shared<std::atomic<bool>>(false);
  {
    auto f = client.submit([started, gate, completed, stopped] {
      started->set();
      const bool opened = gate->wait();
      stopped->store(cask::this_task::stop_requested());
      if (opened) completed->set();
      return 0;
    });
    REQUIRE(started->wait_for());
    cask::fire_and_forget(f);
  }  // every handle gone
  gate->set();
  CHECK(completed->wait_for());
  CHECK_FALSE(stopped->load());
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("FireAndForget.temporary_future_runs" * doctest::timeout(10)) {
  // DESIGN.md's own usage: the future is a temporary, gone right after the call.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto ran = make_event();
  cask::fire_and_forget(client.submit([ran] { ran->set(); return 0; }));
  CHECK(ran->wait_for());
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("FireAndForget.queued_task_runs_without_handles" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto all_ran = make_event();
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto blocker = client.submit([started, gate] { started->set(); gate->wait(); return 0; });
  REQUIRE(started->wait_for());
  {
    std::vector<cask::Future<int>> fs;
    for (int i = 0; i < 5; ++i)
      fs.push_back(client.submit([all_ran, runs, i] {
        if (runs->fetch_add(1) == 4) all_ran->set();
        return i;
      }));
    cask::fire_and_forget(fs);
  }
  gate->set();
  CHECK(all_ran->wait_for());
  CHECK(runs->load() == 5);
  blocker = {};
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("FireAndForget.dependency_chain_runs_without_handles" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto seen = std::make_shared<std::atomic<int>>(0);
  auto done = make_event();
  {
    auto input = client.submit([gate] { gate->wait(); return 20; });
    auto last = client.submit([seen, done](int x) { seen->store(x); done->set(); return x; }, input);
    cask::fire_and_forget(last);
  }
  gate->set();
  REQUIRE(done->wait_for());
  CHECK(seen->load() == 20);
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}

TEST_CASE("FireAndForget.client_destructor_waits_for_it" * doctest::timeout(15)) {
  // Two fire-and-forget tasks on one slot: the first sleeps cooperatively (it would be
  // woken early if cancelled), the second is still queued when the client is destroyed.
  auto first_full = std::make_shared<std::atomic<bool>>(false);
  auto second_ran = std::make_shared<std::atomic<bool>>(false);
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    auto first = client.submit([first_full] { first_full->store(cask::this_task::sleep_for(200ms)); return 1; });
    auto second = client.submit([second_ran] { second_ran->store(true); return 2; });
    cask::fire_and_forget(first);
    cask::fire_and_forget(second);
  }
  CHECK(first_full->load());
  CHECK(second_ran->load());
}

TEST_CASE("FireAndForget.finished_future_is_no_op" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  {
    auto f = client.submit(slow, 1);
    CHECK(f.result() == 3);
    cask::fire_and_forget(f);
    CHECK(f.result() == 3);
  }
  CHECK(eventually([&] { return cluster_is_empty(client); }));
}
