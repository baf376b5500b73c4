// Both modes, Deadline (options::deadline): a past deadline cancels at once (even with
// every slot busy), work not started by its deadline is cancelled when it passes, started
// work runs on, tasks read their deadline and stop token, children inherit it unless given
// their own (and a parent's unstarted children are cancelled by it), result_until and
// wait_until, and a far deadline never delays a Client's destruction.
#include <cstdint>
#include <future>
#include <optional>
#include <vector>

#include "core2_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace core2_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

namespace {

using Clock = std::chrono::steady_clock;
using Futures = std::vector<cask::Future<int>>;

std::int64_t ns_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

/// A deadline read inside a task (deadline_ns) against the one submitted. Embedded it is
/// the same time_point. On a cluster it crosses processes as a system-clock time (the
/// processes share that clock, see actors/client_proxy.cpp), so it may move by the time
/// between two clock reads on the client.
void check_same_deadline(const Env& env, std::int64_t read_ns, Clock::time_point expected) {
  REQUIRE(read_ns != -1);
  if (!env.cluster()) {
    CHECK(read_ns == ns_of(expected));
    return;
  }
  const auto off = std::chrono::nanoseconds(read_ns - ns_of(expected));
  INFO("off by " << off.count() << " ns");
  CHECK(std::chrono::abs(off) < 5ms);
}

/// Both slots of the mode's cluster held by gated tasks until open().
struct BusySlots {
  Gate gate;
  Futures blockers;

  explicit BusySlots(Env& env) : gate(env, "busy") {
    blockers = {gate.submit(0), gate.submit(0)};
    REQUIRE(gate.wait_for(2));
  }
  void open() {
    gate.open();
    for (auto& b : blockers) CHECK(b.result(kPatience) == 0);
  }
};

/// A Client of its own next to env.client: embedded 1 worker x 1 slot, or a second Client
/// of the shared LocalCluster.
cask::Client another_client(Mode mode) {
  if (mode == Mode::cluster) return cask::Client{cask::ClientOptions{.address = shared_cluster_address()}};
  return cask::Client{cask::ClientOptions{.workers = 1, .threads_per_worker = 1}};
}

}  // namespace

BOTH_CASE("Deadline.past_deadline_is_cancelled_at_once", 30) {
  // Every slot is busy: "at once" means without waiting for a slot.
  BusySlots busy(env);
  const std::string runs = env.file("runs");
  auto f = env.client.submit(cask::options{.deadline = Clock::now() - 1s}, count_run, runs, 1);
  try {
    (void)f.result(kPatience);
    FAIL("a task with a past deadline returned a value");
  } catch (const cask::CancelledError&) {
  } catch (const cask::TimeoutError&) {
    FAIL("a task with a past deadline was not cancelled at once (still pending with the slots busy)");
  }
  CHECK(f.status() == cask::Status::cancelled);
  CHECK(f.done());
  CHECK_THROWS_AS(std::rethrow_exception(f.exception()), cask::CancelledError);
  // A deadline of exactly now has passed too.
  auto g = env.client.submit(cask::options{.deadline = Clock::now()}, count_run, runs, 2);
  CHECK_THROWS_AS((void)g.result(kPatience), cask::CancelledError);
  // map, too.
  auto fs = env.client.map(cask::options{.deadline = Clock::now() - 1ms}, count_run, std::vector{runs, runs},
                           std::vector{3, 4});
  for (const auto& h : fs) CHECK_THROWS_AS((void)h.result(kPatience), cask::CancelledError);
  busy.open();
  // Never runs, even once the slots are free (the marker runs after anything queued before).
  CHECK(env.client.submit(cask::options{.pure = false}, count_run, env.file("marker"), 5).result(kPatience) == 5);
  CHECK(count_lines(runs, "run") == 0);
}

BOTH_CASE("Deadline.past_deadline_on_idle_cluster", 30) {
  const std::string runs = env.file("runs");
  auto f = env.client.submit(cask::options{.deadline = Clock::now() - 1h}, count_run, runs, 1);
  CHECK_THROWS_AS((void)f.result(kPatience), cask::CancelledError);
  CHECK(f.status() == cask::Status::cancelled);
  CHECK(env.client.submit(cask::options{.pure = false}, count_run, env.file("marker"), 2).result(kPatience) == 2);
  CHECK(count_lines(runs, "run") == 0);
}

BOTH_CASE("Deadline.queued_work_not_started_by_deadline_is_cancelled", 30) {
  BusySlots busy(env);
  const std::string runs = env.file("runs");
  const auto deadline = Clock::now() + 150ms;
  auto late = env.client.submit(cask::options{.deadline = deadline}, count_run, runs, 1);
  CHECK(late.status() == cask::Status::pending);
  // Cancelled when the deadline passes, while the slots are still busy.
  CHECK_THROWS_AS((void)late.result(kPatience), cask::CancelledError);
  CHECK(Clock::now() >= deadline);  // not before
  CHECK(late.status() == cask::Status::cancelled);
  for (auto& b : busy.blockers) CHECK(b.status() == cask::Status::pending);
  CHECK(eventually([&] { return env.client.stats().tasks() == 2; }));  // only the blockers
  busy.open();
  CHECK(env.client.submit(cask::options{.pure = false}, count_run, env.file("marker"), 2).result(kPatience) == 2);
  CHECK(count_lines(runs, "run") == 0);
  CHECK_THROWS_AS((void)late.result(), cask::CancelledError);
}

BOTH_CASE("Deadline.work_waiting_for_inputs_is_cancelled_at_deadline", 30) {
  Gate gate(env, "gate");
  auto input = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  const std::string runs = env.file("runs");
  const auto deadline = Clock::now() + 200ms;
  auto dependent = env.client.submit(cask::options{.deadline = deadline}, count_run, runs, input);
  CHECK_THROWS_AS((void)dependent.result(kPatience), cask::CancelledError);
  CHECK(Clock::now() >= deadline);
  gate.open();
  CHECK(input.result(kPatience) == 1);  // the input is not affected
  CHECK(env.client.submit(cask::options{.pure = false}, count_run, env.file("marker"), 2).result(kPatience) == 2);
  CHECK(count_lines(runs, "run") == 0);
}

BOTH_CASE("Deadline.started_task_keeps_running_past_deadline", 30) {
  Gate gate(env, "gate"), other(env, "other");
  const auto deadline = Clock::now() + 500ms;
  auto running = gate.submit(5, cask::options{.deadline = deadline});
  auto blocker = other.submit(6);
  REQUIRE(gate.wait_for(1));  // started well before its deadline
  REQUIRE(other.wait_for(1));
  // Another task with the same deadline, queued behind the busy slots: its cancellation
  // shows that the deadline has passed and was acted on.
  auto queued = env.client.submit(cask::options{.pure = false, .deadline = deadline}, count_run, env.file("runs"), 1);
  CHECK_THROWS_AS((void)queued.result(kPatience), cask::CancelledError);
  CHECK(Clock::now() >= deadline);
  CHECK(running.status() == cask::Status::pending);
  gate.open();
  CHECK(running.result(kPatience) == 5);
  CHECK(running.status() == cask::Status::finished);
  CHECK(gate.count("stopped") == 0);  // it was not even asked to stop
  other.open();
  CHECK(blocker.result(kPatience) == 6);
}

BOTH_CASE("Deadline.task_reads_its_deadline", 30) {
  // Not further away than needed: see Deadline.far_deadline_does_not_delay_client_shutdown.
  const auto deadline = Clock::now() + 3s;
  auto with = env.client.submit(cask::options{.pure = false, .deadline = deadline}, deadline_ns, 1);
  auto without = env.client.submit(cask::options{.pure = false}, deadline_ns, 2);
  check_same_deadline(env, with.result(kPatience), deadline);
  CHECK(without.result(kPatience) == -1);
  CHECK_FALSE(cask::this_task::deadline().has_value());  // outside a task
  // The stop token is there as well, and not stopped.
  CHECK(env.client.submit(cask::options{.pure = false, .deadline = deadline}, stop_token_ready, 1).result(kPatience));
}

BOTH_CASE("Deadline.children_inherit_parent_deadline_unless_given_their_own", 30) {
  // Not further away than needed: see Deadline.far_deadline_does_not_delay_client_shutdown.
  const auto deadline = Clock::now() + 3s;
  const auto own = Clock::now() + 4s;
  auto parent = env.client.submit(cask::options{.pure = false, .deadline = deadline}, children_deadlines_ns, ns_of(own));
  const std::vector<std::int64_t> got = parent.result(kPatience);
  REQUIRE(got.size() == 5);
  for (std::size_t i : {0u, 2u, 3u, 4u}) {  // inherited, two mapped, a grandchild
    INFO("child ", i);
    check_same_deadline(env, got[i], deadline);
  }
  check_same_deadline(env, got[1], own);  // its own: submitted through the same path
  // A parent without a deadline gives its children none.
  CHECK(env.client.submit(cask::options{.pure = false}, child_deadline_ns, 1).result(kPatience) == -1);
}

BOTH_CASE("Deadline.inherited_deadline_cancels_unstarted_children", 30) {
  // The parent holds its slot (blocked outside cask, so it does not give it back) and a
  // gated task the other one, so the parent's children stay queued. The child with the
  // inherited deadline is cancelled when it passes; the child with a later deadline of
  // its own runs once the parent hands its slot back.
  Gate gate(env, "gate");
  auto blocker = gate.submit(0);
  REQUIRE(gate.wait_for(1));
  const std::string log = env.file("parent"), runs = env.file("runs");
  const auto deadline = Clock::now() + 1s;
  // The own deadline is later than the parent's (not further than needed: see
  // Deadline.far_deadline_does_not_delay_client_shutdown).
  auto parent = env.client.submit(cask::options{.pure = false, .deadline = deadline}, parent_of_late_children, log,
                                  gate.path(), runs, 2500);
  REQUIRE(logged(log, "own pending"));
  CHECK(Clock::now() >= deadline);
  CHECK(count_lines(log, "inherited cancelled") == 1);
  gate.open();
  CHECK(parent.result(kPatience) == 2);  // started before its deadline: ran to the end
  CHECK(blocker.result(kPatience) == 0);
  CHECK(count_lines(runs, "run") == 0);
}

BOTH_CASE("Deadline.result_until", 30) {
  Gate gate(env, "gate");
  auto f = gate.submit(8);
  REQUIRE(gate.wait_for(1));
  const auto until = Clock::now() + 100ms;
  CHECK_THROWS_AS((void)f.result_until(until), cask::TimeoutError);
  CHECK(Clock::now() >= until);
  const auto t0 = Clock::now();
  CHECK_THROWS_AS((void)f.result_until(Clock::now() - 1s), cask::TimeoutError);  // past: only checks
  CHECK(Clock::now() - t0 < 1s);
  CHECK_THROWS_AS((void)f.result_until(std::chrono::system_clock::now() + 20ms), cask::TimeoutError);
  CHECK(f.status() == cask::Status::pending);  // still running
  auto waiting = std::async(std::launch::async, [f] { return f.result_until(Clock::now() + kPatience); });
  gate.open();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get() == 8);
  CHECK(f.result_until(Clock::now() - 1s) == 8);  // done: even a past point returns
  CHECK(gate.count("stopped") == 0);
  // Errors and cancellation come through as from result(): the task's own exception
  // embedded, a RemoteError naming it on a cluster.
  auto bad = env.client.submit(fail_custom, 3);
  if (env.cluster())
    CHECK_THROWS_WITH_AS((void)bad.result_until(Clock::now() + kPatience), "cluster_tasks::TaskFailure: failure 3",
                         cask::RemoteError);
  else
    CHECK_THROWS_WITH_AS((void)bad.result_until(Clock::now() + kPatience), "failure 3", TaskFailure);
  Gate other(env, "other");
  auto cancelled = other.submit(1);
  cancelled.cancel();
  CHECK_THROWS_AS((void)cancelled.result_until(Clock::now() + kPatience), cask::CancelledError);
}

BOTH_CASE("Deadline.wait_until_over_futures_with_deadlines", 30) {
  // Example 6-8's pattern: whatever is done by a point in time, the rest cancelled.
  Gate slow_one(env, "slow");
  Futures fs{env.client.submit(cask::options{.pure = false}, inc, 2), slow_one.submit(2)};
  REQUIRE(slow_one.wait_for(1));
  REQUIRE(fs[0].result(kPatience) == 3);
  const auto until = Clock::now() + 100ms;
  CHECK_THROWS_AS((void)cask::wait_until(fs, until), cask::TimeoutError);
  auto [done, not_done] = cask::wait_until(fs, until, cask::FIRST_COMPLETED);
  CHECK(done == Futures{fs[0]});
  CHECK(not_done == Futures{fs[1]});
  env.client.cancel(not_done);
  CHECK(fs[1].status() == cask::Status::cancelled);
  CHECK(slow_one.wait_for(1, "stopped"));  // the running task was asked to stop
}

BOTH_CASE("Deadline.far_deadline_does_not_delay_client_shutdown", 30) {
  // A deadline an hour away, on a task that finished, one that is still queued and one that
  // waits for an input: none of them may keep the Client's destructor waiting.
  Gate gate(env, "gate");
  const Mode mode = env.mode;
  const std::string marker = env.file("marker");
  auto lifetime = std::async(std::launch::async, [&gate, mode, marker] {
    cask::Client client = another_client(mode);
    const auto far = Clock::now() + 1h;
    auto finished = client.submit(cask::options{.pure = false, .deadline = far}, count_run, marker, 3);
    if (finished.result(kPatience) != 3) return false;
    auto running = client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 1, 20000);
    auto queued = client.submit(cask::options{.pure = false, .deadline = far}, count_run, marker, 4);
    auto waiting = client.submit(cask::options{.deadline = far}, add, running, 1);
    return true;  // the Client is destroyed here, with all of them in its table
  });
  REQUIRE(lifetime.wait_for(kPatience) == std::future_status::ready);
  CHECK(lifetime.get());
}

BOTH_CASE("Deadline.far_deadline_on_finished_task_does_not_delay_client_shutdown", 30) {
  const Mode mode = env.mode;
  const std::string marker = env.file("marker");
  auto lifetime = std::async(std::launch::async, [mode, marker] {
    cask::Client client = another_client(mode);
    auto f = client.submit(cask::options{.deadline = Clock::now() + 1h}, count_run, marker, 1);
    return f.result(kPatience) == 1;
  });
  REQUIRE(lifetime.wait_for(kPatience) == std::future_status::ready);
  CHECK(lifetime.get());
}
