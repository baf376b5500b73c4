// Both modes, Queue: FIFO put/get, size, get_batch, get_all; timeouts that take nothing;
// the same queue by name from handles and from tasks (which block in get, their slot handed
// back, until a put); type mismatches; a cancelled getter takes nothing; and values that
// cannot cross processes (kept by pointer embedded, SerializationError on a cluster).
#include <algorithm>
#include <future>
#include <numeric>
#include <string>
#include <vector>

#include "coord_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_cluster_test::contains;
using cask_cluster_test::error_of;

namespace {

/// A type without to_json/from_json: it cannot cross processes.
struct NoJson {
  int n = 0;
};

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
  for (int i = 1; i <= 5; ++i) q.put(i);
  CHECK(q.size() == 5);
  CHECK(q.get() == 1);
  CHECK(q.get_batch(2) == std::vector{2, 3});
  CHECK(q.get_all() == std::vector{4, 5});
  CHECK(q.size() == 0);
  CHECK(q.get_all().empty());  // never blocks
  // Struct values keep their fields (MessagePack on a cluster).
  cask::Queue<Point> points{"both.q.points", env.client};
  points.put(Point{1, 2, "a"});
  CHECK(points.get(kPatience) == Point{1, 2, "a"});
}

BOTH_CASE("Queue.timeouts_throw_and_take_nothing", 30) {
  cask::Queue<int> q{"both.q.timeouts", env.client};
  CHECK_THROWS_AS((void)q.get(50ms), cask::TimeoutError);
  q.put(1);
  CHECK_THROWS_AS((void)q.get_batch(2, 50ms), cask::TimeoutError);
  CHECK(q.size() == 1);  // the batch that timed out left its item queued
  // Inside a task: the same TimeoutError (crossing as itself on a cluster).
  CHECK(env.client.submit(queue_get, std::string("both.q.timeouts"), 5000).result(kPatience) == 1);
  CHECK_THROWS_AS((void)env.client.submit(queue_get, std::string("both.q.timeouts"), 50).result(kPatience),
                  cask::TimeoutError);
  q.put(7);
  CHECK(q.get(kPatience) == 7);
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
  // A task opening it with another type fails that task.
  auto task = env.client.submit(queue_put_text, std::string("both.q.typed"), std::string("x"));
  CHECK_THROWS_AS((void)task.result(kPatience), cask::Error);
  // Each kind of object has its own names.
  CHECK_NOTHROW(cask::Variable<int>("both.q.typed", env.client).set(1));
  CHECK(ints.get(kPatience) == 1);
}

BOTH_CASE("Queue.cancelled_getter_takes_nothing", 30) {
  const std::string name = "both.q.cancelled";
  cask::Queue<int> q{name, env.client};
  auto waiting = blocked_getter(env, name, "log");
  waiting.cancel();
  CHECK_THROWS_AS((void)waiting.result(kPatience), cask::CancelledError);
  q.put(1);
  // Whether the cancel reached the queue before the item or not, the item is not lost.
  CHECK(q.get(kPatience) == 1);
  q.put(2);
  CHECK(env.client.submit(queue_get, name, 5000).result(kPatience) == 2);
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
  auto batch = std::async(std::launch::async, [&] { return q.get_batch(3, kPatience); });
  for (int i = 1; i <= 2; ++i) CHECK(env.client.submit(queue_put, name, i).result(kPatience) == i);
  CHECK(batch.wait_for(50ms) == std::future_status::timeout);  // two of three
  CHECK(env.client.submit(queue_put, name, 3).result(kPatience) == 3);
  REQUIRE(batch.wait_for(kPatience) == std::future_status::ready);
  CHECK(batch.get() == std::vector{1, 2, 3});
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
}
