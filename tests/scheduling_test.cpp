// Scheduling: priority among queued tasks, submission order, retries.
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {

/// One worker with one slot, blocked by a gated task until `open()`.
struct BlockedCluster {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  EventPtr started = make_event();
  EventPtr gate = make_event();
  OpenOnExit opener{gate};
  cask::Future<int> blocker;

  BlockedCluster() {
    blocker = client.submit([s = started, g = gate] {
      s->set();
      g->wait();
      return 0;
    });
    REQUIRE(started->wait_for());
  }
  void open() {
    gate->set();
    CHECK(blocker.result() == 0);
  }
};

}  // namespace

TEST_CASE("Scheduling.higher_priority_runs_first" * doctest::timeout(10)) {
  BlockedCluster c;
  auto order = std::make_shared<Recorder<std::string>>();
  auto low = c.client.submit(cask::options{.priority = 0}, [order] { order->push("low"); return 0; });
  auto high = c.client.submit(cask::options{.priority = 10}, [order] { order->push("high"); return 0; });
  c.open();
  (void)low.result();
  (void)high.result();
  CHECK(order->items() == std::vector<std::string>{"high", "low"});
}

TEST_CASE("Scheduling.higher_priority_runs_before_many_queued_tasks" * doctest::timeout(10)) {
  // Five low-priority tasks queued behind the busy slot, then one high-priority task: the
  // high one is the first to run once the slot is free ("higher runs first among queued
  // tasks"), wherever the runtime keeps its queue.
  BlockedCluster c;
  auto order = std::make_shared<Recorder<std::string>>();
  std::vector<cask::Future<int>> lows;
  for (int i = 0; i < 5; ++i)
    lows.push_back(c.client.submit([order, i] { order->push("low" + std::to_string(i)); return i; }));
  auto high = c.client.submit(cask::options{.priority = 10}, [order] { order->push("high"); return 0; });
  c.open();
  (void)high.result();
  for (const auto& f : lows) (void)f.result();
  const auto items = order->items();
  REQUIRE(items.size() == 6);
  INFO("execution order: ", [&] { std::string s; for (auto& i : items) s += i + " "; return s; }());
  CHECK(items[0] == "high");
}

TEST_CASE("Scheduling.priorities_order_queued_tasks" * doctest::timeout(10)) {
  BlockedCluster c;
  auto order = std::make_shared<Recorder<int>>();
  std::vector<cask::Future<int>> fs;
  for (int p : {1, 3, 2})
    fs.push_back(c.client.submit(cask::options{.priority = p}, [order, p] { order->push(p); return p; }));
  c.open();
  for (const auto& f : fs) (void)f.result();
  CHECK(order->items() == std::vector{3, 2, 1});
}

TEST_CASE("Scheduling.equal_priority_runs_in_submission_order" * doctest::timeout(10)) {
  BlockedCluster c;
  auto order = std::make_shared<Recorder<int>>();
  std::vector<cask::Future<int>> fs;
  for (int i = 0; i < 8; ++i) fs.push_back(c.client.submit([order, i] { order->push(i); return i; }));
  c.open();
  for (const auto& f : fs) (void)f.result();
  CHECK(order->items() == std::vector{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("Scheduling.retries_until_success" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto attempts = std::make_shared<std::atomic<int>>(0);
  auto flaky = [attempts] {
    if (attempts->fetch_add(1) < 2) throw MyError("flaky");
    return 5;
  };
  auto f = client.submit(cask::options{.retries = 2}, flaky);
  CHECK(f.result() == 5);
  CHECK(f.status() == cask::Status::finished);
  CHECK(attempts->load() == 3);
}

TEST_CASE("Scheduling.too_few_retries_err" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto attempts = std::make_shared<std::atomic<int>>(0);
  auto flaky = [attempts]() -> int {
    if (attempts->fetch_add(1) < 2) throw MyError("flaky", attempts->load());
    return 5;
  };
  auto f = client.submit(cask::options{.retries = 1}, flaky);
  try {
    (void)f.result();
    FAIL("result() did not throw");
  } catch (const MyError& e) {
    CHECK(e.code == 2);  // the last attempt's exception
  }
  CHECK(f.status() == cask::Status::error);
  CHECK(attempts->load() == 2);
}

TEST_CASE("Scheduling.no_retries_by_default" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto attempts = std::make_shared<std::atomic<int>>(0);
  auto f = client.submit([attempts]() -> int { attempts->fetch_add(1); throw MyError("once"); });
  CHECK_THROWS_AS((void)f.result(), MyError);
  CHECK(attempts->load() == 1);
}

TEST_CASE("Scheduling.retried_task_with_future_input" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto attempts = std::make_shared<std::atomic<int>>(0);
  auto input = client.submit(slow, 2);
  auto f = client.submit(cask::options{.retries = 3}, [attempts](int x) {
    if (attempts->fetch_add(1) < 3) throw std::runtime_error("again");
    return x + 1;
  }, input);
  CHECK(f.result() == 7);  // every retry sees the same input
  CHECK(attempts->load() == 4);
}
