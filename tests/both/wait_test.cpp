// Both modes: cask::wait with ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, timeouts,
// wait_until, input order, bad input.
#include "both_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;

using Futures = std::vector<cask::Future<int>>;

BOTH_CASE("Wait.all_completed_waits_for_every_future", 30) {
  Futures fs = env.client.map(inc, std::vector{1, 2, 3, 4});
  fs.push_back(env.client.submit(fail_with, std::string("one fails")));
  auto [done, not_done] = cask::wait(fs, kPatience, cask::ALL_COMPLETED);
  CHECK(done == fs);  // input order
  CHECK(not_done.empty());
  for (const auto& f : done) CHECK(f.done());
}

BOTH_CASE("Wait.first_completed_returns_when_one_is_done", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1), env.client.submit(inc, 0)};  // one slot each
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_COMPLETED);
  REQUIRE(done.size() == 1);
  CHECK(done[0] == fs[1]);
  CHECK(not_done == Futures{fs[0]});
  gate.open();
  CHECK(fs[0].result(kPatience) == 1);  // the other keeps running
}

BOTH_CASE("Wait.first_completed_counts_errors_and_cancellations", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1), gate.submit(2)};
  fs[1].cancel();
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_COMPLETED);
  CHECK(done == Futures{fs[1]});
  // fs[0] still holds one slot; the error runs on the other.
  Futures errs{fs[0], env.client.submit(fail_with, std::string("e"))};
  auto [edone, enot_done] = cask::wait(errs, kPatience, cask::FIRST_COMPLETED);
  CHECK(edone == Futures{errs[1]});
}

BOTH_CASE("Wait.first_exception_returns_when_one_errs", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1), env.client.submit(fail_with, std::string("first")), gate.submit(2)};
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_EXCEPTION);
  CHECK(done == Futures{fs[1]});
  CHECK(not_done.size() == 2);
}

BOTH_CASE("Wait.first_exception_without_errors_waits_for_all", 30) {
  Futures fs = env.client.map(inc, std::vector{1, 2, 3});
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_EXCEPTION);
  CHECK(done == fs);
  CHECK(not_done.empty());
}

BOTH_CASE("Wait.timeout_error_when_condition_not_met", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1), env.client.submit(inc, 1)};
  CHECK_THROWS_AS(cask::wait(fs, 100ms, cask::ALL_COMPLETED), cask::TimeoutError);
  CHECK_THROWS_AS(cask::wait(Futures{fs[0]}, 50ms, cask::FIRST_COMPLETED), cask::TimeoutError);
  gate.open();
  auto [done, not_done] = cask::wait(fs, kPatience);
  CHECK(done.size() == 2);
}

BOTH_CASE("Wait.zero_timeout_only_checks", 30) {
  Gate gate(env, "gate");
  auto finished = env.client.submit(inc, 1);
  CHECK(finished.result(kPatience) == 2);
  auto [done, not_done] = cask::wait(Futures{finished}, 0ms);
  CHECK(done.size() == 1);
  CHECK_THROWS_AS(cask::wait(Futures{gate.submit(1)}, 0ms), cask::TimeoutError);
}

BOTH_CASE("Wait.empty_list_returns_at_once", 30) {
  auto [done, not_done] = cask::wait(Futures{}, 0ms);
  CHECK(done.empty());
  CHECK(not_done.empty());
}

BOTH_CASE("Wait.same_future_twice_is_listed_twice", 30) {
  auto f = env.client.submit(inc, 1);
  auto [done, not_done] = cask::wait(Futures{f, f}, kPatience);
  CHECK(done.size() == 2);
}

BOTH_CASE("Wait.until_a_point_in_time", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1)};
  CHECK_THROWS_AS(cask::wait_until(fs, std::chrono::steady_clock::now() + 50ms), cask::TimeoutError);
  gate.open();
  auto [done, not_done] = cask::wait_until(fs, std::chrono::steady_clock::now() + kPatience);
  CHECK(done == fs);
}

BOTH_CASE("Wait.empty_future_is_an_error", 30) {
  Futures fs{env.client.submit(inc, 1), cask::Future<int>{}};
  CHECK_THROWS_AS(cask::wait(fs, kPatience), cask::Error);
  CHECK(fs[0].result(kPatience) == 2);
}
