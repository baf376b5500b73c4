// Deadlines (options::deadline): a past deadline cancels at once, work not started by its
// deadline is cancelled, started work runs on, tasks read their deadline, children inherit
// it unless given their own; Future::result_until.
#include <optional>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {

using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;
using Futures = std::vector<cask::Future<int>>;

/// One worker with one slot, blocked by a gated task until `gate.open` is set.
struct BlockedSlot {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  cask::Future<int> blocker;

  BlockedSlot() {
    blocker = client.submit(gate.task(0));
    REQUIRE(gate.started->wait_for());
  }
  ~BlockedSlot() { gate.open->set(); }
  void open() {
    gate.open->set();
    CHECK(blocker.result(kPatience) == 0);
  }
};

}  // namespace

TEST_CASE("Deadline.past_deadline_is_cancelled_at_once" * doctest::timeout(15)) {
  // The only slot is busy: "at once" means without waiting for a slot.
  BlockedSlot c;
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto f = c.client.submit(cask::options{.deadline = Clock::now() - 1s}, [runs] { return runs->fetch_add(1); });
  try {
    (void)f.result(kPatience);
    FAIL("a task with a past deadline returned a value");
  } catch (const cask::CancelledError&) {
  } catch (const cask::TimeoutError&) {
    FAIL("a task with a past deadline was not cancelled at once (still pending with the slot busy)");
  }
  CHECK(f.status() == cask::Status::cancelled);
  CHECK(f.done());
  CHECK_THROWS_AS(std::rethrow_exception(f.exception()), cask::CancelledError);
  // A deadline of exactly now has passed too.
  auto g = c.client.submit(cask::options{.deadline = Clock::now()}, [runs] { return runs->fetch_add(1); });
  CHECK_THROWS_AS((void)g.result(kPatience), cask::CancelledError);
  // map, too.
  auto fs = c.client.map(cask::options{.deadline = Clock::now() - 1ms}, slow, std::vector{1, 2, 3});
  for (const auto& h : fs) CHECK_THROWS_AS((void)h.result(kPatience), cask::CancelledError);
  c.open();
  // Never runs, even once the slot is free (the marker runs after anything queued before).
  CHECK(c.client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
  CHECK(runs->load() == 0);
}

TEST_CASE("Deadline.past_deadline_on_idle_cluster" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto f = client.submit(cask::options{.deadline = Clock::now() - 1h}, [runs] { return runs->fetch_add(1); });
  CHECK_THROWS_AS((void)f.result(kPatience), cask::CancelledError);
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
  CHECK(runs->load() == 0);
}

TEST_CASE("Deadline.queued_work_not_started_by_deadline_is_cancelled" * doctest::timeout(15)) {
  BlockedSlot c;
  auto runs = std::make_shared<std::atomic<int>>(0);
  const auto deadline = Clock::now() + 150ms;
  auto late = c.client.submit(cask::options{.deadline = deadline}, [runs] { return runs->fetch_add(1); });
  CHECK(late.status() == cask::Status::pending);
  // Cancelled when the deadline passes, while the slot is still busy.
  CHECK_THROWS_AS((void)late.result(kPatience), cask::CancelledError);
  CHECK(Clock::now() >= deadline);  // not before
  CHECK(late.status() == cask::Status::cancelled);
  CHECK(c.blocker.status() == cask::Status::pending);
  CHECK(eventually([&] { return c.client.stats().tasks() == 1; }));  // only the blocker
  c.open();
  CHECK(c.client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
  CHECK(runs->load() == 0);
  CHECK_THROWS_AS((void)late.result(), cask::CancelledError);
}

TEST_CASE("Deadline.work_waiting_for_inputs_is_cancelled_at_deadline" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate input_gate;
  auto input = client.submit(input_gate.task(5));
  REQUIRE(input_gate.started->wait_for());
  auto runs = std::make_shared<std::atomic<int>>(0);
  const auto deadline = Clock::now() + 100ms;
  auto dependent = client.submit(cask::options{.deadline = deadline},
                                 [runs](int x) { runs->fetch_add(1); return x + 1; }, input);
  CHECK_THROWS_AS((void)dependent.result(kPatience), cask::CancelledError);
  CHECK(Clock::now() >= deadline);
  input_gate.open->set();
  CHECK(input.result(kPatience) == 5);  // the input is not affected
  CHECK(client.submit(cask::options{.pure = false}, slow, 1).result(kPatience) == 3);
  CHECK(runs->load() == 0);
}

TEST_CASE("Deadline.started_task_keeps_running_past_deadline" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  const auto deadline = Clock::now() + 500ms;
  auto running = client.submit(cask::options{.deadline = deadline}, gate.task(5));
  REQUIRE(gate.started->wait_for());  // started well before its deadline
  // Another task with the same deadline, queued behind it on the only slot: its
  // cancellation shows that the deadline has passed and was acted on.
  auto queued = client.submit(cask::options{.pure = false, .deadline = deadline}, slow, 1);
  CHECK_THROWS_AS((void)queued.result(kPatience), cask::CancelledError);
  CHECK(Clock::now() >= deadline);
  CHECK(running.status() == cask::Status::pending);
  gate.open->set();
  CHECK(running.result(kPatience) == 5);
  CHECK(running.status() == cask::Status::finished);
  CHECK_FALSE(gate.stop_seen->load());  // it was not even asked to stop
}

TEST_CASE("Deadline.task_reads_its_deadline" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  // Not further away than needed: see Deadline.far_deadline_does_not_delay_client_shutdown.
  const auto deadline = Clock::now() + 3s;
  auto with = client.submit(cask::options{.deadline = deadline}, [] { return cask::this_task::deadline(); });
  auto without = client.submit([] { return cask::this_task::deadline(); });
  const Deadline read = with.result(kPatience);
  REQUIRE(read.has_value());
  CHECK(*read == deadline);
  CHECK_FALSE(without.result(kPatience).has_value());
  CHECK_FALSE(cask::this_task::deadline().has_value());  // outside a task
  // The stop token is there as well, and not stopped.
  auto token = client.submit(cask::options{.deadline = deadline}, [] {
    auto t = cask::this_task::stop_token();
    return t.stop_possible() && !t.stop_requested();
  });
  CHECK(token.result(kPatience));
}

TEST_CASE("Deadline.children_inherit_parent_deadline_unless_given_their_own" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  // Not further away than needed: see Deadline.far_deadline_does_not_delay_client_shutdown.
  const auto deadline = Clock::now() + 3s;
  const auto own = Clock::now() + 4s;
  auto read = [] { return cask::this_task::deadline(); };
  auto parent = client.submit(cask::options{.deadline = deadline}, [own, read] {
    cask::Client c = cask::get_client();
    auto inherited = c.submit(cask::options{.pure = false}, read);
    auto given = c.submit(cask::options{.pure = false, .deadline = own}, read);
    auto mapped = c.map([](int) { return cask::this_task::deadline(); }, std::vector{1, 2});
    // A grandchild inherits through its parent.
    auto grand = c.submit(cask::options{.pure = false}, [read] {
      return cask::get_client().submit(cask::options{.pure = false}, read).result();
    });
    return std::vector<Deadline>{inherited.result(), given.result(), mapped[0].result(), mapped[1].result(),
                                 grand.result()};
  });
  const auto got = parent.result(kPatience);
  REQUIRE(got.size() == 5);
  for (std::size_t i : {0u, 2u, 3u, 4u}) {
    INFO("child ", i);
    REQUIRE(got[i].has_value());
    CHECK(*got[i] == deadline);
  }
  REQUIRE(got[1].has_value());
  CHECK(*got[1] == own);
  // A parent without a deadline gives its children none.
  auto free_parent = client.submit([read] {
    return cask::get_client().submit(cask::options{.pure = false}, read).result();
  });
  CHECK_FALSE(free_parent.result(kPatience).has_value());
}

TEST_CASE("Deadline.inherited_deadline_cancels_unstarted_children" * doctest::timeout(15)) {
  // The parent holds the only slot (blocked outside cask, so it does not give it back), so
  // its children stay queued. The child with the inherited deadline is cancelled when it
  // passes; the child with a later deadline of its own runs once the slot is free.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  struct Children {
    cask::Future<int> inherited, own;
  };
  auto children = std::make_shared<std::optional<Children>>();
  auto published = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto runs = std::make_shared<std::atomic<int>>(0);
  const auto deadline = Clock::now() + 1s;
  auto parent = client.submit(cask::options{.deadline = deadline}, [=] {
    cask::Client c = cask::get_client();
    auto inherited = c.submit(cask::options{.pure = false}, [runs] { runs->fetch_add(1); return 1; });
    // Later than the parent's (not further than needed: see
    // Deadline.far_deadline_does_not_delay_client_shutdown).
    auto own = c.submit(cask::options{.pure = false, .deadline = Clock::now() + 2500ms}, [] { return 2; });
    *children = Children{inherited, own};
    published->set();
    gate->wait();
    return 0;
  });
  REQUIRE(published->wait_for());
  const Children kids = children->value();
  children->reset();
  CHECK_THROWS_AS((void)kids.inherited.result(kPatience), cask::CancelledError);
  CHECK(Clock::now() >= deadline);
  CHECK(kids.own.status() == cask::Status::pending);
  gate->set();
  CHECK(parent.result(kPatience) == 0);  // started before its deadline: ran to the end
  CHECK(kids.own.result(kPatience) == 2);
  CHECK(runs->load() == 0);
}

TEST_CASE("Deadline.result_until" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  auto f = client.submit(gate.task(8));
  REQUIRE(gate.started->wait_for());
  const auto until = Clock::now() + 100ms;
  CHECK_THROWS_AS((void)f.result_until(until), cask::TimeoutError);
  CHECK(Clock::now() >= until);
  const auto t0 = Clock::now();
  CHECK_THROWS_AS((void)f.result_until(Clock::now() - 1s), cask::TimeoutError);  // past: only checks
  CHECK(since(t0) < 1s);
  CHECK_THROWS_AS((void)f.result_until(std::chrono::system_clock::now() + 20ms), cask::TimeoutError);
  CHECK(f.status() == cask::Status::pending);  // still running
  InBackground<int> waiting([f] { return f.result_until(Clock::now() + 30s); });
  gate.open->set();
  CHECK(waiting.get() == 8);
  CHECK(f.result_until(Clock::now() - 1s) == 8);  // done: even a past point returns
  CHECK_FALSE(gate.stop_seen->load());
  // Errors and cancellation come through as from result().
  auto bad = client.submit(fails_with_my_error, 3);
  CHECK_THROWS_AS((void)bad.result_until(Clock::now() + kPatience), MyError);
  Gate other;
  auto cancelled = client.submit(other.task(1));
  cancelled.cancel();
  CHECK_THROWS_AS((void)cancelled.result_until(Clock::now() + kPatience), cask::CancelledError);
}

TEST_CASE("Deadline.wait_until_over_futures_with_deadlines" * doctest::timeout(15)) {
  // Example 6-8's pattern: whatever is done by a point in time, the rest cancelled.
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate slow_one;
  Futures fs{client.submit(cask::options{.pure = false}, slow, 1), client.submit(slow_one.task(2))};
  REQUIRE(slow_one.started->wait_for());
  REQUIRE(fs[0].result(kPatience) == 3);
  const auto until = Clock::now() + 100ms;
  CHECK_THROWS_AS((void)cask::wait_until(fs, until), cask::TimeoutError);
  auto [done, not_done] = cask::wait_until(fs, until, cask::FIRST_COMPLETED);
  CHECK(done == Futures{fs[0]});
  client.cancel(not_done);
  CHECK(fs[1].status() == cask::Status::cancelled);
  REQUIRE(slow_one.left->wait_for());
  CHECK(slow_one.stop_seen->load());
}

TEST_CASE("Deadline.far_deadline_does_not_delay_client_shutdown" * doctest::timeout(15)) {
  // A deadline an hour away, on a task that finished, one that is still queued and one that
  // waits for an input: none of them may keep the Client's destructor waiting.
  InBackground<bool> lifetime([] {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    const auto far = Clock::now() + 1h;
    auto finished = client.submit(cask::options{.pure = false, .deadline = far}, slow, 1);
    if (finished.result(kPatience) != 3) return false;
    auto gate = make_event();
    auto running = client.submit([gate] { return gate->wait() ? 1 : -1; });
    auto queued = client.submit(cask::options{.pure = false, .deadline = far}, slow, 2);
    auto waiting = client.submit(cask::options{.deadline = far}, add, running, 1);
    return true;  // the Client is destroyed here, with all of them in its table
  });
  REQUIRE(lifetime.wait_for(kPatience));
  CHECK(lifetime.get());
}

TEST_CASE("Deadline.far_deadline_on_finished_task_does_not_delay_client_shutdown" * doctest::timeout(15)) {
  InBackground<bool> lifetime([] {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    auto f = client.submit(cask::options{.deadline = Clock::now() + 1h}, slow, 1);
    return f.result(kPatience) == 3;
  });
  REQUIRE(lifetime.wait_for(kPatience));
  CHECK(lifetime.get());
}
