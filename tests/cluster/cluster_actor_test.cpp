// Cluster mode, actors: what only a LocalCluster of two worker processes shows: the
// process running the calls, a second client finding and keeping actors, a client that
// disconnects, a method with another signature on the worker, the hosting worker killed,
// handles sent into tasks on both workers. Calls that must stay pending are gated on files
// (Counter::hold), never on sleeps. The behaviours common to both modes (call futures,
// throwing methods, unregistered methods, cancel) are in tests/both/actor_test.cpp.
#include <set>
#include <string>
#include <vector>

#include "actor_tasks.hpp"
#include "actor_test_util.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;

TEST_CASE("ClusterActor.every_call_runs_in_the_one_worker_process_hosting_it" * doctest::timeout(60)) {
  // (Calls in order, pipelined: tests/both/actor_test.cpp.)
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  auto counter = client.submit_actor<Counter>().result(kPatience);
  const int host = counter.call(&Counter::pid).result(kPatience);
  const auto workers = cluster.worker_pids();
  CHECK(std::find(workers.begin(), workers.end(), host) != workers.end());
  std::vector<cask::Future<int>> pids;
  for (int i = 0; i < 20; ++i) pids.push_back(counter.call(&Counter::pid));
  for (auto& p : pids) CHECK(p.result(kPatience) == host);
}

TEST_CASE("ClusterActor.a_method_with_another_signature_on_the_worker_fails_that_call" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  auto counter = client.submit_actor<Counter>(3).result(kPatience);
  // Here scale is int(int); the workers' copy is int(std::string).
  auto call = counter.call(&Counter::scale, 2);
  const std::string what = error_of<cask::NotRegisteredError>([&] { (void)call.result(kPatience); });
  CHECK(contains(what, "scale"));
  CHECK(contains(what, "int(int)"));
  CHECK(contains(what, "std::"));
  CHECK(counter.call(&Counter::get).result(kPatience) == 3);
}

TEST_CASE("ClusterActor.named_actors_are_found_from_another_client_and_from_tasks" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  auto hits = client.submit_actor<Counter>(cask::actor_options{.name = "hits"}).result(kPatience);
  CHECK(hits.name() == "hits");
  cask::Client other{cluster};
  auto same = other.get_actor<Counter>("hits");
  CHECK(same.call(&Counter::add, 10).result(kPatience) == 10);
  CHECK(hits.call(&Counter::get).result(kPatience) == 10);
  // A task on a worker looks it up through get_client().
  CHECK(client.submit(bump_named, std::string("hits"), 5).result(kPatience) == 15);
  CHECK(hits.call(&Counter::increment).result(kPatience) == 16);
  // A second live actor with that name fails that submit.
  auto twice = client.submit_actor<Counter>(cask::actor_options{.name = "hits"});
  CHECK(contains(error_of<cask::Error>([&] { (void)twice.result(kPatience); }), "hits"));
  auto from_other = other.submit_actor<Counter>(cask::actor_options{.name = "hits"}, 1);
  CHECK_THROWS_AS((void)from_other.result(kPatience), cask::Error);
  CHECK(hits.call(&Counter::get).result(kPatience) == 16);  // the first one is untouched
  // Unknown names and other types are clear errors.
  const std::string unknown = error_of<cask::Error>([&] { (void)other.get_actor<Counter>("nobody"); });
  CHECK(contains(unknown, "nobody"));
  const std::string wrong = error_of<cask::Error>([&] { (void)other.get_actor<Tracker>("hits"); });
  CHECK(contains(wrong, "Counter"));
  CHECK(contains(wrong, "Tracker"));
}

TEST_CASE("ClusterActor.the_instance_goes_with_the_last_handle_anywhere" * doctest::timeout(60)) {
  ScratchDir dir;
  const std::string log = dir.file("tracker.log");
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  auto other = std::make_unique<cask::Client>(cluster);
  {
    auto tracker = client.submit_actor<Tracker>(cask::actor_options{.name = "t"}, log).result(kPatience);
    CHECK(tracker.call(&Tracker::ping).result(kPatience) == "pong");
    auto held = other->get_actor<Tracker>("t");
    { auto dropped = std::move(tracker); }  // this client's handles are gone...
    // ...but the other client's handle keeps it: its calls still run.
    CHECK(held.call(&Tracker::ping).result(kPatience) == "pong");
    CHECK(count_lines(log, "destroyed") == 0);
  }
  // The other client's handle went at the end of the scope.
  CHECK(wait_for_line(log, "destroyed"));
  CHECK_THROWS_AS((void)client.get_actor<Tracker>("t"), cask::Error);  // the name is free
  // A client that disconnects takes its actors with it.
  const std::string log2 = dir.file("tracker2.log");
  auto kept = other->submit_actor<Tracker>(log2).result(kPatience);
  CHECK(kept.call(&Tracker::ping).result(kPatience) == "pong");
  other.reset();
  CHECK(wait_for_line(log2, "destroyed"));
  CHECK(count_lines(log2, "destroyed") == 1);
}

TEST_CASE("ClusterActor.killing_the_hosting_worker_fails_pending_and_later_calls" * doctest::timeout(60)) {
  GatedCluster g;
  auto& [dir, gate, log, cluster, client, guard] = g;
  auto counter = client.submit_actor<Counter>(cask::actor_options{.name = "victim"}).result(kPatience);
  const int host = counter.call(&Counter::pid).result(kPatience);
  auto held = counter.call(&Counter::hold, gate, log);
  auto queued = counter.call(&Counter::increment);
  REQUIRE(wait_for_line(log, "start"));
  kill_worker_with_pid(cluster, host);
  for (auto* f : {&held, &queued}) {
    const std::string what = error_of<cask::CommError>([&] { (void)f->result(kPatience); });
    CHECK(contains(what, "was lost"));
    CHECK(contains(what, counter.key()));
  }
  CHECK_THROWS_AS((void)counter.call(&Counter::increment).result(kPatience), cask::CommError);
  // Its name does not lead to a fresh instance built elsewhere: the actor is lost.
  const std::string lookup = error_of<cask::Error>([&] { (void)client.get_actor<Counter>("victim"); });
  CHECK(contains(lookup, "lost"));
  // The cluster serves on: a new actor lands on the surviving worker.
  auto fresh = client.submit_actor<Counter>(7).result(kPatience);
  CHECK(fresh.call(&Counter::increment).result(kPatience) == 8);
  CHECK(fresh.call(&Counter::pid).result(kPatience) != host);
  CHECK(client.stats().actors == 1);
}

TEST_CASE("ClusterActor.calls_through_the_scheduler_node_fail_when_the_host_dies" * doctest::timeout(60)) {
  // This client makes no direct connection to the workers (a fault injected through its
  // environment): its calls reach the actor through the scheduler's node. They still fail
  // when the host dies, and so do later ones.
  ::setenv("CASK_TEST_NO_PEER_CONNECT", "1", 1);
  GatedCluster g;
  ::unsetenv("CASK_TEST_NO_PEER_CONNECT");
  auto& [dir, gate, log, cluster, client, guard] = g;
  auto counter = client.submit_actor<Counter>().result(kPatience);
  const int host = counter.call(&Counter::pid).result(kPatience);
  auto held = counter.call(&Counter::hold, gate, log);
  REQUIRE(wait_for_line(log, "start"));
  kill_worker_with_pid(cluster, host);
  const std::string what = error_of<cask::CommError>([&] { (void)held.result(kPatience); });
  CHECK(contains(what, "was lost"));
  CHECK_THROWS_AS((void)counter.call(&Counter::increment).result(kPatience), cask::CommError);
}

TEST_CASE("ClusterActor.cancel_after_the_host_died_returns_and_the_client_serves_on" * doctest::timeout(60)) {
  GatedCluster g;
  auto& [dir, gate, log, cluster, client, guard] = g;
  auto counter = client.submit_actor<Counter>().result(kPatience);
  const int host = counter.call(&Counter::pid).result(kPatience);
  kill_worker_with_pid(cluster, host);
  CHECK_THROWS_AS((void)counter.call(&Counter::increment).result(kPatience), cask::CommError);
  counter.cancel();  // nothing is left to stop: it returns, and nothing waits for the host
  CHECK_THROWS_AS((void)counter.call(&Counter::increment).result(kPatience), cask::Error);
  CHECK(eventually([&] { return client.stats().actors == 0; }));
  auto fresh = client.submit_actor<Counter>(7).result(kPatience);
  CHECK(fresh.call(&Counter::increment).result(kPatience) == 8);
}

TEST_CASE("ClusterActor.handles_cross_into_tasks_and_the_client_serves_on_after_dropping_them" *
          doctest::timeout(60)) {
  GatedCluster g;
  auto& [dir, gate, log, cluster, client, guard] = g;
  auto counter = client.submit_actor<Counter>().result(kPatience);
  // Tasks on both workers get the handle as an argument and call the actor through it.
  std::vector<cask::Future<int>> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back(client.submit(add_through, counter, 1));
  std::set<int> seen;
  for (auto& t : tasks) seen.insert(t.result(kPatience));
  CHECK(seen == std::set<int>{1, 2, 3, 4, 5, 6});
  CHECK(client.stats().actors == 1);
  // Drop the only handle while calls are pending: they still get their results, and the
  // client's own machinery (waiters with timeouts) keeps working afterwards.
  auto held = counter.call(&Counter::hold, gate, log);
  auto after = counter.call(&Counter::increment);
  REQUIRE(wait_for_line(log, "start"));
  counter = {};
  open_gate(gate);
  CHECK(held.result(kPatience) == 6);
  CHECK(after.result(kPatience) == 7);
  auto slow = client.submit(nap, 200);
  CHECK_THROWS_AS(cask::wait(std::vector{slow}, 10ms), cask::TimeoutError);
  CHECK(slow.result(kPatience) == 1);
  CHECK(eventually([&] { return client.stats().actors == 0; }));
  // A handle sent after its actor is gone fails that task with a clear error.
  auto doomed = client.submit_actor<Counter>().result(kPatience);
  doomed.cancel();
  auto late = client.submit(add_through, doomed, 1);
  CHECK_THROWS_AS((void)late.result(kPatience), cask::Error);
}
