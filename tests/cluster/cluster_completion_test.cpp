// Cluster mode, completion: cask::wait (FIRST_COMPLETED, ALL_COMPLETED, FIRST_EXCEPTION,
// timeouts), as_completed (completion order, .add while iterating), add_done_callback,
// and nested submission from inside tasks (get_client), also on a single slot.
#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cluster_util.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;

namespace {

constexpr int kGateLimitMs = 30000;
using Futures = std::vector<cask::Future<int>>;

/// Gated tasks "g0", "g1", ... of one case: their gates open at scope exit.
struct Gates {
  const ScratchDir& dir;
  std::vector<std::string> gates;
  ~Gates() {
    for (const auto& g : gates) open_gate(g);
  }
  cask::Future<int> submit(cask::Client& client, int value) {
    const std::string name = "g" + std::to_string(gates.size());
    gates.push_back(dir.file(name + ".gate"));
    return client.submit(gated, gates.back(), log(gates.size() - 1), value, kGateLimitMs);
  }
  std::string log(std::size_t i) const { return dir.file("g" + std::to_string(i) + ".log"); }
  bool started(std::size_t i) const { return wait_for_line(log(i), "start"); }
  void open(std::size_t i) const { open_gate(gates.at(i)); }
};

}  // namespace

TEST_CASE("Cluster.wait_first_completed" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  Gates gates{dir};
  Futures fs{gates.submit(client, 10), gates.submit(client, 11)};
  REQUIRE(gates.started(0));
  REQUIRE(gates.started(1));
  gates.open(1);  // only the second can finish
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_COMPLETED);
  CHECK(done == Futures{fs[1]});
  CHECK(not_done == Futures{fs[0]});
  CHECK(fs[1].result() == 11);
  CHECK(fs[0].status() == cask::Status::pending);
  // An erred future counts as completed too.
  Futures mixed{fs[0], client.submit(fail_with, std::string("first"))};
  auto [done2, not_done2] = cask::wait(mixed, kPatience, cask::FIRST_COMPLETED);
  CHECK(done2 == Futures{mixed[1]});
  CHECK(not_done2 == Futures{fs[0]});
}

TEST_CASE("Cluster.wait_all_completed" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  Gates gates{dir};
  Futures fs = client.map(inc, std::vector{1, 2, 3, 4});
  fs.push_back(client.submit(fail_with, std::string("one fails")));
  fs.push_back(gates.submit(client, 7));
  REQUIRE(gates.started(0));
  // Not all done: the bounded wait throws, and the futures keep running.
  CHECK_THROWS_AS((void)cask::wait(fs, 300ms, cask::ALL_COMPLETED), cask::TimeoutError);
  CHECK(fs.back().status() == cask::Status::pending);
  gates.open(0);
  auto [done, not_done] = cask::wait(fs, kPatience, cask::ALL_COMPLETED);
  CHECK(done == fs);  // input order
  CHECK(not_done.empty());
  for (const auto& f : done) CHECK(f.done());
  CHECK(fs[4].status() == cask::Status::error);
  CHECK(fs[5].result() == 7);
  // Without timeout and with the default return_when.
  Futures more = client.map(inc, std::vector{5, 6});
  auto [done2, not_done2] = cask::wait(more);
  CHECK(done2 == more);
  CHECK(not_done2.empty());
}

TEST_CASE("Cluster.wait_timeout_throws_timeout_error" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  Gates gates{dir};
  Futures fs{gates.submit(client, 1), gates.submit(client, 2)};
  REQUIRE(gates.started(0));
  REQUIRE(gates.started(1));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)cask::wait(fs, 200ms, cask::FIRST_COMPLETED), cask::TimeoutError);
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= 200ms);
  CHECK(waited < kPatience);
  CHECK_THROWS_AS((void)cask::wait(fs, 0ms, cask::ALL_COMPLETED), cask::TimeoutError);
  CHECK_THROWS_AS((void)cask::wait(fs, 100ms, cask::FIRST_EXCEPTION), cask::TimeoutError);
  // Nothing was cancelled by the timeouts.
  for (const auto& f : fs) CHECK(f.status() == cask::Status::pending);
  gates.open(0);
  gates.open(1);
  CHECK(client.gather(fs) == std::vector{1, 2});
}

TEST_CASE("Cluster.wait_first_exception" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  Gates gates{dir};
  Futures fs{gates.submit(client, 1)};
  REQUIRE(gates.started(0));
  fs.push_back(client.submit(fail_with, std::string("first exception")));
  auto [done, not_done] = cask::wait(fs, kPatience, cask::FIRST_EXCEPTION);
  CHECK(done == Futures{fs[1]});
  CHECK(not_done == Futures{fs[0]});
  CHECK_THROWS_AS((void)fs[1].result(), cask::RemoteError);
}

TEST_CASE("Cluster.as_completed_yields_in_completion_order" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  Gates gates{dir};
  Futures fs{gates.submit(client, 0), gates.submit(client, 1)};
  REQUIRE(gates.started(0));
  REQUIRE(gates.started(1));
  gates.open(1);  // the second finishes first
  std::vector<int> order;
  for (auto& f : cask::as_completed(fs)) {
    order.push_back(f.result());
    if (order.size() == 1) gates.open(0);  // only now may the first one finish
  }
  CHECK(order == std::vector{1, 0});
}

TEST_CASE("Cluster.as_completed_add_while_iterating" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  Gates gates{dir};
  Futures fs{gates.submit(client, 0), gates.submit(client, 1)};
  REQUIRE(gates.started(0));
  REQUIRE(gates.started(1));
  gates.open(0);
  auto ac = cask::as_completed(fs);
  std::multiset<int> seen;  // values; -1 for the failing one
  int first = -2;
  int steps = 0;
  for (auto& f : ac) {
    ++steps;
    if (f.status() == cask::Status::error) {
      CHECK_THROWS_AS((void)f.result(), cask::RemoteError);
      seen.insert(-1);
    } else {
      seen.insert(f.result());
    }
    if (steps == 1) {
      first = f.result();
      ac.add(client.submit(inc, 99));  // added while iterating
      ac.add(client.submit(fail_with, std::string("added and failing")));
      gates.open(1);
    }
    if (steps > 4) break;  // more than were ever added: a bug, do not loop forever
  }
  CHECK(first == 0);  // the only one that could finish first
  CHECK(steps == 4);
  CHECK(seen == std::multiset<int>{-1, 0, 1, 100});
  CHECK(ac.is_empty());
}

TEST_CASE("Cluster.add_done_callback" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  Gates gates{dir};
  struct Seen {
    std::mutex mu;
    std::vector<std::pair<std::string, cask::Status>> calls;  // key, status at the call
  };
  auto seen = std::make_shared<Seen>();
  auto latch = std::make_shared<Latch>();
  auto record = [seen, latch](const cask::Future<int>& f) {
    {
      std::lock_guard lk(seen->mu);
      seen->calls.emplace_back(f.key(), f.status());
    }
    latch->count_down();
  };
  auto count_of = [seen](const std::string& key) {
    std::lock_guard lk(seen->mu);
    return std::count_if(seen->calls.begin(), seen->calls.end(), [&](const auto& c) { return c.first == key; });
  };
  auto status_of = [seen](const std::string& key) {
    std::lock_guard lk(seen->mu);
    for (const auto& c : seen->calls)
      if (c.first == key) return c.second;
    return cask::Status::lost;
  };

  // Registered while pending, runs once it finishes.
  cask::Future<int> pending = gates.submit(client, 5);
  REQUIRE(gates.started(0));
  pending.add_done_callback(record);
  CHECK(latch->count() == 0);  // gated: cannot have finished
  gates.open(0);
  REQUIRE(latch->wait_for(1));
  CHECK(status_of(pending.key()) == cask::Status::finished);

  // An erring task and a cancelled one call back too.
  cask::Future<int> failing = client.submit(fail_with, std::string("callback"));
  failing.add_done_callback(record);
  cask::Future<int> cancelled = gates.submit(client, 6);
  REQUIRE(gates.started(1));
  cancelled.add_done_callback(record);
  cancelled.cancel();
  REQUIRE(latch->wait_for(3));
  CHECK(status_of(failing.key()) == cask::Status::error);
  CHECK(status_of(cancelled.key()) == cask::Status::cancelled);

  // Registered after it finished: runs (once) all the same.
  cask::Future<int> finished = client.submit(inc, 1);
  REQUIRE(finished.result(kPatience) == 2);
  finished.add_done_callback(record);
  REQUIRE(latch->wait_for(4));
  CHECK(status_of(finished.key()) == cask::Status::finished);

  // Each ran exactly once.
  CHECK(client.submit(inc, 2).result(kPatience) == 3);  // give stray calls a chance to show
  CHECK(count_of(pending.key()) == 1);
  CHECK(count_of(failing.key()) == 1);
  CHECK(count_of(cancelled.key()) == 1);
  CHECK(count_of(finished.key()) == 1);
  CHECK(latch->count() == 4);
}

TEST_CASE("Cluster.nested_submission_inside_a_task" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  // map(inc, 0..4) = 1..5, sum 15, plus add(1, 5) = 6.
  CHECK(client.submit(nested_map_gather, 5).result(kPatience) == 21);
  // Several parents at once, each with children.
  Futures parents = client.map(nested_map_gather, std::vector{1, 2, 3, 4});
  // n=1: [1] -> 1 + add(1,1)=2 -> 3; n=2: 3 + 3 = 6; n=3: 6 + 4 = 10; n=4: 10 + 5 = 15.
  CHECK(client.gather(parents) == std::vector{3, 6, 10, 15});
  // Children that wait on their own children, one by one and with wait/as_completed.
  // sum(inc(i)) for i < 4 = 10; sum(add(i, i)) = 12.
  CHECK(client.submit(nested_wait_children, 4).result(kPatience) == 22);
}

// The two parents share pure children (inc(0), inc(1), ...): one parent's release of a
// child and the other's submit of the same key must reach the scheduler in order.
TEST_CASE("Cluster.nested_waiting_on_children_with_one_slot" * doctest::timeout(60)) {
  // One worker, one thread: a parent blocked on its children must hand its slot over,
  // or nothing can ever run them.
  cask::LocalCluster cluster{cluster_options(1, 1)};
  cask::Client client{cluster};
  REQUIRE(client.stats().slots == 1);
  CHECK(client.submit(nested_wait_children, 4).result(3 * kPatience) == 22);
  CHECK(client.submit(nested_map_gather, 5).result(3 * kPatience) == 21);
  // Two parents competing for the one slot.
  Futures parents{client.submit(nested_wait_children, 3), client.submit(nested_map_gather, 3)};
  // n=3: 1+2+3 = 6 and 0+2+4 = 6 -> 12; map: 1+2+3 = 6 + add(1,3) = 4 -> 10.
  CHECK(parents[0].result(3 * kPatience) == 12);
  CHECK(parents[1].result(3 * kPatience) == 10);
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
}
