// cask::wait and cask::wait_until: ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION,
// timeouts (none, positive, zero, negative, a point in time), the done/not_done partition,
// empty lists, and futures of a client that is gone.
#include <optional>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {

using Futures = std::vector<cask::Future<int>>;

/// Three gated tasks running side by side on one worker with three slots.
struct ThreeGated {
  cask::Client client{{.workers = 1, .threads_per_worker = 3}};
  Gate gates[3];
  Futures fs;

  ThreeGated() {
    for (int i = 0; i < 3; ++i) fs.push_back(client.submit(gates[i].task(10 + i)));
    for (auto& g : gates) REQUIRE(g.started->wait_for());
  }
  ~ThreeGated() {
    for (auto& g : gates) g.open->set();
  }
};

}  // namespace

TEST_CASE("Wait.all_completed_waits_for_every_future" * doctest::timeout(15)) {
  ThreeGated c;
  InBackground<cask::WaitResult<int>> waiting([fs = c.fs] { return cask::wait(fs, cask::ALL_COMPLETED); });
  // Opened one by one: the wait may only return once the last one is done, so whatever it
  // returns must have all three in `done`.
  c.gates[1].open->set();
  CHECK(c.fs[1].result(kPatience) == 11);
  c.gates[0].open->set();
  CHECK(c.fs[0].result(kPatience) == 10);
  c.gates[2].open->set();
  auto [done, not_done] = waiting.get();
  CHECK(done == c.fs);  // input order
  CHECK(not_done.empty());
  for (const auto& f : done) CHECK(f.status() == cask::Status::finished);
}

TEST_CASE("Wait.default_is_all_completed" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  Futures fs = client.map(slow, std::vector{1, 2, 3, 4});
  fs.push_back(client.submit(fails_with_my_error, 1));
  InBackground<cask::WaitResult<int>> waiting([fs] { return cask::wait(fs); });  // no timeout, no return_when
  auto [done, not_done] = waiting.get();
  CHECK(done == fs);
  CHECK(not_done.empty());
  for (const auto& f : done) CHECK(f.done());
}

TEST_CASE("Wait.without_timeout_waits_as_long_as_needed" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  Futures fs{client.submit(gate.task(1))};
  REQUIRE(gate.started->wait_for());
  InBackground<cask::WaitResult<int>> waiting([fs] { return cask::wait(fs); });
  // Not a sleep that hopes: a correct wait is still blocked whatever the timing; this only
  // gives a wait with some hidden default timeout the chance to return early and fail.
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(waiting.finished());
  gate.open->set();
  auto [done, not_done] = waiting.get();
  CHECK(done == fs);
  CHECK(not_done.empty());
  CHECK(fs[0].result() == 1);
}

TEST_CASE("Wait.first_completed_returns_when_one_is_done" * doctest::timeout(15)) {
  ThreeGated c;
  c.gates[2].open->set();  // only the last one can finish
  auto [done, not_done] = cask::wait(c.fs, kPatience, cask::FIRST_COMPLETED);
  CHECK(done == Futures{c.fs[2]});
  CHECK(not_done == Futures{c.fs[0], c.fs[1]});
  CHECK(done[0].result() == 12);
  for (const auto& f : not_done) CHECK(f.status() == cask::Status::pending);
}

TEST_CASE("Wait.not_done_futures_keep_running_and_finish" * doctest::timeout(15)) {
  ThreeGated c;
  c.gates[0].open->set();
  auto [done, not_done] = cask::wait(c.fs, 5s, cask::FIRST_COMPLETED);
  REQUIRE(done.size() == 1);
  REQUIRE(not_done.size() == 2);
  // The wait returned: the others were neither cancelled nor asked to stop.
  c.gates[1].open->set();
  c.gates[2].open->set();
  CHECK(not_done[0].result(kPatience) == 11);
  CHECK(not_done[1].result(kPatience) == 12);
  CHECK_FALSE(c.gates[1].stop_seen->load());
  CHECK_FALSE(c.gates[2].stop_seen->load());
  // Dropping the result handles of the wait changes nothing either.
  CHECK(c.fs[1].status() == cask::Status::finished);
}

TEST_CASE("Wait.first_completed_counts_errors_and_cancellations" * doctest::timeout(15)) {
  {
    ThreeGated c;
    c.fs[1].cancel();
    auto [done, not_done] = cask::wait(c.fs, kPatience, cask::FIRST_COMPLETED);
    CHECK(done == Futures{c.fs[1]});
    CHECK(done[0].status() == cask::Status::cancelled);
    CHECK(not_done.size() == 2);
  }
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 2}};
    Gate ok, bad;
    Futures fs{client.submit(ok.task(1)), client.submit(bad.failing_task(7))};
    REQUIRE(bad.started->wait_for());
    bad.open->set();
    auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_COMPLETED);
    CHECK(done == Futures{fs[1]});
    CHECK(not_done == Futures{fs[0]});
    CHECK_THROWS_AS((void)done[0].result(), MyError);
    ok.open->set();
  }
}

TEST_CASE("Wait.first_exception_returns_when_one_errs" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 3}};
  Gate a, bad, c;
  Futures fs{client.submit(a.task(1)), client.submit(bad.failing_task(3)), client.submit(c.task(3))};
  for (auto* g : {&a, &bad, &c}) REQUIRE(g->started->wait_for());
  bad.open->set();
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_EXCEPTION);
  CHECK(done == Futures{fs[1]});
  CHECK(not_done == Futures{fs[0], fs[2]});
  CHECK(fs[1].status() == cask::Status::error);
  try {
    (void)done[0].result();
    FAIL("an erred future returned a value");
  } catch (const MyError& e) {
    CHECK(e.code == 3);
  }
  a.open->set();
  c.open->set();
  CHECK(fs[0].result(kPatience) == 1);
  CHECK(fs[2].result(kPatience) == 3);
}

TEST_CASE("Wait.first_exception_ignores_successes" * doctest::timeout(15)) {
  // One finishes normally, another is still gated: the condition is not met.
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate fine, gated;
  Futures fs{client.submit(fine.task(1)), client.submit(gated.task(2))};
  REQUIRE(gated.started->wait_for());
  fine.open->set();
  REQUIRE(fs[0].result(kPatience) == 1);
  CHECK_THROWS_AS((void)cask::wait(fs, 100ms, cask::FIRST_EXCEPTION), cask::TimeoutError);
  // With no error at all, FIRST_EXCEPTION returns once everything is done.
  gated.open->set();
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_EXCEPTION);
  CHECK(done == fs);
  CHECK(not_done.empty());
}

TEST_CASE("Wait.first_exception_with_error_already_done" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  auto bad = client.submit(fails_with_my_error, 9);
  REQUIRE_THROWS_AS((void)bad.result(kPatience), MyError);
  Futures fs{client.submit(gate.task(1)), bad};
  auto [done, not_done] = cask::wait(fs, 0s, cask::FIRST_EXCEPTION);
  CHECK(done == Futures{bad});
  CHECK(not_done == Futures{fs[0]});
  gate.open->set();
}

TEST_CASE("Wait.timeout_error_when_condition_not_met" * doctest::timeout(15)) {
  ThreeGated c;
  c.gates[0].open->set();
  REQUIRE(c.fs[0].result(kPatience) == 10);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(c.fs, 100ms), cask::TimeoutError);  // ALL_COMPLETED
  CHECK(since(t0) >= 100ms);
  CHECK(since(t0) < kPatience);
  // FIRST_COMPLETED over the two still gated ones: none is done.
  const Futures gated{c.fs[1], c.fs[2]};
  const auto t1 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(gated, 50ms, cask::FIRST_COMPLETED), cask::TimeoutError);
  CHECK(since(t1) >= 50ms);
  // A TimeoutError is a cask::Error, and the futures keep running.
  CHECK_THROWS_AS((void)cask::wait(gated, 10ms, cask::FIRST_COMPLETED), cask::Error);
  for (const auto& f : gated) CHECK(f.status() == cask::Status::pending);
  c.gates[1].open->set();
  c.gates[2].open->set();
  auto [done, not_done] = cask::wait(c.fs, kPatience);
  CHECK(done == c.fs);
  CHECK(c.fs[1].result() == 11);
  CHECK_FALSE(c.gates[1].stop_seen->load());
}

TEST_CASE("Wait.timeout_long_enough_returns_result" * doctest::timeout(15)) {
  ThreeGated c;
  InBackground<cask::WaitResult<int>> waiting(
      [fs = c.fs] { return cask::wait(fs, 30s, cask::FIRST_COMPLETED); });
  c.gates[1].open->set();
  auto [done, not_done] = waiting.get();
  CHECK(done == Futures{c.fs[1]});
  CHECK(not_done == Futures{c.fs[0], c.fs[2]});
}

TEST_CASE("Wait.zero_timeout_only_checks" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate gate;
  auto finished = client.submit(slow, 2);
  REQUIRE(finished.result(kPatience) == 6);
  auto pending = client.submit(gate.task(1));
  REQUIRE(gate.started->wait_for());
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
  gate.open->set();
  CHECK(pending.result(kPatience) == 1);
}

TEST_CASE("Wait.negative_timeout_only_checks" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate gate;
  auto finished = client.submit(slow, 3);
  REQUIRE(finished.result(kPatience) == 9);
  auto pending = client.submit(gate.task(1));
  REQUIRE(gate.started->wait_for());
  {
    auto [done, not_done] = cask::wait(Futures{finished}, -1s);
    CHECK(done == Futures{finished});
    CHECK(not_done.empty());
  }
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(Futures{pending}, -5s), cask::TimeoutError);
  CHECK_THROWS_AS((void)cask::wait(Futures{pending, finished}, -1ms, cask::ALL_COMPLETED), cask::TimeoutError);
  CHECK(since(t0) < 1s);
  gate.open->set();
  CHECK(pending.result(kPatience) == 1);
}

TEST_CASE("Wait.empty_list_returns_at_once" * doctest::timeout(10)) {
  const Futures none;
  for (auto when : {cask::ALL_COMPLETED, cask::FIRST_COMPLETED, cask::FIRST_EXCEPTION}) {
    InBackground<cask::WaitResult<int>> waiting([none, when] { return cask::wait(none, when); });
    auto [done, not_done] = waiting.get();
    CHECK(done.empty());
    CHECK(not_done.empty());
    auto timed = cask::wait(none, 0s, when);
    CHECK(timed.done.empty());
    CHECK(timed.not_done.empty());
    auto negative = cask::wait(none, -1s, when);
    CHECK(negative.done.empty());
    auto until = cask::wait_until(none, std::chrono::steady_clock::now() - 1s, when);
    CHECK(until.done.empty());
  }
}

TEST_CASE("Wait.partition_keeps_input_order" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 5}};
  Gate gates[5];
  Futures fs;
  for (int i = 0; i < 5; ++i) fs.push_back(client.submit(gates[i].task(i)));
  for (auto& g : gates) REQUIRE(g.started->wait_for());
  // Finish 3 before 1: the partition still follows the input.
  gates[3].open->set();
  REQUIRE(fs[3].result(kPatience) == 3);
  gates[1].open->set();
  REQUIRE(fs[1].result(kPatience) == 1);
  auto [done, not_done] = cask::wait(fs, 0s, cask::FIRST_COMPLETED);
  CHECK(done == Futures{fs[1], fs[3]});
  CHECK(not_done == Futures{fs[0], fs[2], fs[4]});
  // Also for a reordered input list.
  const Futures reordered{fs[4], fs[3], fs[2], fs[1], fs[0]};
  auto again = cask::wait(reordered, 0s, cask::FIRST_COMPLETED);
  CHECK(again.done == Futures{fs[3], fs[1]});
  CHECK(again.not_done == Futures{fs[4], fs[2], fs[0]});
  for (auto& g : gates) g.open->set();
}

TEST_CASE("Wait.same_future_twice_is_listed_twice" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 5);
  auto [done, not_done] = cask::wait(Futures{f, f}, kPatience);
  CHECK(done == Futures{f, f});
  CHECK(not_done.empty());
}

TEST_CASE("Wait.until_a_point_in_time" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  Futures fs{client.submit(gate.task(4))};
  REQUIRE(gate.started->wait_for());
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
  gate.open->set();
  auto [done, not_done] = waiting.get();
  CHECK(done == fs);
  CHECK(not_done.empty());
  // Once done, even a past point returns.
  CHECK(cask::wait_until(fs, std::chrono::steady_clock::now() - 1s).done == fs);
}

TEST_CASE("Wait.futures_of_destroyed_client_are_done" * doctest::timeout(15)) {
  Futures fs;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    auto gate = make_event();
    fs.push_back(client.submit(slow, 1));
    REQUIRE(fs[0].result(kPatience) == 3);
    fs.push_back(client.submit([gate] { return gate->wait() ? 1 : -1; }));  // running
    fs.push_back(client.submit(cask::options{.pure = false}, slow, 2));     // queued
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

TEST_CASE("Wait.returns_when_client_is_destroyed_meanwhile" * doctest::timeout(15)) {
  // A thread blocked in wait (no timeout) while the client goes away: its futures are
  // cancelled, so the wait is satisfied and returns; it neither hangs nor throws.
  std::optional<InBackground<cask::WaitResult<int>>> waiting;
  std::optional<InBackground<cask::WaitResult<int>>> waiting_timed;
  Futures fs;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    Gate gate;
    fs.push_back(client.submit(gate.task(1)));
    fs.push_back(client.submit(cask::options{.pure = false}, slow, 1));
    REQUIRE(gate.started->wait_for());
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

TEST_CASE("Wait.empty_future_is_an_error" * doctest::timeout(10)) {
  CHECK_THROWS_AS((void)cask::wait(Futures{cask::Future<int>{}}), cask::Error);
}
