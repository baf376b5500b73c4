// The embedded Client's construction options, and the helper functions the embedded
// tests share (declared in helpers.hpp). Every other Client, Submit, Map, Gather, Scatter
// and Stats case runs in both modes (tests/both/client_test.cpp, submit_test.cpp and
// cancel_test.cpp). Embedded-only:
// - Client.rejects_invalid_options, Client.default_has_one_worker_per_hardware_thread:
//   options of an embedded Client (a cluster's Client takes an address).
// - Stats.reports_workers_and_slots: slots = workers x threads_per_worker of those options.
#include <algorithm>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

std::atomic<int> g_counted_square_runs{0};

int slow(int x) { return 3 * x; }
int add(int a, int b) { return a + b; }
int sum(std::vector<int> xs) { return std::accumulate(xs.begin(), xs.end(), 0); }
std::string greet(std::string name) { return "hello " + name; }
int fails_with_my_error(int code) { throw MyError("task failed", code); }
int counted_square(int x) {
  g_counted_square_runs.fetch_add(1);
  return x * x;
}

TEST_CASE("Client.rejects_invalid_options" * doctest::timeout(10)) {
  CHECK_THROWS_AS(cask::Client({.workers = 1, .threads_per_worker = 0}), cask::Error);
  CHECK_THROWS_AS(cask::Client({.workers = -1, .threads_per_worker = 1}), cask::Error);
}

TEST_CASE("Client.default_has_one_worker_per_hardware_thread" * doctest::timeout(10)) {
  cask::Client client;
  auto s = client.stats();
  const auto hw = std::max(1u, std::thread::hardware_concurrency());
  CHECK(s.workers == hw);
  CHECK(s.slots == hw);
  CHECK(client.submit(slow, 5).result() == 15);
}

TEST_CASE("Stats.reports_workers_and_slots" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 3}};
  auto s = client.stats();
  CHECK(s.workers == 2);
  CHECK(s.slots == 6);
  CHECK(s.slots_busy == 0);
  CHECK(s.tasks() == 0);
  CHECK(s.future_actors == 0);
}
