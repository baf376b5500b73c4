// cask::Queue<T>, embedded only. Everything else about Queue runs in both modes in
// tests/both/queue_test.cpp. Kept here because they cannot mean anything in cluster mode:
// - Queue.without_any_client_throws: needs a process with no Client at all (no cluster).
// - Queue.handle_captured_by_a_lambda_task_is_the_same_queue: lambda tasks are embedded only
//   (a cluster rejects them by design).
// - Queue.client_destroyed_while_objects_hold_futures_shuts_down_cleanly: destroying the
//   embedded Client destroys the cluster that holds the objects; a cluster Client's end does
//   not (covered both ways by Both.Queue.get_blocked_on_the_client_side_fails_...).
#include <optional>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Queue.without_any_client_throws" * doctest::timeout(30)) {
  CHECK_THROWS_AS((cask::Queue<int>{"nowhere"}), cask::Error);
  CHECK_THROWS_AS((cask::Variable<int>{"nowhere"}), cask::Error);
  CHECK_THROWS_AS((cask::Lock{"nowhere"}), cask::Error);
  CHECK_THROWS_AS((cask::Semaphore{"nowhere", 1}), cask::Error);
  CHECK_THROWS_AS((cask::Event{"nowhere"}), cask::Error);
  CHECK_THROWS_AS((cask::Pub<int>{"nowhere"}), cask::Error);
  CHECK_THROWS_AS((cask::Sub<int>{"nowhere"}), cask::Error);
  // Once a client exists, the same name opens.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"nowhere"};
  q.put(1);
  CHECK(q.get(kPatience) == 1);
}

TEST_CASE("Queue.handle_captured_by_a_lambda_task_is_the_same_queue" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Queue<int> a{"shared", client};
  auto putter = client.submit(cask::options{.pure = false}, [a] { a.put(99); return 0; });
  REQUIRE(putter.result(kPatience) == 0);
  CHECK(a.get(kPatience) == 99);
  CHECK(a.size() == 0);
}

TEST_CASE("Queue.client_destroyed_while_objects_hold_futures_shuts_down_cleanly" * doctest::timeout(30)) {
  std::optional<cask::Client> client;
  client.emplace(cask::ClientOptions{.workers = 2, .threads_per_worker = 1});
  Gate gate;
  OpenOnExit opener{gate.open};
  cask::Queue<cask::Future<int>> q{"held", *client};
  cask::Variable<cask::Future<int>> v{"held", *client};
  q.put(client->submit(gate.task(1)));  // running, held only by the queue
  REQUIRE(gate.started->wait_for());
  auto done = client->submit(cask::options{.pure = false}, slow, 2);
  REQUIRE(done.result(kPatience) == 6);
  q.put(done);
  v.set(done);
  done = {};
  client.reset();  // must neither hang nor crash with futures inside the objects
  CHECK(gate.left->wait_for());
  CHECK_THROWS_AS((void)q.get(10ms), cask::CommError);
  CHECK_THROWS_AS((void)v.get(10ms), cask::CommError);
  CHECK_THROWS_AS(q.put(cask::Future<int>{}), cask::CommError);
}
