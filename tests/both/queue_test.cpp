// Both modes, Queue: FIFO put/get, size, get_batch, get_all; timeouts that take nothing
// (also under concurrent puts); the same queue by name from handles, the default client and
// tasks (which block in get, their slot handed back, until a put); kinds' own namespaces;
// type mismatches; a cancelled getter takes nothing; a destroyed client fails its blocked
// get; queues of futures keep them alive; retirement of unused empty queues; volume; and
// values that cannot cross processes (kept by pointer embedded, SerializationError on a
// cluster).
#include <algorithm>
#include <future>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "coord_actor_tasks.hpp"
#include "coord_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using both_tasks::queue_get_batch_logged;
using both_tasks::queue_get_noting_cancel;
using both_tasks::queue_put_inc_futures;
using both_tasks::queue_put_range;
using both_tasks::queue_put_then_get;
using both_tasks::queue_put_via_get_client;
using both_tasks::queue_sum;
using cask_cluster_test::contains;
using cask_cluster_test::error_of;
using cask_cluster_test::eventually;

namespace {

/// A type without to_json/from_json: it cannot cross processes.
struct NoJson {
  int n = 0;
};

/// Live coordination objects (Queue, Lock, ...) of the client's cluster.
std::size_t objects(const cask::Client& client) { return client.stats().coordination_objects; }

/// A fresh (pure=false) submit: the same call twice is two tasks.
cask::options fresh() {
  cask::options opts;
  opts.pure = false;
  return opts;
}

/// A task blocked in Queue<int>{name}.get(), seen waiting through its log `log_name`.
cask::Future<int> blocked_getter(Env& env, const std::string& name, const std::string& log_name) {
  const auto log = env.file(log_name);
  auto getter = env.client.submit(queue_get_logged, name, log);
  REQUIRE(logged(log, "waiting"));
  return getter;
}

}  // namespace

BOTH_CASE("Queue.put_get_size_get_batch_and_get_all_in_fifo_order", 30) {
  cask::Queue<int> q{"both.q.fifo", env.client};
  CHECK(q.name() == "both.q.fifo");
  CHECK(q.size() == 0);
  for (int i = 1; i <= 5; ++i) q.put(i);
  CHECK(q.size() == 5);
  CHECK(q.get() == 1);
  CHECK(q.get_batch(2) == std::vector{2, 3});
  CHECK(q.get_all() == std::vector{4, 5});
  CHECK(q.size() == 0);
  CHECK(q.get_all().empty());  // never blocks
  for (int i = 0; i < 10; ++i) q.put(i);
  std::vector<int> ten(10);
  std::iota(ten.begin(), ten.end(), 0);
  CHECK(q.get_all() == ten);
  q.put(100);
  CHECK(q.get(kPatience) == 100);
  // Values of a type with state move through intact.
  cask::Queue<std::string> texts{"both.q.texts", env.client};
  texts.put("hello");
  texts.put(std::string(1000, 'x'));
  CHECK(texts.get(kPatience) == "hello");
  CHECK(texts.get(kPatience) == std::string(1000, 'x'));
  // Struct values keep their fields (MessagePack on a cluster).
  cask::Queue<Point> points{"both.q.points", env.client};
  points.put(Point{1, 2, "a"});
  CHECK(points.get(kPatience) == Point{1, 2, "a"});
}

BOTH_CASE("Queue.timeouts_throw_and_take_nothing", 30) {
  cask::Queue<int> q{"both.q.timeouts", env.client};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)q.get(50ms), cask::TimeoutError);
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  // Several timed-out gets in a row: none of them may linger and swallow a later item.
  for (int i = 0; i < 20; ++i) CHECK_THROWS_AS((void)q.get(1ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)q.get(0ms), cask::TimeoutError);
  q.put(1);
  CHECK_THROWS_AS((void)q.get_batch(2, 50ms), cask::TimeoutError);
  CHECK(q.size() == 1);  // the batch that timed out left its item queued
  // Inside a task: the same TimeoutError (crossing as itself on a cluster).
  CHECK(env.client.submit(queue_get, std::string("both.q.timeouts"), 5000).result(kPatience) == 1);
  CHECK_THROWS_AS((void)env.client.submit(queue_get, std::string("both.q.timeouts"), 50).result(kPatience),
                  cask::TimeoutError);
  q.put(7);
  CHECK(q.get(kPatience) == 7);
  // A timed get succeeds when the item is already there, and when it arrives in time.
  q.put(3);
  CHECK(q.get(0ms) == 3);
  auto waiting = std::async(std::launch::async, [&] { return q.get(30s); });
  q.put(4);
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get() == 4);
  CHECK(q.size() == 0);
}

BOTH_CASE("Queue.get_batch_timeout_leaves_items_queued_and_does_not_linger", 30) {
  cask::Queue<int> q{"both.q.batch_timeout", env.client};
  q.put(1);
  q.put(2);
  CHECK_THROWS_AS((void)q.get_batch(3, 50ms), cask::TimeoutError);
  CHECK(q.size() == 2);
  CHECK_THROWS_AS((void)q.get_batch(5, 0ms), cask::TimeoutError);
  CHECK(q.size() == 2);
  // The timed-out batch does not linger: a third item does not complete it.
  q.put(3);
  CHECK(q.size() == 3);
  CHECK(q.get_batch(2, kPatience) == std::vector{1, 2});
  CHECK(q.get(kPatience) == 3);
  // A timed batch that is satisfied in time.
  auto waiting = std::async(std::launch::async, [&] { return q.get_batch(2, 30s); });
  q.put(7);
  q.put(8);
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get() == std::vector{7, 8});
  CHECK(q.size() == 0);
}

BOTH_CASE("Queue.timed_out_gets_under_concurrent_puts_lose_no_item", 60) {
  // A producer thread puts while the client polls with very short timeouts: gets that time
  // out around a put must leave the item for the next one; every item arrives once, in order.
  cask::Queue<int> q{"both.q.race", env.client};
  constexpr int kItems = 2000;
  std::thread producer([q] {
    for (int i = 0; i < kItems; ++i) {
      q.put(i);
      // Pauses only vary the timing, so that many gets time out around a put.
      if (i % 5 == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  std::vector<int> got;
  int timeouts = 0;
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  while (got.size() < kItems && std::chrono::steady_clock::now() < deadline) {
    try {
      got.push_back(q.get(std::chrono::microseconds(30)));
    } catch (const cask::TimeoutError&) {
      ++timeouts;
    }
  }
  producer.join();
  MESSAGE("timed out gets: ", timeouts);
  REQUIRE(got.size() == kItems);
  for (int i = 0; i < kItems; ++i) REQUIRE(got[i] == i);
  CHECK(q.size() == 0);
  CHECK(q.get_all().empty());
}

BOTH_CASE("Queue.waiting_client_getters_are_served_one_item_each", 30) {
  cask::Queue<int> q{"both.q.getters", env.client};
  std::vector<std::future<int>> getters;
  for (int i = 0; i < 4; ++i) getters.push_back(std::async(std::launch::async, [q] { return q.get(30s); }));
  for (int i = 0; i < 4; ++i) q.put(i);
  std::vector<int> values;
  for (auto& g : getters) {
    REQUIRE(g.wait_for(kPatience) == std::future_status::ready);
    values.push_back(g.get());
  }
  std::sort(values.begin(), values.end());
  CHECK(values == std::vector{0, 1, 2, 3});
  CHECK(q.size() == 0);
}

BOTH_CASE("Queue.tasks_put_get_and_size_by_name", 30) {
  const std::string name = "both.q.tasks";
  cask::Queue<int> q{name, env.client};
  for (int i = 1; i <= 5; ++i) q.put(i);
  CHECK(env.client.submit(queue_size, name).result(kPatience) == 5);
  CHECK(env.client.submit(queue_get, name, -1).result(kPatience) == 1);
  CHECK(env.client.submit(queue_get_batch, name, 2).result(kPatience) == std::vector{2, 3});
  CHECK(env.client.submit(queue_put, name, 6).result(kPatience) == 6);
  CHECK(q.get_all() == std::vector{4, 5, 6});
  // Outside tasks, the default client is the latest one: this case's.
  cask::Queue<int> by_default{name};
  by_default.put(7);
  CHECK(q.get(kPatience) == 7);
  // Inside a task, a handle opened through get_client() is the same queue too.
  CHECK(env.client.submit(queue_put_via_get_client, name, 8).result(kPatience) == 8);
  CHECK(by_default.get(kPatience) == 8);
}

BOTH_CASE("Queue.default_client_inside_a_task_is_the_tasks_cluster", 30) {
  const std::string name = "both.q.where";
  // An embedded client made after this case's: the latest client, a cluster of its own.
  cask::Client second{cask::ClientOptions{.workers = 1, .threads_per_worker = 1}};
  CHECK(env.client.submit(queue_put, name, 5).result(kPatience) == 5);  // opens Queue{name}
  cask::Queue<int> on_first{name, env.client};
  cask::Queue<int> on_second{name, second};
  CHECK(cask::Queue<int>{name}.size() == 0);  // outside tasks: the latest client's
  CHECK(on_second.size() == 0);
  CHECK(on_first.size() == 1);
  CHECK(on_first.get(kPatience) == 5);
  CHECK_THROWS_AS((void)on_second.get(20ms), cask::TimeoutError);
}

BOTH_CASE("Queue.each_kind_has_its_own_namespace", 30) {
  const std::size_t before = objects(env.client);
  cask::Queue<int> q{"both.q.kind", env.client};
  cask::Variable<int> v{"both.q.kind", env.client};
  cask::Lock lock{"both.q.kind", env.client};
  cask::Event event{"both.q.kind", env.client};
  cask::Semaphore sem{"both.q.kind", 2, env.client};
  CHECK(eventually([&] { return objects(env.client) == before + 5; }));
  q.put(1);
  CHECK_THROWS_AS((void)v.get(20ms), cask::TimeoutError);  // the queue's item is not the variable's value
  v.set(7);
  CHECK(q.size() == 1);
  lock.acquire();
  CHECK_FALSE(event.is_set());
  CHECK(sem.get_value() == 0);
  CHECK(sem.acquire(kPatience));
  CHECK(lock.locked());
  CHECK(q.get(kPatience) == 1);
  CHECK(v.get(kPatience) == 7);
  lock.release();
  sem.release();
  // A queue of another value type under a name that only other kinds use is fine.
  cask::Queue<std::string> other{"both.q.lock_name", env.client};
  cask::Lock same_name{"both.q.lock_name", env.client};
  other.put("s");
  CHECK(same_name.acquire(kPatience));
  CHECK(other.get(kPatience) == "s");
  same_name.release();
}

BOTH_CASE("Queue.several_handles_share_it_by_name", 30) {
  cask::Queue<std::string> a{"both.q.shared", env.client};
  cask::Queue<std::string> b{"both.q.shared", env.client};
  a.put("from a");
  CHECK(b.size() == 1);
  CHECK(b.get(kPatience) == "from a");
  CHECK(a.size() == 0);
  // Another client: on a cluster it reaches the same queue; an embedded Client is a cluster
  // of its own, so the same name there is another queue.
  a.put("second");
  if (env.cluster()) {
    cask::Client other{cask::ClientOptions{.address = shared_cluster_address()}};
    CHECK(cask::Queue<std::string>{"both.q.shared", other}.get(kPatience) == "second");
  } else {
    cask::Client other{cask::ClientOptions{.workers = 1}};
    CHECK_THROWS_AS((void)cask::Queue<std::string>("both.q.shared", other).get(50ms), cask::TimeoutError);
    CHECK(a.get(kPatience) == "second");
  }
  CHECK(a.size() == 0);
}

BOTH_CASE("Queue.task_blocked_in_get_is_woken_by_a_put", 30) {
  const std::string name = "both.q.blocked";
  cask::Queue<int> q{name, env.client};
  auto waiting = blocked_getter(env, name, "log");
  CHECK_FALSE(waiting.done());
  q.put(12);
  CHECK(waiting.result(kPatience) == 12);
  // Blocked in a task, woken by another task's put: the blocked task handed its slot back,
  // or on 2 slots the put would still run beside it.
  auto second = blocked_getter(env, name, "log2");
  CHECK(env.client.submit(queue_put, name, 13).result(kPatience) == 13);
  CHECK(second.result(kPatience) == 13);
  // get_batch in a task, filled by a later task's puts.
  auto batcher = env.client.submit(queue_get_batch, name, 3);
  CHECK(env.client.submit(queue_put_range, name, 1, 3).result(kPatience) == 3);
  CHECK(batcher.result(kPatience) == std::vector{1, 2, 3});
}

BOTH_CASE("Queue.client_blocked_in_get_is_woken_by_a_task", 30) {
  cask::Queue<int> q{"both.q.client_blocked", env.client};
  auto got = std::async(std::launch::async, [&] { return q.get(); });
  CHECK(got.wait_for(50ms) == std::future_status::timeout);
  CHECK(env.client.submit(queue_put, std::string("both.q.client_blocked"), 11).result(kPatience) == 11);
  REQUIRE(got.wait_for(kPatience) == std::future_status::ready);
  CHECK(got.get() == 11);
}

BOTH_CASE("Queue.wrong_value_type_throws_and_the_first_handle_keeps_working", 30) {
  cask::Queue<int> ints{"both.q.typed", env.client};
  ints.put(1);
  const auto what = error_of([&] { cask::Queue<std::string> texts{"both.q.typed", env.client}; });
  CHECK(contains(what, "both.q.typed"));
  CHECK_THROWS_AS(cask::Queue<std::string>("both.q.typed", env.client), cask::Error);
  CHECK_THROWS_AS(cask::Queue<double>("both.q.typed"), cask::Error);  // through the default client
  // A task opening it with another type fails that task.
  auto task = env.client.submit(queue_put_text, std::string("both.q.typed"), std::string("x"));
  CHECK_THROWS_AS((void)task.result(kPatience), cask::Error);
  // Each kind of object has its own names.
  CHECK_NOTHROW(cask::Variable<int>("both.q.typed", env.client).set(1));
  // The queue and its first handle are untouched.
  CHECK(ints.size() == 1);
  ints.put(2);
  CHECK(ints.get(kPatience) == 1);
  CHECK(ints.get(kPatience) == 2);
  cask::Queue<int> again{"both.q.typed", env.client};
  again.put(3);
  CHECK(ints.get(kPatience) == 3);
}

BOTH_CASE("Queue.cancelled_getter_takes_nothing", 30) {
  const std::string name = "both.q.cancelled";
  cask::Queue<int> q{name, env.client};
  auto waiting = blocked_getter(env, name, "log");
  waiting.cancel();
  CHECK(waiting.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)waiting.result(kPatience), cask::CancelledError);
  q.put(1);
  // Whether the cancel reached the queue before the item or not, the item is not lost.
  CHECK(q.get(kPatience) == 1);
  q.put(2);
  CHECK(env.client.submit(queue_get, name, 5000).result(kPatience) == 2);
}

BOTH_CASE("Queue.cancel_wakes_a_task_blocked_in_get_with_cancelled_error", 30) {
  const std::string name = "both.q.cancel_wakes";
  const auto log = env.file("log");
  cask::Queue<int> q{name, env.client};
  auto waiting = env.client.submit(queue_get_noting_cancel, name, log);
  REQUIRE(logged(log, "waiting"));
  CHECK_THROWS_AS((void)waiting.result(100ms), cask::TimeoutError);
  waiting.cancel();
  CHECK(waiting.status() == cask::Status::cancelled);
  CHECK(logged(log, "cancelled"));  // the get itself was woken, not left blocked
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  // Nothing waits on the queue any more: the next item is the client's.
  q.put(7);
  CHECK(q.get(kPatience) == 7);
  CHECK(q.size() == 0);
  // The slot is usable again.
  CHECK(env.client.submit(inc, 2).result(kPatience) == 3);
}

BOTH_CASE("Queue.cancelled_get_batch_does_not_hold_up_later_gets", 30) {
  const std::string name = "both.q.cancel_batch";
  const auto log = env.file("log");
  cask::Queue<int> q{name, env.client};
  auto waiting = env.client.submit(queue_get_batch_logged, name, 5, log);
  REQUIRE(logged(log, "waiting"));
  waiting.cancel();
  CHECK_THROWS_AS((void)waiting.result(kPatience), cask::CancelledError);
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
  q.put(1);
  CHECK(q.get(kPatience) == 1);
  q.put(2);
  q.put(3);
  CHECK(q.get_batch(2, kPatience) == std::vector{2, 3});
  CHECK(q.size() == 0);
}

// The get parked behind the cancelled batch is served when the batch's caller gives up,
// not only at the next put (the item is in the queue already).
BOTH_CASE("Queue.get_waiting_behind_a_cancelled_get_batch_is_served_at_once", 30) {
  const std::string name = "both.q.behind_batch";
  const auto batch_log = env.file("batch");
  const auto single_log = env.file("single");
  cask::Queue<int> q{name, env.client};
  auto batch = env.client.submit(queue_get_batch_logged, name, 5, batch_log);
  REQUIRE(logged(batch_log, "waiting"));
  q.put(1);  // not enough for the batch, which is first in line
  auto single = env.client.submit(queue_get_noting_cancel, name, single_log);
  REQUIRE(logged(single_log, "waiting"));
  batch.cancel();
  CHECK(single.result(kPatience) == 1);
  CHECK_THROWS_AS((void)batch.result(kPatience), cask::CancelledError);
  CHECK(q.size() == 0);
}

BOTH_CASE("Queue.get_blocked_on_the_client_side_fails_when_its_client_is_destroyed", 30) {
  const std::string name = "both.q.closing";
  // A second client of the same kind as this case's: destroying it ends its handles only.
  std::optional<cask::Client> other;
  if (env.cluster())
    other.emplace(cask::ClientOptions{.address = shared_cluster_address()});
  else
    other.emplace(cask::ClientOptions{.workers = 1, .threads_per_worker = 1});
  cask::Queue<int> q{name, *other};
  q.put(1);
  CHECK(q.get(kPatience) == 1);
  auto waiting = std::async(std::launch::async, [q] { return q.get(); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);  // blocked
  other.reset();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK_THROWS_AS((void)waiting.get(), cask::CommError);
  // The handle outlives its client: further calls fail the same way, destroying it is fine.
  CHECK_THROWS_AS(q.put(2), cask::CommError);
  CHECK_THROWS_AS((void)q.get(10ms), cask::CommError);
  // On a cluster the queue lives on: the dead client's get took nothing that comes later.
  cask::Queue<int> mine{name, env.client};
  mine.put(3);
  CHECK(mine.get(kPatience) == 3);
}

BOTH_CASE("Queue.of_futures_keeps_each_future_alive_until_taken", 30) {
  Gate gate(env, "gate");
  cask::Queue<cask::Future<int>> q{"both.q.futures", env.client};
  {
    // A running task whose every other handle is dropped: the queue keeps it wanted.
    auto running = gate.submit(5);
    REQUIRE(gate.wait_for(1));
    q.put(running);
    // A finished one: its value must be kept, not released.
    auto finished = env.client.submit(fresh(), inc, 11);
    REQUIRE(finished.result(kPatience) == 12);
    q.put(finished);
  }
  CHECK(q.size() == 2);
  // Had the running task been released it would be asked to stop (and log it).
  CHECK_FALSE(eventually([&] { return gate.count("stopped") > 0; }, 200ms));
  CHECK(env.client.stats().tasks() == 2);
  gate.open();
  cask::Future<int> first = q.get(kPatience);
  cask::Future<int> second = q.get(kPatience);
  CHECK(first.result(kPatience) == 5);
  CHECK(first.status() == cask::Status::finished);
  CHECK(gate.count("stopped") == 0);
  CHECK(second.result(kPatience) == 12);
  // Taken out and dropped: the cluster releases them.
  first = {};
  second = {};
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
}

BOTH_CASE("Queue.of_futures_filled_inside_a_task", 30) {
  // A task submits work and hands the futures to the client through a queue, then ends.
  cask::Queue<cask::Future<int>> q{"both.q.handoff", env.client};
  auto producer = env.client.submit(queue_put_inc_futures, std::string("both.q.handoff"), 3);
  REQUIRE(producer.result(kPatience) == 3);
  producer = {};
  int total = 0;
  for (int i = 0; i < 3; ++i) total += q.get(kPatience).result(kPatience);
  CHECK(total == 2 + 3 + 4);
}

BOTH_CASE("Queue.retired_when_no_handle_is_left_and_it_is_empty", 30) {
  const std::size_t before = objects(env.client);
  {
    cask::Queue<int> a{"both.q.retire_a", env.client};
    CHECK(eventually([&] { return objects(env.client) == before + 1; }));
    cask::Queue<int> a2{"both.q.retire_a", env.client};  // the same object
    cask::Queue<int> b{"both.q.retire_b", env.client};
    CHECK(eventually([&] { return objects(env.client) == before + 2; }));
    a.put(1);
    CHECK(a2.get(kPatience) == 1);  // empty again
    {
      cask::Queue<int> copy = b;
    }
    CHECK(objects(env.client) == before + 2);  // a copy's end is not the handle's end
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // Handles opened and dropped inside tasks are counted and retired too.
  CHECK(env.client.submit(queue_put_then_get, std::string("both.q.retire_in_task"), 1).result(kPatience) == 1);
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // A retired name can be opened again, even with another type.
  cask::Queue<std::string> reopened{"both.q.retire_a", env.client};
  reopened.put("again");
  CHECK(reopened.get(kPatience) == "again");
}

BOTH_CASE("Queue.non_empty_queue_outlives_its_handles", 30) {
  const std::size_t before = objects(env.client);
  {
    cask::Queue<int> full{"both.q.full", env.client};
    full.put(1);
    full.put(2);
    cask::Queue<int> empty{"both.q.empty", env.client};
    CHECK(eventually([&] { return objects(env.client) == before + 2; }));
  }
  // The empty one goes, the one holding items stays.
  CHECK(eventually([&] { return objects(env.client) == before + 1; }));
  {
    cask::Queue<int> again{"both.q.full", env.client};
    CHECK(again.size() == 2);
    CHECK(again.get(kPatience) == 1);
    CHECK(again.get(kPatience) == 2);
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // Filled from a task that then ends: the items wait for the client.
  auto f = env.client.submit(queue_put, std::string("both.q.from_task"), 9);
  REQUIRE(f.result(kPatience) == 9);
  f = {};
  CHECK(eventually([&] { return objects(env.client) == before + 1; }));
  cask::Queue<int> reader{"both.q.from_task", env.client};
  CHECK(reader.get(kPatience) == 9);
}

BOTH_CASE("Queue.reopening_a_retiring_queue_loses_nothing", 60) {
  // Every handle is short-lived, so the queue is retired and reopened over and over, often
  // while a retirement is on its way: no item may be lost, no call may fail.
  const std::size_t before = objects(env.client);
  const std::string name = "both.q.churn";
  bool in_order = true;
  for (int i = 0; i < 500; ++i) {
    { cask::Queue<int>{name, env.client}.put(i); }
    if (cask::Queue<int>{name, env.client}.get(kPatience) != i) in_order = false;
  }
  CHECK(in_order);
  // Producers and a consumer on threads, each call through a fresh handle.
  constexpr int kThreads = 3, kEach = 200;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t)
    producers.emplace_back([&env, &name, t] {
      for (int i = 0; i < kEach; ++i) cask::Queue<int>{name, env.client}.put(t * kEach + i);
    });
  std::vector<int> seen(kThreads * kEach, 0);
  int failures = 0;
  for (int n = 0; n < kThreads * kEach; ++n) {
    try {
      const int v = cask::Queue<int>{name, env.client}.get(kPatience);
      if (v >= 0 && v < kThreads * kEach) ++seen[v];
    } catch (const cask::Error&) {
      ++failures;
    }
  }
  for (auto& p : producers) p.join();
  CHECK(failures == 0);
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  CHECK(eventually([&] { return objects(env.client) == before; }));
}

// Volume, not speed: each cluster operation is a round trip to the scheduler's process,
// which under the sanitizers and a busy machine took 2 ms (30,000 of them overran 60 s).
BOTH_CASE("Queue.many_items_come_back_in_order", 60) {
  cask::Queue<int> q{"both.q.volume", env.client};
  const int kItems = env.cluster() ? 2000 : 10000;
  for (int i = 0; i < kItems; ++i) q.put(i);
  CHECK(q.size() == kItems);
  for (int i = 0; i < kItems; ++i) {
    const int v = q.get(kPatience);
    if (v != i) REQUIRE(v == i);  // one report, not ten thousand
  }
  CHECK(q.size() == 0);
  // Alternating put/get pairs.
  for (int i = 0; i < kItems; ++i) {
    q.put(i);
    const int v = q.get(kPatience);
    if (v != i) REQUIRE(v == i);
  }
  CHECK(q.size() == 0);
}

BOTH_CASE("Queue.values_without_json_per_mode", 30) {
  // Embedded, any type is kept by pointer; on a cluster a type that cannot cross processes
  // is a SerializationError naming it, at the open, and the client keeps serving.
  if (env.cluster()) {
    const auto what = error_of([&] { cask::Queue<NoJson> q{"both.q.nojson", env.client}; });
    CHECK(contains(what, "cask::SerializationError"));
    CHECK(contains(what, "NoJson"));
    CHECK_THROWS_AS(cask::Variable<NoJson>("both.q.nojson", env.client), cask::SerializationError);
    CHECK_THROWS_AS(cask::Pub<NoJson>("both.q.nojson", env.client), cask::SerializationError);
  } else {
    cask::Queue<NoJson> q{"both.q.nojson", env.client};
    q.put(NoJson{3});
    CHECK(q.get(kPatience).n == 3);
    cask::Variable<NoJson> v{"both.q.nojson", env.client};
    v.set(NoJson{4});
    CHECK(v.get(kPatience).n == 4);
  }
  cask::Queue<int> fine{"both.q.after_nojson", env.client};
  fine.put(5);
  CHECK(fine.get(kPatience) == 5);
}

BOTH_CASE("Queue.get_batch_waits_until_n_items_then_takes_them", 30) {
  const std::string name = "both.q.batch";
  cask::Queue<int> q{name, env.client};
  q.put(1);
  q.put(2);
  q.put(3);
  q.put(4);
  CHECK(q.get_batch(3) == std::vector{1, 2, 3});  // the oldest three
  CHECK(q.size() == 1);
  auto batch = std::async(std::launch::async, [&] { return q.get_batch(3, kPatience); });
  CHECK(env.client.submit(queue_put, name, 5).result(kPatience) == 5);
  CHECK(batch.wait_for(200ms) == std::future_status::timeout);  // two of three
  CHECK(q.size() == 2);                                          // and took nothing meanwhile
  CHECK(env.client.submit(queue_put, name, 6).result(kPatience) == 6);
  REQUIRE(batch.wait_for(kPatience) == std::future_status::ready);
  CHECK(batch.get() == std::vector{4, 5, 6});
  CHECK(q.size() == 0);
}

BOTH_CASE("Queue.tasks_blocked_in_get_hand_their_slots_back_and_get_one_item_each", 30) {
  const std::string name = "both.q.waiters";
  cask::Queue<int> q{name, env.client};
  // Both slots (2 workers x 1) run a task blocked in get: the putting tasks only run
  // because the blocked ones handed their slots back.
  auto first = blocked_getter(env, name, "log1");
  auto second = blocked_getter(env, name, "log2");
  CHECK(env.client.submit(queue_put, name, 1).result(kPatience) == 1);
  CHECK(env.client.submit(queue_put, name, 2).result(kPatience) == 2);
  std::vector<int> got{first.result(kPatience), second.result(kPatience)};
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector{1, 2});
  CHECK(q.size() == 0);
}

BOTH_CASE("Queue.many_producing_tasks_each_item_exactly_once", 60) {
  const std::string name = "both.q.producers";
  cask::Queue<int> q{name, env.client};
  std::vector<cask::Future<int>> puts;
  for (int i = 0; i < 40; ++i) puts.push_back(env.client.submit(queue_put, name, i));
  for (auto& p : puts) (void)p.result(kPatience);
  auto items = q.get_batch(40, kPatience);
  std::sort(items.begin(), items.end());
  std::vector<int> expected(40);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(items == expected);
  CHECK(q.size() == 0);
  // Eight tasks of 1000 puts each: every item once, each producer's in its order.
  constexpr int kTasks = 8, kPerTask = 1000;
  std::vector<cask::Future<int>> producers;
  for (int t = 0; t < kTasks; ++t) producers.push_back(env.client.submit(queue_put_range, name, t * kPerTask, kPerTask));
  std::vector<int> seen(kTasks * kPerTask, 0);
  std::vector<int> last(kTasks, -1);
  bool in_order = true;
  for (int n = 0; n < kTasks * kPerTask; ++n) {
    const int v = q.get(kPatience);
    REQUIRE(v >= 0);
    REQUIRE(v < kTasks * kPerTask);
    ++seen[v];
    const int t = v / kPerTask;
    if (v % kPerTask <= last[t]) in_order = false;
    last[t] = v % kPerTask;
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  CHECK(in_order);
  for (auto& p : producers) CHECK(p.result(kPatience) == kPerTask);
  CHECK(q.size() == 0);
  CHECK(q.get_all().empty());
}

BOTH_CASE("Queue.producers_and_consumers_in_tasks", 60) {
  // Four consumers and four producers, all tasks, on two slots: consumers block in get and
  // hand their slots to producers. Every item is consumed once.
  const std::string name = "both.q.pc";
  constexpr int kPer = 250;
  std::vector<cask::Future<int>> consumers, producers;
  for (int c = 0; c < 4; ++c) consumers.push_back(env.client.submit(fresh(), queue_sum, name, kPer));
  for (int p = 0; p < 4; ++p) producers.push_back(env.client.submit(queue_put_range, name, p * kPer, kPer));
  long total = 0;
  for (auto& f : consumers) total += f.result(30s);
  for (auto& f : producers) CHECK(f.result(kPatience) == kPer);
  const long n = 4 * kPer;
  CHECK(total == n * (n - 1) / 2);
  CHECK(cask::Queue<int>{name, env.client}.size() == 0);
}
