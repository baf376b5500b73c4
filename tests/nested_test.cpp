// Nested submission: get_client() inside and outside tasks; submit, map, wait,
// as_completed and result inside tasks; futures returned from and passed between tasks;
// blocking inside a task hands the slot back (fib(20) and 1,000 parents on one slot);
// secede/rejoin; cancelling a parent cancels its unheld children; waiting on oneself.
#include <cstdint>
#include <numeric>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

// Free functions (external linkage: their keys carry their names).

/// Fibonacci that submits both children (fresh keys) and blocks on them.
int nested_fib(int n) {
  if (n < 2) return n;
  cask::Client client = cask::get_client();
  auto a = client.submit(cask::options{.pure = false}, nested_fib, n - 1);
  auto b = client.submit(cask::options{.pure = false}, nested_fib, n - 2);
  return a.result() + b.result();
}

/// Submits one child and waits for it.
int submit_one_child(int x) {
  return cask::get_client().submit(cask::options{.pure = false}, slow, x).result() + 1;
}

/// Example 6-10: maps children and sums them through as_completed.
int nested_sum(int x) {
  cask::Client client = cask::get_client();
  std::vector<cask::Future<int>> futures = client.map(slow, std::views::iota(0, x));
  int r = 0;
  for (auto& f : cask::as_completed(futures)) r += f.result();
  return r;
}

/// A pure task that submits itself with the same arguments: the same key, its own future.
int waits_for_own_key(int x) { return cask::get_client().submit(waits_for_own_key, x).result(); }

namespace {

using Futures = std::vector<cask::Future<int>>;

std::uintptr_t id_of(const cask::Client& c) { return reinterpret_cast<std::uintptr_t>(c.state().get()); }

/// Sets an event when it goes out of scope (a task's body has been left).
struct SetOnExit {
  EventPtr event;
  ~SetOnExit() { event->set(); }
};

enum class BlockMode { result, result_timeout, wait, as_completed };

/// Blocks on `f` inside a task the way `mode` says; returns its value when there is one.
int block_on(const cask::Future<int>& f, BlockMode mode) {
  switch (mode) {
    case BlockMode::result: return f.result();
    case BlockMode::result_timeout: return f.result(std::chrono::seconds(30));
    case BlockMode::wait: {
      auto [done, not_done] = cask::wait(Futures{f});
      return done.empty() ? -2 : done[0].result();
    }
    case BlockMode::as_completed: {
      int v = -2;
      for (auto& g : cask::as_completed(Futures{f})) v = g.result();
      return v;
    }
  }
  return -3;
}

}  // namespace

// --- get_client -------------------------------------------------------------------------

TEST_CASE("Nested.get_client_inside_task_is_the_tasks_cluster" * doctest::timeout(10)) {
  cask::Client first{{.workers = 1, .threads_per_worker = 1}};
  cask::Client second{{.workers = 1, .threads_per_worker = 1}};  // the most recent one
  auto on_first = first.submit([] { return id_of(cask::get_client()); });
  auto on_second = second.submit([] { return id_of(cask::get_client()); });
  CHECK(on_first.result(kPatience) == id_of(first));
  CHECK(on_second.result(kPatience) == id_of(second));
}

TEST_CASE("Nested.get_client_outside_task_is_the_current_client" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  {
    cask::Client current = cask::get_client();
    CHECK(id_of(current) == id_of(client));
    CHECK(current.submit(slow, 2).result(kPatience) == 6);
  }  // a Client from get_client does not own the cluster: destroying it stops nothing
  CHECK(client.submit(slow, 3).result(kPatience) == 9);
  CHECK(cask::get_client().submit(add, 1, 2).result(kPatience) == 3);
}

TEST_CASE("Nested.get_client_outside_task_is_the_latest_client" * doctest::timeout(10)) {
  cask::Client first{{.workers = 1, .threads_per_worker = 1}};
  cask::Client second{{.workers = 1, .threads_per_worker = 1}};
  CHECK(id_of(cask::get_client()) == id_of(second));
}

TEST_CASE("Nested.get_client_outside_task_falls_back_to_an_older_live_client" * doctest::timeout(10)) {
  // nested.hpp: "Outside tasks: the most recently created Client still alive."
  cask::Client first{{.workers = 1, .threads_per_worker = 1}};
  { cask::Client second{{.workers = 1, .threads_per_worker = 1}}; }
  cask::Client current = [&] {
    try {
      return cask::get_client();
    } catch (const cask::Error& e) {
      FAIL("get_client threw although a Client is alive: ", std::string(e.what()));
      throw;
    }
  }();
  CHECK(id_of(current) == id_of(first));
}

TEST_CASE("Nested.get_client_without_any_client_throws" * doctest::timeout(10)) {
  CHECK_THROWS_AS((void)cask::get_client(), cask::Error);
  std::optional<cask::Future<int>> survivor;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    survivor = client.submit(slow, 1);
    REQUIRE(survivor->result() == 3);
  }
  // The client is gone (a future still refers to its closed cluster): no current client.
  CHECK_THROWS_AS((void)cask::get_client(), cask::Error);
  CHECK(survivor->result() == 3);
}

// --- submit, map, wait, as_completed and result inside a task ----------------------------

TEST_CASE("Nested.submit_and_result_inside_task" * doctest::timeout(15)) {
  // One slot: the children can only run because the parent gives its slot back.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit([] {
    cask::Client c = cask::get_client();
    auto a = c.submit(cask::options{.pure = false}, slow, 4);                // 12
    auto b = c.submit(add, c.submit(cask::options{.pure = false}, slow, 1), 2);  // 5
    return a.result() + b.result(kPatience);
  });
  CHECK(f.result(kPatience) == 17);
}

TEST_CASE("Nested.map_and_gather_inside_task" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit([] {
    cask::Client c = cask::get_client();
    auto fs = c.map(cask::options{.pure = false}, slow, std::vector{1, 2, 3});
    auto values = c.gather(fs);
    return std::accumulate(values.begin(), values.end(), 0);
  });
  CHECK(f.result(kPatience) == 18);
}

TEST_CASE("Nested.wait_inside_task" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto gate = make_event();
  auto f = client.submit([gate] {
    cask::Client c = cask::get_client();
    auto fs = c.map(cask::options{.pure = false}, slow, std::vector{1, 2, 3});
    auto [done, not_done] = cask::wait(fs);
    int result = static_cast<int>(done.size()) * 100 + static_cast<int>(not_done.size());
    // A timed wait inside a task: the gated child cannot finish, TimeoutError, then it can.
    auto gated = c.submit([gate] { return gate->wait() ? 1 : -1; });
    try {
      (void)cask::wait(Futures{gated}, 50ms, cask::FIRST_COMPLETED);
      result += 10000;  // must not get here
    } catch (const cask::TimeoutError&) {
      result += 10;
    }
    gate->set();
    auto second = cask::wait(Futures{gated}, std::chrono::seconds(30), cask::FIRST_COMPLETED);
    return result + static_cast<int>(second.done.size());
  });
  CHECK(f.result(kPatience) == 311);
}

TEST_CASE("Nested.as_completed_inside_task" * doctest::timeout(15)) {
  // Example 6-10 on a single slot.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  CHECK(client.submit(nested_sum, 3).result(kPatience) == 9);
  CHECK(client.submit(nested_sum, 10).result(kPatience) == 135);
}

TEST_CASE("Nested.blocking_on_future_from_outside_inside_task" * doctest::timeout(15)) {
  // The task blocks on a future it was handed (captured), which is queued behind it on the
  // only slot: it can only finish because the task gives the slot back.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate blocker;
  auto b = client.submit(blocker.task(0));
  REQUIRE(blocker.started->wait_for());
  auto input = client.submit(cask::options{.pure = false}, slow, 5);  // queued first
  auto user = client.submit(cask::options{.priority = 10}, [input] { return input.result() * 2; });
  blocker.open->set();
  CHECK(user.result(kPatience) == 30);
}

// --- futures made inside tasks ------------------------------------------------------------

TEST_CASE("Nested.task_returns_a_running_future" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  auto outer = client.submit([body = gate.task(21)] {
    return cask::get_client().submit(cask::options{.pure = false}, body);
  });
  static_assert(std::is_same_v<decltype(outer), cask::Future<cask::Future<int>>>);
  cask::Future<int> inner = outer.result(kPatience);
  REQUIRE(inner.valid());
  // The parent returned; its child was not cancelled with its scope and keeps running.
  REQUIRE(gate.started->wait_for());
  CHECK(inner.status() == cask::Status::pending);
  gate.open->set();
  CHECK(inner.result(kPatience) == 21);
  CHECK_FALSE(gate.stop_seen->load());
  // And it can be passed to another task as an argument.
  CHECK(client.submit(add, inner, 1).result(kPatience) == 22);
}

TEST_CASE("Nested.futures_made_inside_passed_to_other_tasks" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  // Inside: a child's future is the argument of a sibling.
  auto f = client.submit([] {
    cask::Client c = cask::get_client();
    auto a = c.submit(cask::options{.pure = false}, slow, 2);  // 6
    auto b = c.submit(add, a, 10);                              // 16
    return b.result();
  });
  CHECK(f.result(kPatience) == 16);
  // Outside: futures made in one task, used by a task submitted from the test.
  auto maker = client.submit([] {
    cask::Client c = cask::get_client();
    return c.map(cask::options{.pure = false}, slow, std::vector{1, 2, 3});
  });
  std::vector<cask::Future<int>> made = maker.result(kPatience);
  REQUIRE(made.size() == 3);
  CHECK(client.submit(sum, made).result(kPatience) == 18);
  // And one task hands a future to a task it submits, which blocks on it.
  auto relay = client.submit([] {
    cask::Client c = cask::get_client();
    auto input = c.submit(cask::options{.pure = false}, slow, 7);
    return c.submit([input] { return input.result() + 1; }).result();
  });
  CHECK(relay.result(kPatience) == 22);
}

// --- no deadlock on one slot --------------------------------------------------------------

TEST_CASE("Nested.fib_20_on_one_worker_with_one_thread" * doctest::timeout(60)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(cask::options{.pure = false}, nested_fib, 20);
  CHECK(f.result(std::chrono::seconds(55)) == 6765);
}

TEST_CASE("Nested.thousand_tasks_each_waiting_for_a_child_on_one_slot" * doctest::timeout(60)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto fs = client.map(cask::options{.pure = false}, submit_one_child, std::views::iota(0, 1000));
  REQUIRE(fs.size() == 1000);
  long total = 0;
  for (int i = 0; i < 1000; ++i) {
    const int v = fs[i].result(std::chrono::seconds(55));
    CHECK(v == 3 * i + 1);
    total += v;
  }
  CHECK(total == 3L * 999 * 1000 / 2 + 1000);
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
}

// --- secede / rejoin ----------------------------------------------------------------------

TEST_CASE("Nested.blocked_task_without_secede_keeps_its_slot" * doctest::timeout(15)) {
  // The control for the secede test: blocking on something outside cask holds the slot.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  auto a = client.submit(gate.task(1));
  REQUIRE(gate.started->wait_for());
  auto b = client.submit([] { return 2; });
  CHECK_THROWS_AS((void)b.result(200ms), cask::TimeoutError);
  gate.open->set();
  CHECK(b.result(kPatience) == 2);
  CHECK(a.result(kPatience) == 1);
}

TEST_CASE("Nested.secede_lets_another_task_run_on_the_slot" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto seceded = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto a = client.submit([seceded, gate] {
    cask::secede();
    seceded->set();
    const bool opened = gate->wait();  // a long wait outside cask
    cask::rejoin();
    return opened ? 1 : -1;
  });
  REQUIRE(seceded->wait_for());
  auto b = client.submit([] { return 2; });
  CHECK(b.result(kPatience) == 2);  // ran while `a` still blocks
  CHECK(a.status() == cask::Status::pending);
  CHECK_FALSE(gate->is_set());
  gate->set();
  CHECK(a.result(kPatience) == 1);
}

TEST_CASE("Nested.rejoin_takes_a_slot_again" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto seceded = make_event();
  auto rejoined = make_event();
  auto gate1 = make_event();
  auto gate2 = make_event();
  OpenOnExit open1{gate1};
  OpenOnExit open2{gate2};
  auto a = client.submit([=] {
    cask::secede();
    seceded->set();
    gate1->wait();
    cask::rejoin();
    rejoined->set();
    gate2->wait();  // holds the slot again
    return 1;
  });
  REQUIRE(seceded->wait_for());
  CHECK(client.submit([] { return 2; }).result(kPatience) == 2);
  gate1->set();
  REQUIRE(rejoined->wait_for());
  auto c = client.submit([] { return 3; });
  CHECK_THROWS_AS((void)c.result(200ms), cask::TimeoutError);  // the slot is a's again
  CHECK(client.stats().slots_busy == 1);
  gate2->set();
  CHECK(c.result(kPatience) == 3);
  CHECK(a.result(kPatience) == 1);
}

TEST_CASE("Nested.secede_and_rejoin_are_idempotent" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  // Outside a task: no-ops.
  cask::secede();
  cask::rejoin();
  cask::rejoin();
  // Inside: rejoin without secede, and secede/rejoin twice, change nothing.
  auto f = client.submit([] {
    cask::rejoin();
    cask::secede();
    cask::secede();
    cask::rejoin();
    cask::rejoin();
    return 1;
  });
  CHECK(f.result(kPatience) == 1);
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
  // Still exactly one slot: a blocked task keeps the next one waiting.
  Gate gate;
  auto blocker = client.submit(gate.task(1));
  REQUIRE(gate.started->wait_for());
  auto next = client.submit(cask::options{.pure = false}, slow, 2);
  CHECK_THROWS_AS((void)next.result(200ms), cask::TimeoutError);
  gate.open->set();
  CHECK(next.result(kPatience) == 6);
}

TEST_CASE("Nested.task_may_end_while_seceded" * doctest::timeout(15)) {
  // Dask allows a task to secede and return without rejoining.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit([] {
    cask::secede();
    return 1;
  });
  CHECK(f.result(kPatience) == 1);
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
  // The pool still has exactly one slot.
  Gate gate;
  auto blocker = client.submit(gate.task(1));
  REQUIRE(gate.started->wait_for());
  auto next = client.submit(cask::options{.pure = false}, slow, 2);
  CHECK_THROWS_AS((void)next.result(200ms), cask::TimeoutError);
  gate.open->set();
  CHECK(next.result(kPatience) == 6);
}

// --- cancelling a parent --------------------------------------------------------------------

namespace {

void check_cancel_parent_cancels_child(BlockMode mode) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto child_started = make_event();
  auto child_stopped = make_event();
  auto parent_left = make_event();
  auto never = make_event();
  auto parent = client.submit(cask::options{.pure = false}, [=] {
    SetOnExit on_exit{parent_left};
    cask::Client c = cask::get_client();
    auto child = c.submit(cask::options{.pure = false}, [=] {
      child_started->set();
      const bool opened = never->wait();
      if (!opened && cask::this_task::stop_requested()) child_stopped->set();
      return 1;
    });
    return block_on(child, mode);
  });
  REQUIRE(child_started->wait_for());
  parent.cancel();
  CHECK(parent.status() == cask::Status::cancelled);
  CHECK(parent_left->wait_for());   // the parent stopped waiting
  CHECK(child_stopped->wait_for());  // and its child was asked to stop
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
  // The cluster is fine afterwards.
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
}

}  // namespace

TEST_CASE("Nested.cancel_parent_blocked_in_result_cancels_child" * doctest::timeout(15)) {
  check_cancel_parent_cancels_child(BlockMode::result);
}

TEST_CASE("Nested.cancel_parent_blocked_in_timed_result_cancels_child" * doctest::timeout(15)) {
  check_cancel_parent_cancels_child(BlockMode::result_timeout);
}

TEST_CASE("Nested.cancel_parent_blocked_in_wait_cancels_child" * doctest::timeout(15)) {
  check_cancel_parent_cancels_child(BlockMode::wait);
}

TEST_CASE("Nested.cancel_parent_blocked_in_as_completed_cancels_child" * doctest::timeout(15)) {
  check_cancel_parent_cancels_child(BlockMode::as_completed);
}

TEST_CASE("Nested.cancel_parent_cascades_to_grandchildren" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto stopped = make_event();
  auto never = make_event();
  auto parent = client.submit(cask::options{.pure = false}, [=] {
    return cask::get_client()
        .submit(cask::options{.pure = false}, [=] {
          return cask::get_client()
              .submit(cask::options{.pure = false}, [=] {
                started->set();
                if (!never->wait() && cask::this_task::stop_requested()) stopped->set();
                return 1;
              })
              .result();
        })
        .result();
  });
  REQUIRE(started->wait_for());
  parent.cancel();
  CHECK(stopped->wait_for());
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
}

TEST_CASE("Nested.cancel_parent_keeps_children_held_elsewhere" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  auto holder = std::make_shared<std::optional<cask::Future<int>>>();
  auto published = make_event();
  auto parent_left = make_event();
  auto parent = client.submit(cask::options{.pure = false}, [=, body = gate.task(7)] {
    SetOnExit on_exit{parent_left};
    auto child = cask::get_client().submit(cask::options{.pure = false}, body);
    *holder = child;  // someone else holds it too
    published->set();
    return child.result();
  });
  REQUIRE(published->wait_for());
  cask::Future<int> child = holder->value();
  holder->reset();
  REQUIRE(gate.started->wait_for());
  parent.cancel();
  REQUIRE(parent_left->wait_for());  // the parent's own handle is gone
  CHECK(child.status() == cask::Status::pending);
  gate.open->set();
  CHECK(child.result(kPatience) == 7);
  CHECK_FALSE(gate.stop_seen->load());
}

// --- waiting on oneself ---------------------------------------------------------------------

namespace {

void check_waiting_on_own_future_is_an_error(BlockMode mode) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto self = std::make_shared<std::optional<cask::Future<int>>>();
  auto ready = make_event();
  auto f = client.submit(cask::options{.pure = false}, [self, ready, mode]() -> int {
    if (!ready->wait()) return -1;
    cask::Future<int> me = std::exchange(*self, std::nullopt).value();  // no cycle left behind
    return block_on(me, mode);
  });
  *self = f;
  ready->set();
  try {
    (void)f.result(kPatience);
    FAIL("a task waiting for its own result returned");
  } catch (const cask::TimeoutError&) {
    FAIL("a task waiting for its own result hangs (no error after ", kPatience.count(), " s)");
  } catch (const cask::CancelledError& e) {
    FAIL("got CancelledError instead of a clear error: ", std::string(e.what()));
  } catch (const cask::Error& e) {
    INFO("message: ", std::string(e.what()));
    CHECK_FALSE(std::string(e.what()).empty());
  }
  CHECK(f.status() == cask::Status::error);
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
}

}  // namespace

TEST_CASE("Nested.task_blocking_on_own_future_result_gets_error" * doctest::timeout(15)) {
  check_waiting_on_own_future_is_an_error(BlockMode::result);
}

TEST_CASE("Nested.task_blocking_on_own_future_timed_result_gets_error" * doctest::timeout(15)) {
  check_waiting_on_own_future_is_an_error(BlockMode::result_timeout);
}

TEST_CASE("Nested.task_blocking_on_own_future_in_wait_gets_error" * doctest::timeout(15)) {
  check_waiting_on_own_future_is_an_error(BlockMode::wait);
}

TEST_CASE("Nested.task_blocking_on_own_future_in_as_completed_gets_error" * doctest::timeout(15)) {
  check_waiting_on_own_future_is_an_error(BlockMode::as_completed);
}

TEST_CASE("Nested.task_blocking_on_its_own_key_gets_error" * doctest::timeout(15)) {
  // A pure task resubmitting itself with the same arguments gets a handle to its own key.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(waits_for_own_key, 4);
  try {
    (void)f.result(kPatience);
    FAIL("returned");
  } catch (const cask::TimeoutError&) {
    FAIL("hangs");
  } catch (const cask::CancelledError& e) {
    FAIL("got CancelledError instead of a clear error: ", std::string(e.what()));
  } catch (const cask::Error& e) {
    INFO("message: ", std::string(e.what()));
    CHECK_FALSE(std::string(e.what()).empty());
  }
}
