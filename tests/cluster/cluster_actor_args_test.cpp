// Cluster mode, actor futures as task arguments (Dask allows passing an actor, and the
// future of an actor's method, to submit): the future of submit_actor and the future of a
// call are dependencies like any task's. The dependent waits for them, receives the handle
// or the call's result, fails with their error, fails when the hosting worker is killed,
// and leaves nothing in the scheduler's table once released. Pending calls are gated on
// files (Counter::hold), never on sleeps.
#include <algorithm>
#include <string>
#include <vector>

#include "actor_tasks.hpp"
#include "actor_test_util.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;

TEST_CASE("ClusterActorArgs.an_actor_future_passes_its_handle_and_the_task_calls_through_it" *
          doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  // Submitted at once: the task waits for the instance, then calls it through the handle.
  auto made = client.submit_actor<Counter>(10);
  auto through = client.submit(add_through, made, 5);
  CHECK(through.result(kPatience) == 15);
  // The task's call changed the one instance the client holds.
  auto counter = made.result(kPatience);
  CHECK(counter.call(&Counter::get).result(kPatience) == 15);
  // A second task with the same (finished) handle future sees that state.
  CHECK(client.submit(add_through, made, 1).result(kPatience) == 16);
  CHECK(client.stats().actors == 1);
}

TEST_CASE("ClusterActorArgs.a_call_future_passes_its_result_once_the_call_is_done" * doctest::timeout(60)) {
  GatedCluster g;
  auto& [dir, gate, log, cluster, client, guard] = g;
  auto counter = client.submit_actor<Counter>(4).result(kPatience);
  CHECK(client.submit(inc, counter.call(&Counter::add, 10)).result(kPatience) == 15);
  // A call held on its worker: the dependent cannot have run before the gate opens.
  auto held = counter.call(&Counter::hold, gate, log);
  auto dependent = client.submit(add, held, counter.call(&Counter::increment));
  REQUIRE(wait_for_line(log, "start"));
  CHECK_FALSE(dependent.done());
  open_gate(gate);
  CHECK(dependent.result(kPatience) == 14 + 15);
  // Calls and tasks mix: a task future and a call future in one submit.
  CHECK(client.submit(add, client.submit(inc, 1), counter.call(&Counter::get)).result(kPatience) == 2 + 15);
}

TEST_CASE("ClusterActorArgs.a_list_of_call_futures_is_one_argument" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  auto counter = client.submit_actor<Counter>().result(kPatience);
  std::vector<cask::Future<int>> calls;
  for (int k = 1; k <= 4; ++k) calls.push_back(counter.call(&Counter::add, k));
  // Running totals 1, 3, 6, 10, in call order.
  CHECK(client.submit(sum, calls).result(kPatience) == 20);
  // A task's future and call futures in one list.
  std::vector<cask::Future<int>> mixed{client.submit(inc, 99), counter.call(&Counter::get)};
  CHECK(client.submit(sum, mixed).result(kPatience) == 110);
}

TEST_CASE("ClusterActorArgs.a_failed_or_cancelled_call_fails_its_dependents_the_same_way" *
          doctest::timeout(60)) {
  GatedCluster g;
  auto& [dir, gate, log, cluster, client, guard] = g;
  auto counter = client.submit_actor<Counter>().result(kPatience);
  auto failing = counter.call(&Counter::fail_if, -3);
  auto dependent = client.submit(inc, failing);
  const std::string call_error = error_of<cask::Error>([&] { (void)failing.result(kPatience); });
  CHECK(contains(call_error, "negative -3"));
  CHECK(error_of<cask::Error>([&] { (void)dependent.result(kPatience); }) == call_error);
  // Through a list too, and a dependent of the dependent.
  auto listed = client.submit(sum, std::vector<cask::Future<int>>{counter.call(&Counter::get), failing});
  auto second = client.submit(inc, listed);
  CHECK(contains(error_of<cask::Error>([&] { (void)second.result(kPatience); }), "negative -3"));
  // A call cancelled before it ran: its dependent is cancelled.
  auto held = counter.call(&Counter::hold, gate, log);
  auto queued = counter.call(&Counter::increment);
  auto after_queued = client.submit(inc, queued);
  REQUIRE(wait_for_line(log, "start"));
  queued.cancel();
  CHECK_THROWS_AS((void)after_queued.result(kPatience), cask::CancelledError);
  open_gate(gate);
  CHECK(held.result(kPatience) == 0);
  // The actor and the client serve on.
  CHECK(client.submit(inc, counter.call(&Counter::increment)).result(kPatience) == 2);
}

TEST_CASE("ClusterActorArgs.killing_the_hosting_worker_fails_dependents_of_its_futures" *
          doctest::timeout(60)) {
  GatedCluster g;
  auto& [dir, gate, log, cluster, client, guard] = g;
  auto made = client.submit_actor<Counter>();
  auto counter = made.result(kPatience);
  const int host = counter.call(&Counter::pid).result(kPatience);
  auto held = counter.call(&Counter::hold, gate, log);
  auto dependent = client.submit(inc, held);
  REQUIRE(wait_for_line(log, "start"));
  kill_worker_with_pid(cluster, host);
  const std::string what = error_of<cask::CommError>([&] { (void)dependent.result(kPatience); });
  CHECK(contains(what, "was lost"));
  CHECK(contains(what, counter.key()));
  // The handle's future is finished, but the instance is gone: a task calling it fails.
  auto late = client.submit(add_through, made, 1);
  CHECK(contains(error_of<cask::Error>([&] { (void)late.result(kPatience); }), "lost"));
  // The cluster serves on.
  CHECK(client.submit(inc, client.submit_actor<Counter>(7).result(kPatience).call(&Counter::get))
            .result(kPatience) == 8);
}

TEST_CASE("ClusterActorArgs.releasing_everything_leaves_the_scheduler_table_empty" * doctest::timeout(60)) {
  GatedCluster g;
  auto& [dir, gate, log, cluster, client, guard] = g;
  {
    auto made = client.submit_actor<Counter>();
    auto counter = made.result(kPatience);
    std::vector<cask::Future<int>> outcomes;
    outcomes.push_back(client.submit(add_through, made, 2));
    outcomes.push_back(client.submit(inc, counter.call(&Counter::add, 3)));
    outcomes.push_back(client.submit(sum, std::vector{counter.call(&Counter::get), counter.call(&Counter::get)}));
    outcomes.push_back(client.submit(inc, counter.call(&Counter::fail_if, -1)));
    for (std::size_t i = 0; i < 3; ++i) CHECK(outcomes[i].result(kPatience) > 0);
    CHECK(contains(error_of<cask::Error>([&] { (void)outcomes[3].result(kPatience); }), "negative -1"));
    CHECK(client.stats().tasks() > 0);
    // One dependent dropped while its call is still held: it is never submitted. (Held
    // last: the held call occupies its worker's only slot, which the calls above need.)
    auto held = counter.call(&Counter::hold, gate, log);
    (void)client.submit(inc, held);
    REQUIRE(wait_for_line(log, "start"));
    open_gate(gate);
    CHECK(held.result(kPatience) >= 2);
  }
  CHECK(eventually([&] {
    const auto s = client.stats();
    return s.tasks() == 0 && s.actors == 0;
  }));
  INFO("stats after release: " << client.stats());
}
