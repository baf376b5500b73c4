// Cluster mode, futures inside coordination objects (Dask: a future put into a Queue or
// Variable): the receiver gets a live future bound to the same key in its own client; the
// key stays alive while a Queue, Variable or topic holds it, and is released once the
// taker (or the variable's next value) lets go; failed, cancelled and unknown keys give
// their errors at the receiver.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster_util.hpp"
#include "future_tasks.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;
using namespace std::chrono_literals;

namespace {

constexpr int kGateLimitMs = 30000;  // a gated task gives up (throws) after this long

/// True once the scheduler's table is empty: every key was released.
bool table_empties(cask::Client& client) {
  return eventually([&] { return client.stats().tasks() == 0; });
}

/// Round trips through the client's proxy to the scheduler: a release the client batched
/// before the first has reached the scheduler when the second returns.
void settle(cask::Client& client) {
  (void)client.stats();
  (void)client.stats();
}

}  // namespace

TEST_CASE("ClusterFutureObjects.queue_hands_future_to_another_client" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client a{cluster};
  cask::Client b{cluster};
  cask::Future<int> f = a.submit(inc, 41);
  cask::Queue<cask::Future<int>>{"futures", a}.put(f);
  cask::Future<int> g = cask::Queue<cask::Future<int>>{"futures", b}.get(kPatience);
  CHECK(g.key() == f.key());
  CHECK(g.result(kPatience) == 42);
  // The received future is an ordinary one of b: gather, and a dependency of b's tasks.
  CHECK(b.gather(std::vector{g}) == std::vector{42});
  CHECK(b.submit(add, g, 1).result(kPatience) == 43);
  // Several futures inside one value.
  cask::Queue<std::vector<cask::Future<int>>> lists{"lists", a};
  lists.put({a.submit(inc, 1), a.submit(inc, 2)});
  auto got = cask::Queue<std::vector<cask::Future<int>>>{"lists", b}.get(kPatience);
  REQUIRE(got.size() == 2);
  CHECK(b.gather(got) == std::vector{2, 3});
}

TEST_CASE("ClusterFutureObjects.queue_keeps_future_alive_after_putter_drops_it" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  ScratchDir dir;
  const std::string gate = dir.file("gate"), log = dir.file("log");
  cask::Client a{cluster};
  cask::Client b{cluster};
  std::string key;
  {
    cask::Future<int> f = a.submit(gated, gate, log, 7, kGateLimitMs);
    key = f.key();
    cask::Queue<cask::Future<int>>{"pending", a}.put(f);
  }  // a's last handle: without the queue's hold the task would be cancelled now
  settle(a);
  open_gate(gate);
  cask::Future<int> g = cask::Queue<cask::Future<int>>{"pending", b}.get(kPatience);
  CHECK(g.key() == key);
  CHECK(g.result(kPatience) == 7);
  CHECK(count_lines(log, "stopped") == 0);
  // Taken out and dropped by the taker: released.
  g = {};
  CHECK(table_empties(a));
}

TEST_CASE("ClusterFutureObjects.variable_holds_future_until_overwritten" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client a{cluster};
  cask::Client b{cluster};
  cask::Variable<cask::Future<int>> v{"latest", a};
  v.set(a.submit(inc, 1));  // the variable is its only holder
  settle(a);
  {
    cask::Future<int> g = cask::Variable<cask::Future<int>>{"latest", b}.get(kPatience);
    CHECK(g.result(kPatience) == 2);
  }
  settle(b);
  // A get leaves the value in the variable: the key stays.
  CHECK(a.stats().finished == 1);
  CHECK(v.get(kPatience).result(kPatience) == 2);
  v.set(a.submit(inc, 10));
  CHECK(v.get(kPatience).result(kPatience) == 11);
  CHECK(eventually([&] { return a.stats().tasks() == 1; }));  // the first key went with its value
  v.erase();
  CHECK(table_empties(a));
}

TEST_CASE("ClusterFutureObjects.task_takes_future_from_variable_into_nested_submit" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Variable<cask::Future<int>> v{"input", client};
  v.set(client.submit(inc, 9));
  CHECK(client.submit(variable_future_plus, std::string("input"), 5).result(kPatience) == 15);
  // And from a queue, the putter's handle gone.
  cask::Queue<cask::Future<int>>{"work", client}.put(client.submit(inc, 99));
  CHECK(client.submit(queue_future_result, std::string("work")).result(kPatience) == 100);
}

TEST_CASE("ClusterFutureObjects.failed_task_error_reaches_receiver" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client a{cluster};
  cask::Client b{cluster};
  cask::Queue<cask::Future<int>>{"failures", a}.put(a.submit(fail_with, std::string("boom at the source")));
  cask::Future<int> g = cask::Queue<cask::Future<int>>{"failures", b}.get(kPatience);
  std::string message;
  try {
    (void)g.result(kPatience);
  } catch (const std::exception& e) {
    message = e.what();
  }
  CHECK(contains(message, "boom at the source"));
  CHECK(g.status() == cask::Status::error);
}

TEST_CASE("ClusterFutureObjects.cancelled_or_unknown_key_is_cancelled_at_receiver" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  ScratchDir dir;
  cask::Client a{cluster};
  cask::Client b{cluster};
  // Cancelled while it sits in the queue.
  cask::Future<int> f = a.submit(gated, dir.file("gate"), dir.file("log"), 1, kGateLimitMs);
  cask::Queue<cask::Future<int>> q{"doomed", a};
  q.put(f);
  f.cancel();
  cask::Future<int> g = cask::Queue<cask::Future<int>>{"doomed", b}.get(kPatience);
  CHECK_THROWS_AS((void)g.result(kPatience), cask::CancelledError);
  CHECK(g.status() == cask::Status::cancelled);
  // A key the cluster never had (or forgot): cancelled, and the client keeps serving.
  auto gone = nlohmann::json{{"cask.future", "inc-0123456789abcdef"}}.get<cask::Future<int>>();
  CHECK_THROWS_AS((void)gone.result(kPatience), cask::CancelledError);
  CHECK(b.submit(inc, 2).result(kPatience) == 3);
  // A value that names no key: an error at the call, and no claim is made.
  const nlohmann::json no_key = {{"other", 1}};
  CHECK_THROWS_AS((void)no_key.get<cask::Future<int>>(), nlohmann::json::exception);
  // Encoded anywhere but in a coordination value (inside a task's argument or result),
  // nothing would hold its key until it is claimed: a clear error instead.
  auto held = b.submit(inc, 5);
  CHECK_THROWS_AS((void)nlohmann::json(held), cask::SerializationError);
  CHECK(held.result(kPatience) == 6);
  held = {};
  CHECK(table_empties(b));
}

TEST_CASE("ClusterFutureObjects.pubsub_carries_futures" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client a{cluster};
  cask::Client b{cluster};
  cask::Sub<cask::Future<int>> sub{"news", b};
  cask::Pub<cask::Future<int>>{"news", a}.put(a.submit(inc, 4));
  settle(a);
  cask::Future<int> g = sub.get(kPatience);
  CHECK(g.result(kPatience) == 5);
  g = {};
  CHECK(table_empties(a));
}
