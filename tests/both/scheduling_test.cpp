// Both modes: priority order on a freed slot, retries counted in a file. (Deadlines are in
// deadline_test.cpp.)
#include <algorithm>

#include "both_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace both_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::read_lines;

namespace {

/// The order the queued tasks ran in, checked per mode. Embedded, the scheduler hands the
/// freed slot the queued tasks one by one in priority order, so the order is exact. In
/// cluster mode a worker that reported less than the prefetch window ago (limit() in
/// actors/cluster_scheduler.cpp) may still get a run queued behind its slot that just
/// became busy; stealing then moves it to the freed worker, but it may start there out of
/// order (the ASan CI run saw "low high mid" once). There every task must run exactly once,
/// and the ones queued behind the still-busy slot can only run because they were stolen.
void check_order(const Env& env, const std::string& log, std::vector<std::string> expected) {
  std::vector<std::string> ran = read_lines(log);
  INFO("order: " << cask_cluster_test::read_text(log));
  if (!env.cluster()) {
    CHECK(ran == expected);
    return;
  }
  std::sort(ran.begin(), ran.end());
  std::sort(expected.begin(), expected.end());
  CHECK(ran == expected);
}

/// Holds both slots with a gated task each, has `submit(log)` queue tasks that append a tag
/// to `log` (log_tag), frees one slot so that they run on it one by one, and checks the
/// order they ran in.
template <class Submit>
void check_queue_order(Env& env, Submit submit, const std::vector<std::string>& expected) {
  Gate first(env, "first"), second(env, "second");
  auto a = first.submit(1), b = second.submit(2);
  REQUIRE(first.wait_for(1));
  REQUIRE(second.wait_for(1));
  const std::string log = env.file("order");
  std::vector<cask::Future<int>> fs = submit(log);
  first.open();  // one slot frees: the queued tasks run on it one by one
  for (auto& f : fs) CHECK(f.result(kPatience) > 0);
  check_order(env, log, expected);
  second.open();
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
}

}  // namespace

BOTH_CASE("Scheduling.higher_priority_runs_first", 30) {
  check_queue_order(
      env,
      [&](const std::string& log) {
        std::vector<cask::Future<int>> fs;
        for (auto [tag, priority] : std::vector<std::pair<std::string, int>>{{"low", 0}, {"high", 10}, {"mid", 5}})
          fs.push_back(env.client.submit(cask::options{.priority = priority}, log_tag, log, tag));
        return fs;
      },
      {"high", "mid", "low"});
}

BOTH_CASE("Scheduling.higher_priority_runs_before_many_queued_tasks", 30) {
  // Five default-priority tasks queued behind the busy slots, then one high-priority task:
  // the high one is the first to run once a slot is free, wherever the runtime keeps its
  // queue.
  check_queue_order(
      env,
      [&](const std::string& log) {
        std::vector<cask::Future<int>> fs;
        for (int i = 0; i < 5; ++i) fs.push_back(env.client.submit(log_tag, log, "low" + std::to_string(i)));
        fs.push_back(env.client.submit(cask::options{.priority = 10}, log_tag, log, std::string("high")));
        return fs;
      },
      {"high", "low0", "low1", "low2", "low3", "low4"});
}

BOTH_CASE("Scheduling.equal_priority_runs_in_submission_order", 30) {
  check_queue_order(
      env,
      [&](const std::string& log) {
        std::vector<cask::Future<int>> fs;
        for (int i = 0; i < 8; ++i) fs.push_back(env.client.submit(log_tag, log, "t" + std::to_string(i)));
        return fs;
      },
      {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"});
}

BOTH_CASE("Scheduling.retries_until_success", 30) {
  const std::string log = env.file("runs");
  auto f = env.client.submit(cask::options{.retries = 2}, fail_times, log, 2, 7);
  CHECK(f.result(kPatience) == 7);
  CHECK(f.status() == cask::Status::finished);
  CHECK(count_lines(log, "run") == 3);
}

BOTH_CASE("Scheduling.too_few_retries_err", 30) {
  const std::string log = env.file("runs");
  auto f = env.client.submit(cask::options{.retries = 1}, fail_times, log, 5, 7);
  CHECK(task_error_message<std::runtime_error>(env, f, "std::runtime_error") == "attempt 2");  // the last attempt's
  CHECK(f.status() == cask::Status::error);
  CHECK(count_lines(log, "run") == 2);
}

BOTH_CASE("Scheduling.no_retries_by_default", 30) {
  const std::string log = env.file("runs");
  auto f = env.client.submit(fail_times, log, 1, 7);
  CHECK(task_error_message<std::runtime_error>(env, f, "std::runtime_error") == "attempt 1");
  CHECK(count_lines(log, "run") == 1);
}

BOTH_CASE("Scheduling.retried_task_with_future_input", 30) {
  const std::string log = env.file("runs");
  auto input = env.client.submit(inc, 10);
  auto f = env.client.submit(cask::options{.retries = 3}, fail_times, log, 3, input);
  CHECK(f.result(kPatience) == 11);  // every retry sees the same input
  CHECK(count_lines(log, "run") == 4);
}
