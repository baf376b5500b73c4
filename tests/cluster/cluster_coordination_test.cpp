// Cluster mode, coordination objects, the cases that need more than one client of a
// LocalCluster: objects shared by two clients; what happens to locks and waiting callers
// when a client, a worker or the scheduler goes away; type, limit and value errors. The
// behaviours common to both modes (put/get, timeouts, tasks blocked in objects, leases,
// events, pub/sub) are in tests/both/{queue,objects}_test.cpp.
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
