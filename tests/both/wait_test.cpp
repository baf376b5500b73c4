// Both modes: cask::wait and cask::wait_until: ALL_COMPLETED (the default), FIRST_COMPLETED,
// FIRST_EXCEPTION, timeouts (none, positive, zero, negative, a point in time), the
// done/not_done partition in input order, empty lists, bad input, and futures of a client
// that is gone.
#include <optional>

#include "both_tasks.hpp"
#include "core_support.hpp"
#include "harness.hpp"
#include "helpers.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_test::InBackground;

using Futures = std::vector<cask::Future<int>>;

namespace {

std::chrono::steady_clock::duration since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::steady_clock::now() - t0;
}

/// Two gated tasks, one on each of the case's two slots, each with its own gate.
struct TwoGated {
  Gate gates[2];
  Futures fs;

  explicit TwoGated(Env& env) : gates{{env, "g0"}, {env, "g1"}} {
    for (int i = 0; i < 2; ++i) fs.push_back(gates[i].submit(10 + i));
    for (auto& g : gates) REQUIRE(g.wait_for(1));
  }
};

}  // namespace

BOTH_CASE("Wait.all_completed_waits_for_every_future", 30) {
  TwoGated c(env);
  InBackground<cask::WaitResult<int>> waiting([fs = c.fs] { return cask::wait(fs, cask::ALL_COMPLETED); });
  // Opened one by one: the wait may only return once the last one is done, so whatever it
  // returns must have both in `done`.
  c.gates[1].open();
  CHECK(c.fs[1].result(kPatience) == 11);
  c.gates[0].open();
  auto [done, not_done] = waiting.get();
  CHECK(done == c.fs);  // input order
  CHECK(not_done.empty());
  for (const auto& f : done) CHECK(f.status() == cask::Status::finished);
}

BOTH_CASE("Wait.default_is_all_completed", 30) {
  Futures fs = env.client.map(inc, std::vector{1, 2, 3, 4});
  fs.push_back(env.client.submit(fail_with, std::string("one fails")));
  InBackground<cask::WaitResult<int>> waiting([fs] { return cask::wait(fs); });  // no timeout, no return_when
  auto [done, not_done] = waiting.get();
  CHECK(done == fs);  // input order
  CHECK(not_done.empty());
  for (const auto& f : done) CHECK(f.done());
  CHECK(fs[4].status() == cask::Status::error);
}

BOTH_CASE("Wait.without_timeout_waits_as_long_as_needed", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1)};
  REQUIRE(gate.wait_for(1));
  InBackground<cask::WaitResult<int>> waiting([fs] { return cask::wait(fs); });
  // Not a wait that hopes: a correct wait is still blocked whatever the timing; this only
  // gives a wait with some hidden default timeout the chance to return early and fail.
  CHECK_FALSE(waiting.wait_for(300ms));
  gate.open();
  auto [done, not_done] = waiting.get();
  CHECK(done == fs);
  CHECK(not_done.empty());
  CHECK(fs[0].result() == 1);
}

BOTH_CASE("Wait.first_completed_returns_when_one_is_done", 30) {
  TwoGated c(env);
  c.gates[1].open();  // only the second one can finish
  auto [done, not_done] = cask::wait(c.fs, kPatience, cask::FIRST_COMPLETED);
  CHECK(done == Futures{c.fs[1]});
  CHECK(not_done == Futures{c.fs[0]});
  CHECK(done[0].result() == 11);
  CHECK(not_done[0].status() == cask::Status::pending);
  c.gates[0].open();
  CHECK(c.fs[0].result(kPatience) == 10);  // the other keeps running
}

BOTH_CASE("Wait.not_done_futures_keep_running_and_finish", 30) {
  TwoGated c(env);
  c.gates[0].open();
  auto [done, not_done] = cask::wait(c.fs, kPatience, cask::FIRST_COMPLETED);
  REQUIRE(done == Futures{c.fs[0]});
  REQUIRE(not_done == Futures{c.fs[1]});
  // The wait returned: the other was neither cancelled nor asked to stop.
  c.gates[1].open();
  CHECK(not_done[0].result(kPatience) == 11);
  CHECK(c.gates[1].count("stopped") == 0);
  CHECK(c.fs[1].status() == cask::Status::finished);
}

BOTH_CASE("Wait.first_completed_counts_errors_and_cancellations", 30) {
  TwoGated c(env);
  c.fs[1].cancel();
  {
    auto [done, not_done] = cask::wait(c.fs, kPatience, cask::FIRST_COMPLETED);
    CHECK(done == Futures{c.fs[1]});
    CHECK(done[0].status() == cask::Status::cancelled);
    CHECK(not_done == Futures{c.fs[0]});
  }
  REQUIRE(c.gates[1].wait_for(1, "stopped"));  // its slot is free again
  // fs[0] still holds one slot; the error runs on the other.
  Futures errs{c.fs[0], env.client.submit(fail_custom, 7)};
  auto [done, not_done] = cask::wait(errs, kPatience, cask::FIRST_COMPLETED);
  CHECK(done == Futures{errs[1]});
  CHECK(not_done == Futures{errs[0]});
  CHECK(task_error_message<TaskFailure>(env, done[0], "cluster_tasks::TaskFailure") == "failure 7");
}

BOTH_CASE("Wait.first_exception_returns_when_one_errs", 30) {
  Gate a(env, "a"), c(env, "c");
  Futures fs{a.submit(1), env.client.submit(fail_custom, 3), c.submit(3)};
  REQUIRE(a.wait_for(1));
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_EXCEPTION);
  CHECK(done == Futures{fs[1]});
  CHECK(not_done == Futures{fs[0], fs[2]});
  CHECK(fs[1].status() == cask::Status::error);
  CHECK(task_error_message<TaskFailure>(env, done[0], "cluster_tasks::TaskFailure") == "failure 3");
  a.open();
  c.open();
  CHECK(fs[0].result(kPatience) == 1);
  CHECK(fs[2].result(kPatience) == 3);
}

BOTH_CASE("Wait.first_exception_without_errors_waits_for_all", 30) {
  // One finishes normally, another is still gated: the condition is not met.
  Gate gate(env, "gate");
  Futures fs{env.client.submit(inc, 1), gate.submit(2)};
  REQUIRE(fs[0].result(kPatience) == 2);
  CHECK_THROWS_AS((void)cask::wait(fs, 100ms, cask::FIRST_EXCEPTION), cask::TimeoutError);
  // With no error at all, FIRST_EXCEPTION returns once everything is done.
  gate.open();
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_EXCEPTION);
  CHECK(done == fs);
  CHECK(not_done.empty());
}

BOTH_CASE("Wait.first_exception_with_error_already_done", 30) {
  Gate gate(env, "gate");
  auto bad = env.client.submit(fail_custom, 9);
  REQUIRE_THROWS((void)bad.result(kPatience));
  Futures fs{gate.submit(1), bad};
  auto [done, not_done] = cask::wait(fs, 0s, cask::FIRST_EXCEPTION);
  CHECK(done == Futures{bad});
  CHECK(not_done == Futures{fs[0]});
}

BOTH_CASE("Wait.timeout_error_when_condition_not_met", 30) {
  TwoGated c(env);
  Futures fs{env.client.submit(cask::options{.priority = 1}, inc, 9), c.fs[0], c.fs[1]};
  c.gates[0].open();  // frees a slot for the inc, then holds nothing
  REQUIRE(c.fs[0].result(kPatience) == 10);
  REQUIRE(fs[0].result(kPatience) == 10);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(fs, 100ms), cask::TimeoutError);  // ALL_COMPLETED
  CHECK(since(t0) >= 100ms);
  CHECK(since(t0) < kPatience);
  // FIRST_COMPLETED over the one still gated: it is not done.
  const Futures gated{c.fs[1]};
  const auto t1 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(gated, 50ms, cask::FIRST_COMPLETED), cask::TimeoutError);
  CHECK(since(t1) >= 50ms);
  // A TimeoutError is a cask::Error, and the future keeps running.
  CHECK_THROWS_AS((void)cask::wait(gated, 10ms, cask::FIRST_COMPLETED), cask::Error);
  CHECK(c.fs[1].status() == cask::Status::pending);
  c.gates[1].open();
  auto [done, not_done] = cask::wait(fs, kPatience);
  CHECK(done == fs);
  CHECK(c.fs[1].result() == 11);
  CHECK(c.gates[1].count("stopped") == 0);
}

BOTH_CASE("Wait.timeout_long_enough_returns_result", 30) {
  TwoGated c(env);
  InBackground<cask::WaitResult<int>> waiting([fs = c.fs] { return cask::wait(fs, 30s, cask::FIRST_COMPLETED); });
  c.gates[1].open();
  auto [done, not_done] = waiting.get();
  CHECK(done == Futures{c.fs[1]});
  CHECK(not_done == Futures{c.fs[0]});
}

BOTH_CASE("Wait.zero_timeout_only_checks", 30) {
  Gate gate(env, "gate");
  auto finished = env.client.submit(inc, 5);
  REQUIRE(finished.result(kPatience) == 6);
  auto pending = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  // Satisfied already: returns.
  {
    auto [done, not_done] = cask::wait(Futures{finished}, 0s);
    CHECK(done == Futures{finished});
    CHECK(not_done.empty());
  }
  {
    auto [done, not_done] = cask::wait(Futures{pending, finished}, 0ms, cask::FIRST_COMPLETED);
    CHECK(done == Futures{finished});
    CHECK(not_done == Futures{pending});
  }
  // Not satisfied: TimeoutError at once (no waiting for anything).
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(Futures{pending, finished}, 0s), cask::TimeoutError);
  CHECK_THROWS_AS((void)cask::wait(Futures{pending}, 0ns, cask::FIRST_COMPLETED), cask::TimeoutError);
  CHECK(since(t0) < 1s);
  CHECK(pending.status() == cask::Status::pending);
  gate.open();
  CHECK(pending.result(kPatience) == 1);
}

BOTH_CASE("Wait.negative_timeout_only_checks", 30) {
  Gate gate(env, "gate");
  auto finished = env.client.submit(inc, 3);
  REQUIRE(finished.result(kPatience) == 4);
  auto pending = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  {
    auto [done, not_done] = cask::wait(Futures{finished}, -1s);
    CHECK(done == Futures{finished});
    CHECK(not_done.empty());
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(Futures{pending}, -5s), cask::TimeoutError);
  CHECK_THROWS_AS((void)cask::wait(Futures{pending, finished}, -1ms, cask::ALL_COMPLETED), cask::TimeoutError);
  CHECK(since(t0) < 1s);
  gate.open();
  CHECK(pending.result(kPatience) == 1);
}

BOTH_CASE("Wait.empty_list_returns_at_once", 30) {
  const Futures none;
  for (auto when : {cask::ALL_COMPLETED, cask::FIRST_COMPLETED, cask::FIRST_EXCEPTION}) {
    InBackground<cask::WaitResult<int>> waiting([none, when] { return cask::wait(none, when); });
    auto [done, not_done] = waiting.get();
    CHECK(done.empty());
    CHECK(not_done.empty());
    auto timed = cask::wait(none, 0s, when);
    CHECK(timed.done.empty());
    CHECK(timed.not_done.empty());
    CHECK(cask::wait(none, -1s, when).done.empty());
    CHECK(cask::wait_until(none, std::chrono::steady_clock::now() - 1s, when).done.empty());
  }
}

BOTH_CASE("Wait.partition_keeps_input_order", 30) {
  // Two finished, three pending (two gated on the slots, one queued behind them).
  auto one = env.client.submit(inc, 0), three = env.client.submit(inc, 2);
  REQUIRE(one.result(kPatience) + three.result(kPatience) == 4);
  Gate gate(env, "gate");
  Futures fs{gate.submit(0), one, gate.submit(2), three, gate.submit(4)};
  REQUIRE(gate.wait_for(2));
  auto [done, not_done] = cask::wait(fs, 0s, cask::FIRST_COMPLETED);
  CHECK(done == Futures{fs[1], fs[3]});
  CHECK(not_done == Futures{fs[0], fs[2], fs[4]});
  // Also for a reordered input list.
  const Futures reordered{fs[4], fs[3], fs[2], fs[1], fs[0]};
  auto again = cask::wait(reordered, 0s, cask::FIRST_COMPLETED);
  CHECK(again.done == Futures{fs[3], fs[1]});
  CHECK(again.not_done == Futures{fs[4], fs[2], fs[0]});
}

BOTH_CASE("Wait.same_future_twice_is_listed_twice", 30) {
  auto f = env.client.submit(inc, 1);
  auto [done, not_done] = cask::wait(Futures{f, f}, kPatience);
  CHECK(done == Futures{f, f});
  CHECK(not_done.empty());
}

BOTH_CASE("Wait.until_a_point_in_time", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(4)};
  REQUIRE(gate.wait_for(1));
  const auto deadline = std::chrono::steady_clock::now() + 100ms;
  CHECK_THROWS_AS((void)cask::wait_until(fs, deadline), cask::TimeoutError);
  CHECK(std::chrono::steady_clock::now() >= deadline);
  // A point already past only checks.
  CHECK_THROWS_AS((void)cask::wait_until(fs, std::chrono::steady_clock::now() - 1s, cask::FIRST_COMPLETED),
                  cask::TimeoutError);
  // Another clock works too.
  CHECK_THROWS_AS((void)cask::wait_until(fs, std::chrono::system_clock::now() + 20ms), cask::TimeoutError);
  CHECK(fs[0].status() == cask::Status::pending);
  InBackground<cask::WaitResult<int>> waiting(
      [fs] { return cask::wait_until(fs, std::chrono::steady_clock::now() + 30s, cask::FIRST_COMPLETED); });
  gate.open();
  auto [done, not_done] = waiting.get();
  CHECK(done == fs);
  CHECK(not_done.empty());
  // Once done, even a past point returns.
  CHECK(cask::wait_until(fs, std::chrono::steady_clock::now() - 1s).done == fs);
}

BOTH_CASE("Wait.futures_of_destroyed_client_are_done", 30) {
  Gate gate(env, "gate");
  Futures fs;
  {
    cask::Client client = core_support::second_client(env);
    fs.push_back(client.submit(inc, 1));
    REQUIRE(fs[0].result(kPatience) == 2);
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 1, 20000));
    REQUIRE(gate.wait_for(1));  // running
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 2, 20000));
  }
  CHECK(fs[0].status() == cask::Status::finished);
  CHECK(fs[1].status() == cask::Status::cancelled);
  CHECK(fs[2].status() == cask::Status::cancelled);
  for (auto when : {cask::ALL_COMPLETED, cask::FIRST_COMPLETED, cask::FIRST_EXCEPTION}) {
    InBackground<cask::WaitResult<int>> waiting([fs, when] { return cask::wait(fs, when); });
    auto [done, not_done] = waiting.get();
    CHECK(done == fs);
    CHECK(not_done.empty());
    CHECK(cask::wait(fs, 0s, when).done == fs);
    CHECK(cask::wait(fs, 1s, when).done == fs);
  }
}

BOTH_CASE("Wait.returns_when_client_is_destroyed_meanwhile", 30) {
  // A thread blocked in wait (no timeout) while the client goes away: its futures are
  // done (cancelled), so the wait is satisfied and returns; it neither hangs nor throws.
  Gate gate(env, "gate");
  std::optional<InBackground<cask::WaitResult<int>>> waiting;
  std::optional<InBackground<cask::WaitResult<int>>> waiting_timed;
  Futures fs;
  {
    cask::Client client = core_support::second_client(env);
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 1, 20000));
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 2, 20000));
    REQUIRE(gate.wait_for(1));
    waiting.emplace([fs] { return cask::wait(fs); });
    waiting_timed.emplace([fs] { return cask::wait(fs, 60s); });
    // Both waits are under way (or about to be): either way they must end below.
  }
  auto result = waiting->get();
  CHECK(result.done == fs);
  CHECK(result.not_done.empty());
  auto timed = waiting_timed->get();
  CHECK(timed.done == fs);
  for (const auto& f : fs) CHECK(f.status() == cask::Status::cancelled);
}

BOTH_CASE("Wait.empty_future_is_an_error", 30) {
  Futures fs{env.client.submit(inc, 1), cask::Future<int>{}};
  CHECK_THROWS_AS((void)cask::wait(fs, kPatience), cask::Error);
  CHECK_THROWS_AS((void)cask::wait(Futures{cask::Future<int>{}}), cask::Error);
  CHECK(fs[0].result(kPatience) == 2);
}
