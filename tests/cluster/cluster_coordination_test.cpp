// Cluster mode, coordination objects: Queue, Variable, Lock, Semaphore, Event and Pub/Sub
// owned by the scheduler's process and shared by name between clients and the tasks on
// the worker processes; timeouts; what happens to locks and waiting callers when a client
// or the scheduler goes away; type and value errors.
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "cluster_util.hpp"
#include "coord_tasks.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;
using namespace std::chrono_literals;

namespace {

/// A type without to_json/from_json: it cannot cross processes.
struct NoJson {
  int n = 0;
};

/// Runs `call` on a thread of its own (a client blocked in a coordination call).
template <class F>
auto in_background(F call) {
  return std::async(std::launch::async, std::move(call));
}

}  // namespace

TEST_CASE("ClusterObjects.queue_between_client_and_tasks" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Queue<int> q{"jobs", client};
  for (int i = 1; i <= 5; ++i) q.put(i);
  CHECK(q.size() == 5);
  CHECK(client.submit(queue_size, std::string("jobs")).result(kPatience) == 5);
  // Tasks on the workers take from the client's queue, in order.
  CHECK(client.submit(queue_get, std::string("jobs"), -1).result(kPatience) == 1);
  CHECK(client.submit(queue_get_batch, std::string("jobs"), 2).result(kPatience) == std::vector{2, 3});
  // ... and put into it.
  CHECK(client.submit(queue_put, std::string("jobs"), 6).result(kPatience) == 6);
  CHECK(q.get_all() == std::vector{4, 5, 6});
  CHECK(q.size() == 0);
  // Timeouts, on the client and in a task: TimeoutError, nothing taken.
  CHECK_THROWS_AS((void)q.get(50ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)q.get_batch(2, 50ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)client.submit(queue_get, std::string("jobs"), 50).result(kPatience), cask::TimeoutError);
  q.put(7);
  CHECK(q.get(kPatience) == 7);
  // Values of a struct type cross as MessagePack.
  cask::Queue<Point> points{"points", client};
  points.put(Point{1, 2, "a"});
  CHECK(points.get(kPatience) == Point{1, 2, "a"});
}

TEST_CASE("ClusterObjects.blocking_get_unblocked_from_another_process" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Queue<int> q{"q", client};
  // The client blocks; a task on a worker process puts.
  auto got = in_background([&] { return q.get(); });
  CHECK(got.wait_for(100ms) == std::future_status::timeout);
  CHECK(client.submit(queue_put, std::string("q"), 11).result(kPatience) == 11);
  REQUIRE(got.wait_for(kPatience) == std::future_status::ready);
  CHECK(got.get() == 11);

  // A task blocks (its slot handed back meanwhile); the client puts.
  ScratchDir dir;
  const auto log = dir.file("log");
  auto waiting = client.submit(queue_get_logged, std::string("q"), log);
  REQUIRE(wait_for_line(log, "waiting"));
  CHECK_FALSE(waiting.done());
  q.put(12);
  CHECK(waiting.result(kPatience) == 12);

  // A task blocked in get on one worker, unblocked by a task on the other.
  // (Another log: the same arguments would be the same pure key, the finished task.)
  const auto log2 = dir.file("log2");
  auto second = client.submit(queue_get_logged, std::string("q"), log2);
  REQUIRE(wait_for_line(log2, "waiting"));
  CHECK(client.submit(queue_put, std::string("q"), 13).result(kPatience) == 13);
  CHECK(second.result(kPatience) == 13);
}

TEST_CASE("ClusterObjects.two_clients_share_objects_by_name" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client a{cluster};
  cask::Client b{cluster.address()};
  // Queue.
  cask::Queue<std::string> qa{"shared", a};
  cask::Queue<std::string> qb{"shared", b};
  qa.put("from a");
  CHECK(qb.get(kPatience) == "from a");
  CHECK(qa.size() == 0);
  // Variable, also seen by a task.
  cask::Variable<std::string> va{"config", a};
  cask::Variable<std::string> vb{"config", b};
  CHECK_THROWS_AS((void)vb.get(50ms), cask::TimeoutError);
  va.set("v1");
  CHECK(vb.get(kPatience) == "v1");
  CHECK(a.submit(variable_get, std::string("config"), 1000).result(kPatience) == "v1");
  CHECK(b.submit(variable_set, std::string("config"), std::string("v2")).result(kPatience) == 1);
  CHECK(va.get() == "v2");
  vb.erase();
  CHECK_THROWS_AS((void)va.get(50ms), cask::TimeoutError);
  // Lock: the two clients' handles exclude each other.
  cask::Lock la{"lock", a};
  cask::Lock lb{"lock", b};
  la.acquire();
  CHECK(lb.locked());
  CHECK_FALSE(lb.acquire(50ms));
  CHECK(a.submit(lock_try, std::string("lock"), 50).result(kPatience) == 0);
  auto waiting = in_background([&] { return lb.acquire(kPatience); });
  CHECK(waiting.wait_for(50ms) == std::future_status::timeout);
  la.release();
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get());
  CHECK(lb.locked());
  lb.release();
  CHECK_FALSE(la.locked());
  CHECK(b.submit(lock_try, std::string("lock"), 1000).result(kPatience) == 1);
}

TEST_CASE("ClusterObjects.lock_held_by_a_task_in_another_process" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  const auto log = dir.file("log");
  const auto gate = dir.file("gate");
  cask::Lock lock{"file", client};
  auto holder = client.submit(lock_hold, std::string("file"), log, gate, 20000);
  REQUIRE(wait_for_line(log, "locked"));
  CHECK(lock.locked());
  CHECK_FALSE(lock.acquire(50ms));
  CHECK_FALSE(lock.try_lock());
  // Releasing a lock this handle does not hold: a clear error, nothing changes.
  const auto what = error_of([&] { lock.release(); });
  CHECK(contains(what, "cask::Error"));
  CHECK(contains(what, "Lock 'file'"));
  CHECK(contains(what, "does not hold"));
  CHECK_THROWS_AS((void)client.submit(lock_release_unheld, std::string("file")).result(kPatience), cask::Error);
  CHECK(lock.locked());
  // The task returns; its handle goes and with it the lock.
  open_gate(gate);
  CHECK(holder.result(kPatience) == 1);
  CHECK(lock.acquire(kPatience));
  lock.release();
  {
    std::lock_guard guard{lock};
    CHECK(lock.locked());
    CHECK(client.submit(lock_try, std::string("file"), 50).result(kPatience) == 0);
  }
  CHECK_FALSE(lock.locked());
}

TEST_CASE("ClusterObjects.semaphore_and_event" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Semaphore sem{"db", 2, client};
  sem.acquire();
  CHECK(sem.acquire(1s));
  CHECK(sem.get_value() == 2);
  CHECK(client.submit(semaphore_try, std::string("db"), 2, 50).result(kPatience) == 0);
  sem.release();
  CHECK(client.submit(semaphore_try, std::string("db"), 2, 5000).result(kPatience) == 1);
  sem.release();
  CHECK(sem.get_value() == 0);
  CHECK_THROWS_AS(sem.release(), cask::Error);  // holds none now

  ScratchDir dir;
  const auto log = dir.file("log");
  cask::Event ready{"ready", client};
  CHECK_FALSE(ready.is_set());
  CHECK_FALSE(ready.wait(50ms));
  CHECK(client.submit(event_wait, std::string("ready"), log, 50).result(kPatience) == 0);
  auto waiter = client.submit(event_wait, std::string("ready"), log, -1);
  REQUIRE(eventually([&] { return count_lines(log, "waiting") == 2; }));
  CHECK_FALSE(waiter.done());
  ready.set();
  CHECK(waiter.result(kPatience) == 1);
  CHECK(ready.is_set());
  ready.clear();
  CHECK_FALSE(ready.is_set());
  // Set by a task, seen by a client thread blocked in wait().
  auto blocked = in_background([&] { return ready.wait(kPatience); });
  CHECK(client.submit(event_set, std::string("ready")).result(kPatience) == 1);
  REQUIRE(blocked.wait_for(kPatience) == std::future_status::ready);
  CHECK(blocked.get());
}

TEST_CASE("ClusterObjects.pubsub_fans_out_across_processes" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  const auto log = dir.file("log");
  cask::Sub<std::string> mine{"news", client};
  // Two different keys (pure keys of the same arguments would be one task).
  auto first = client.submit(subscribe_get, std::string("news"), log, 20000);
  auto second = client.submit(subscribe_get, std::string("news"), log, 20001);
  REQUIRE(eventually([&] { return count_lines(log, "subscribed") == 2; }));
  cask::Pub<std::string> pub{"news", client};
  pub.put("hello");
  CHECK(first.result(kPatience) == "hello");
  CHECK(second.result(kPatience) == "hello");
  CHECK(mine.get(kPatience) == "hello");
  // Published by a task: only the current subscribers (this one) get it, in order.
  CHECK(client.submit(publish, std::string("news"), std::string("from a task")).result(kPatience) == 1);
  pub.put("last");
  CHECK(mine.get(kPatience) == "from a task");
  CHECK(mine.get(kPatience) == "last");
  CHECK_THROWS_AS((void)mine.get(50ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)client.submit(subscribe_get, std::string("news"), log, 50).result(kPatience),
                  cask::TimeoutError);
}

TEST_CASE("ClusterObjects.type_and_limit_mismatch" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Queue<int> ints{"q", client};
  ints.put(1);
  const auto what = error_of([&] { cask::Queue<std::string> texts{"q", client}; });
  CHECK(contains(what, "cask::Error"));
  CHECK(contains(what, "Queue 'q' holds int, not std::"));
  CHECK_NOTHROW(cask::Variable<int>("q", client).set(1));  // each kind has its own names
  // A task opening it with another type fails that task with the same message.
  auto task = client.submit(queue_put_text, std::string("q"), std::string("x"));
  CHECK(contains(error_of([&] { (void)task.result(kPatience); }), "holds int, not std::"));
  cask::Semaphore two{"s", 2, client};
  CHECK(contains(error_of([&] { cask::Semaphore three("s", 3, client); }), "max_leases 2, not 3"));
  CHECK_THROWS_AS(cask::Semaphore("zero", 0, client), cask::Error);
  // The objects keep serving.
  CHECK(ints.get(kPatience) == 1);
  two.acquire();
  CHECK(two.get_value() == 1);
}

TEST_CASE("ClusterObjects.values_that_cannot_cross" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  // A type without to_json/from_json: a SerializationError naming it, at the call.
  const auto what = error_of([&] { cask::Queue<NoJson> q{"nojson", client}; });
  CHECK(contains(what, "cask::SerializationError"));
  CHECK(contains(what, "NoJson"));
  CHECK_THROWS_AS(cask::Variable<NoJson>("nojson", client), cask::SerializationError);
  CHECK_THROWS_AS(cask::Pub<NoJson>("nojson", client), cask::SerializationError);
  // A future crosses as its key (cluster_future_objects_test.cpp), but only when its value
  // can: a future of NoJson gets the same clear error.
  CHECK_THROWS_AS(cask::Queue<cask::Future<NoJson>>("futures", client), cask::SerializationError);
  // Embedded mode keeps taking any type, by pointer.
  {
    cask::Client embedded{{.workers = 1}};
    cask::Queue<NoJson> q{"nojson", embedded};
    q.put(NoJson{3});
    CHECK(q.get().n == 3);
  }
  // A value whose from_json refuses it: SerializationError on the get that took it only;
  // the queue keeps serving.
  cask::Queue<Picky> picky{"picky", client};
  picky.put(Picky{-1});
  picky.put(Picky{5});
  CHECK_THROWS_AS((void)picky.get(kPatience), cask::SerializationError);
  CHECK(picky.get(kPatience).value == 5);
  cask::Variable<Picky> v{"picky", client};
  v.set(Picky{-2});
  CHECK_THROWS_AS((void)v.get(kPatience), cask::SerializationError);
  v.set(Picky{7});
  CHECK(v.get(kPatience).value == 7);
}

TEST_CASE("ClusterObjects.lock_comes_back_when_its_client_disconnects" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Lock mine{"l", client};
  {
    // Another client takes the lock, then closes while its handle still exists.
    auto other = std::make_unique<cask::Client>(cluster.address());
    cask::Lock theirs{"l", *other};
    theirs.acquire();
    CHECK_FALSE(mine.acquire(50ms));
    auto blocked = in_background([&] { return mine.acquire(kPatience); });
    CHECK(blocked.wait_for(50ms) == std::future_status::timeout);
    other.reset();
    REQUIRE(blocked.wait_for(kPatience) == std::future_status::ready);
    CHECK(blocked.get());
    // The closed client's handle fails at once.
    CHECK_THROWS_AS(theirs.release(), cask::CommError);
  }
  mine.release();

  // A worker process holding the lock dies: its connection is lost, the lock comes back.
  ScratchDir dir;
  const auto log = dir.file("log");
  auto holder = client.submit(lock_hold, std::string("l"), log, dir.file("never"), 30000);
  REQUIRE(wait_for_line(log, "locked"));
  CHECK_FALSE(mine.acquire(50ms));
  cluster.kill_worker(0);
  cluster.kill_worker(1);
  CHECK(mine.acquire(kPatience));
  CHECK(mine.locked());
}

TEST_CASE("ClusterObjects.cancelled_waiter_takes_nothing" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  const auto log = dir.file("log");
  cask::Queue<int> q{"q", client};
  auto waiting = client.submit(queue_get_logged, std::string("q"), log);
  REQUIRE(wait_for_line(log, "waiting"));
  waiting.cancel();
  CHECK_THROWS_AS((void)waiting.result(kPatience), cask::CancelledError);
  q.put(1);
  // Whether the cancel reached the queue before the item or not, the item is not lost.
  CHECK(q.get(kPatience) == 1);
  // And the next task gets the next item.
  q.put(2);
  CHECK(client.submit(queue_get, std::string("q"), 5000).result(kPatience) == 2);
}

TEST_CASE("ClusterObjects.waiting_client_gets_comm_error_when_the_scheduler_dies" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Queue<int> q{"q", client};
  cask::Event e{"e", client};
  auto get = in_background([&] { return q.get(); });
  auto wait = in_background([&] { e.wait(); });
  CHECK(get.wait_for(100ms) == std::future_status::timeout);
  cluster.kill_scheduler();
  REQUIRE(get.wait_for(kPatience) == std::future_status::ready);
  CHECK_THROWS_AS(get.get(), cask::CommError);
  REQUIRE(wait.wait_for(kPatience) == std::future_status::ready);
  CHECK_THROWS_AS(wait.get(), cask::CommError);
  // Later calls and opens fail at once too.
  CHECK_THROWS_AS(q.put(1), cask::CommError);
  CHECK_THROWS_AS(cask::Queue<int>("other", client), cask::CommError);
}
