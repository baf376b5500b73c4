// Both modes, actors (CASK_ACTOR types of tests/cluster/actor_tasks.hpp): submit_actor,
// method calls returning futures that run one at a time in the order sent, call futures
// with timeouts/wait/as_completed, exceptions from methods (the original exception embedded,
// RemoteError on a cluster), named actors found from tasks, handles as task arguments,
// cancelling a queued call or the actor, and the instance going with its last handle.
// Calls that must stay pending are gated on files (Counter::hold), never on sleeps.
#include <atomic>
#include <set>
#include <type_traits>
#include <string>
#include <vector>

#include "actor_tasks.hpp"
#include "coord_actor_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_cluster_test::contains;
using cask_cluster_test::count_lines;
using cask_cluster_test::error_of;
using cask_cluster_test::eventually;

BOTH_CASE("Actor.calls_return_futures_and_run_in_the_order_sent", 30) {
  auto counter = env.client.submit_actor<Counter>().result(kPatience);
  auto started = env.client.submit_actor<Counter>(40).result(kPatience);  // CASK_ACTOR_INIT(Counter, int)
  REQUIRE(counter.valid());
  std::vector<cask::Future<int>> calls;
  for (int i = 0; i < 200; ++i) calls.push_back(counter.call(&Counter::increment));  // pipelined
  for (int i = 0; i < 200; ++i) CHECK(calls[i].result(kPatience) == i + 1);
  CHECK(counter.call(&Counter::add, 5).result(kPatience) == 205);
  CHECK(counter.call(&Counter::get).result(kPatience) == 205);
  CHECK(started.call(&Counter::increment).result(kPatience) == 41);
  CHECK(calls[0].key() != calls[1].key());  // every call is a task of its own
  CHECK(env.client.stats().actors == 2);
}

BOTH_CASE("Actor.call_futures_work_with_timeouts_wait_and_as_completed", 30) {
  Gate gate(env, "hold");
  auto counter = env.client.submit_actor<Counter>(1).result(kPatience);
  auto held = counter.call(&Counter::hold, gate.path(), gate.log());
  auto behind = counter.call(&Counter::add, 10);  // queued behind the held call
  REQUIRE(gate.wait_for(1));
  CHECK_THROWS_AS(held.result(50ms), cask::TimeoutError);
  CHECK_THROWS_AS(cask::wait(std::vector{held, behind}, 50ms, cask::FIRST_COMPLETED), cask::TimeoutError);
  CHECK(held.status() == cask::Status::pending);
  CHECK(behind.status() == cask::Status::pending);
  gate.open();
  std::vector<int> values;
  for (auto& f : cask::as_completed(std::vector{held, behind})) values.push_back(f.result());
  CHECK(values == std::vector<int>{1, 11});  // in the order they ran
  auto [done, not_done] = cask::wait(std::vector{held, behind}, kPatience);
  CHECK(done.size() == 2);
  CHECK(not_done.empty());
}

BOTH_CASE("Actor.a_throwing_method_fails_that_call_only", 30) {
  auto counter = env.client.submit_actor<Counter>().result(kPatience);
  CHECK(counter.call(&Counter::fail_if, 3).result(kPatience) == 3);
  auto failed = counter.call(&Counter::fail_if, -7);
  CHECK(task_error_message<TaskFailure>(env, failed, "cluster_tasks::TaskFailure") == "negative -7");
  CHECK(failed.status() == cask::Status::error);
  // The actor lives on, its state untouched by the failed call.
  CHECK(counter.call(&Counter::increment).result(kPatience) == 4);
}

BOTH_CASE("Actor.calls_outside_the_registered_methods_per_mode", 30) {
  auto counter = env.client.submit_actor<Counter>(2).result(kPatience);
  // Embedded, call takes any callable on the instance; on a cluster only the methods listed
  // in CASK_ACTOR can be named to another process: NotRegisteredError at the call.
  if (env.cluster()) {
    const auto method = error_of([&] { (void)counter.call(&Counter::unlisted); });
    CHECK(contains(method, "cask::NotRegisteredError"));
    CHECK(contains(method, "unlisted"));
    CHECK_THROWS_AS((void)counter.call([](Counter& c) { return c.n; }), cask::NotRegisteredError);
    CHECK_THROWS_AS((void)env.client.submit_actor<Unlisted>(), cask::NotRegisteredError);
    CHECK(contains(error_of([&] { (void)env.client.submit_actor<Unlisted>(); }), "Unlisted"));
    CHECK(contains(error_of([&] { (void)env.client.submit_actor<Counter>(2, 3); }), "Counter(int, int)"));
  } else {
    CHECK(counter.call(&Counter::unlisted).result(kPatience) == -1);
    CHECK(counter.call([](Counter& c) { return c.n * 10; }).result(kPatience) == 20);
    CHECK(env.client.submit_actor<Unlisted>().result(kPatience).call(&Unlisted::f).result(kPatience) == 1);
    CHECK(env.client.submit_actor<Counter>(2, 3).result(kPatience).call(&Counter::get).result(kPatience) == 6);
  }
  // Nothing above disturbed the actor.
  CHECK(counter.call(&Counter::increment).result(kPatience) == 3);
}

BOTH_CASE("Actor.named_actors_are_found_from_tasks", 30) {
  auto hits = env.client.submit_actor<Counter>(cask::actor_options{.name = "both.hits"}).result(kPatience);
  CHECK(hits.name() == "both.hits");
  auto same = env.client.get_actor<Counter>("both.hits");
  CHECK(same.call(&Counter::add, 10).result(kPatience) == 10);
  // A task looks it up through get_client().
  CHECK(env.client.submit(bump_named, std::string("both.hits"), 5).result(kPatience) == 15);
  CHECK(hits.call(&Counter::increment).result(kPatience) == 16);
  // A second live actor with that name fails that submit; the first one is untouched.
  auto twice = env.client.submit_actor<Counter>(cask::actor_options{.name = "both.hits"});
  CHECK(contains(error_of([&] { (void)twice.result(kPatience); }), "both.hits"));
  CHECK(hits.call(&Counter::get).result(kPatience) == 16);
  // Unknown names and other types are clear errors.
  const auto unknown = error_of([&] { (void)env.client.get_actor<Counter>("both.nobody"); });
  CHECK(contains(unknown, "both.nobody"));
  CHECK_THROWS_AS((void)env.client.get_actor<Tracker>("both.hits"), cask::Error);
  // A task looking up an unknown name fails with that error.
  CHECK_THROWS_AS((void)env.client.submit(bump_named, std::string("both.nobody"), 1).result(kPatience), cask::Error);
}

BOTH_CASE("Actor.handle_as_a_task_argument", 30) {
  auto counter = env.client.submit_actor<Counter>().result(kPatience);
  // Tasks on both workers get the handle as an argument and call the actor through it.
  std::vector<cask::Future<int>> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back(env.client.submit(add_through, counter, 1));
  std::set<int> seen;
  for (auto& t : tasks) seen.insert(t.result(kPatience));
  CHECK(seen == std::set<int>{1, 2, 3, 4, 5, 6});
  CHECK(counter.call(&Counter::get).result(kPatience) == 6);
  CHECK(env.client.stats().actors == 1);
}

BOTH_CASE("Actor.cancelling_a_queued_call_skips_it", 30) {
  Gate gate(env, "hold");
  auto counter = env.client.submit_actor<Counter>().result(kPatience);
  auto held = counter.call(&Counter::hold, gate.path(), gate.log());
  REQUIRE(gate.wait_for(1));
  auto skipped = counter.call(&Counter::add, 100);
  auto after = counter.call(&Counter::add, 1);
  skipped.cancel();
  CHECK(skipped.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)skipped.result(), cask::CancelledError);
  gate.open();
  CHECK(held.result(kPatience) == 0);
  // Embedded, the cancel reaches the actor's queue at once: add(100) never runs. On a
  // cluster the cancel travels to the hosting worker behind the call; when the gate opens
  // before it arrives, add(100) has already run. The future says cancelled either way.
  const int value = after.result(kPatience);
  if (env.cluster())
    CHECK((value == 1 || value == 101));
  else
    CHECK(value == 1);
  CHECK(skipped.status() == cask::Status::cancelled);
}

BOTH_CASE("Actor.cancel_destroys_the_instance_and_later_calls_fail", 30) {
  const auto log = env.file("tracker.log");
  auto tracker = env.client.submit_actor<Tracker>(cask::actor_options{.name = "both.gone"}, log).result(kPatience);
  CHECK(tracker.call(&Tracker::ping).result(kPatience) == "pong");
  tracker.cancel();
  REQUIRE(logged(log, "destroyed"));
  // Later calls fail with a cask::Error: embedded it says the actor was released, on a
  // cluster it names the actor's key.
  const auto what = error_of([&] { (void)tracker.call(&Tracker::ping).result(kPatience); });
  CHECK_THROWS_AS((void)tracker.call(&Tracker::ping).result(kPatience), cask::Error);
  CHECK(contains(what, env.cluster() ? tracker.key() : std::string("released")));
  CHECK(eventually([&] { return env.client.stats().actors == 0; }));
  // The name is free again once the cancelled actor is gone.
  auto again = env.client.submit_actor<Tracker>(cask::actor_options{.name = "both.gone"}, env.file("t2.log"));
  CHECK(again.result(kPatience).call(&Tracker::ping).result(kPatience) == "pong");
}

BOTH_CASE("Actor.the_instance_goes_with_its_last_handle", 30) {
  const auto log = env.file("tracker.log");
  {
    auto tracker = env.client.submit_actor<Tracker>(cask::actor_options{.name = "both.t"}, log).result(kPatience);
    CHECK(tracker.call(&Tracker::ping).result(kPatience) == "pong");
    auto held = env.client.get_actor<Tracker>("both.t");
    { auto dropped = std::move(tracker); }  // one handle gone...
    // ...the other keeps it: its calls still run.
    CHECK(held.call(&Tracker::ping).result(kPatience) == "pong");
    CHECK(count_lines(log, "destroyed") == 0);
  }
  CHECK(logged(log, "destroyed"));
  CHECK(eventually([&] { return env.client.stats().actors == 0; }));
  CHECK_THROWS_AS((void)env.client.get_actor<Tracker>("both.t"), cask::Error);  // the name is free
  CHECK(count_lines(log, "destroyed") == 1);
}

BOTH_CASE("Actor.void_method_and_non_std_exception_per_mode", 30) {
  auto recorder = env.client.submit_actor<both_tasks::Recorder>().result(kPatience);
  auto noted = recorder.call(&both_tasks::Recorder::note, std::string("one"));
  static_assert(std::is_same_v<decltype(noted), cask::Future<void>>);
  noted.result(kPatience);
  recorder.call(&both_tasks::Recorder::note, std::string("two")).result(kPatience);
  CHECK(recorder.call(&both_tasks::Recorder::notes).result(kPatience) == std::vector<std::string>{"one", "two"});
  // A method throwing something that is no std::exception: embedded the very value comes
  // back; on a cluster a RemoteError that says so.
  auto bad = recorder.call(&both_tasks::Recorder::throw_non_std);
  try {
    (void)bad.result(kPatience);
    FAIL_CHECK("result() did not throw");
  } catch (const cask::RemoteError& e) {
    CHECK(env.cluster());
    CHECK(e.type_name() == "unknown exception");
  } catch (const int& value) {
    CHECK_FALSE(env.cluster());
    CHECK(value == 42);
  }
  CHECK(recorder.call(&both_tasks::Recorder::notes).result(kPatience).size() == 2);
}

BOTH_CASE("Actor.done_callback_fires_and_a_dropped_call_still_runs", 30) {
  auto counter = env.client.submit_actor<Counter>().result(kPatience);
  cask_cluster_test::Latch ran;
  std::atomic<int> seen{0};
  counter.call(&Counter::add, 4).add_done_callback([&](const cask::Future<int>& f) {
    seen = f.result();
    ran.count_down();
  });
  REQUIRE(ran.wait_for(1));
  CHECK(seen == 4);
  { auto dropped = counter.call(&Counter::increment); }  // nobody waits on it
  CHECK(counter.call(&Counter::get).result(kPatience) == 5);  // it ran, in order
  CHECK(ran.count() == 1);
}
