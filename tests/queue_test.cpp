// cask::Queue<T>: a named cluster-wide FIFO. One object per name (from the client thread,
// inside tasks, through get_client), kinds have separate namespaces, FIFO order, blocking
// and timed gets that take nothing when they time out, get_batch (all or nothing),
// get_all, a queue of futures keeps them alive, blocking inside a task hands the slot
// back, cancellation wakes a blocked get, client shutdown fails a blocked get, retirement
// of unused empty queues, and volume (10,000 items; 8 producers).
#include <algorithm>
#include <atomic>
#include <optional>
#include <ranges>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {


std::uintptr_t id_of(const cask::Client& c) { return reinterpret_cast<std::uintptr_t>(c.state().get()); }

}  // namespace

// --- basics ------------------------------------------------------------------------------

TEST_CASE("Queue.put_get_in_fifo_order" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"fifo", client};
  CHECK(q.name() == "fifo");
  CHECK(q.size() == 0);
  for (int i = 1; i <= 5; ++i) q.put(i * 10);
  CHECK(q.size() == 5);
  for (int i = 1; i <= 5; ++i) CHECK(q.get() == i * 10);
  CHECK(q.size() == 0);
  // Values of a type with state move through intact.
  cask::Queue<std::string> s{"strings", client};
  s.put("hello");
  s.put(std::string(1000, 'x'));
  CHECK(s.get(kPatience) == "hello");
  CHECK(s.get(kPatience) == std::string(1000, 'x'));
}

TEST_CASE("Queue.same_name_is_the_same_queue_from_client_and_tasks" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Queue<int> a{"shared", client};
  cask::Queue<int> b{"shared"};  // default client: the current one
  a.put(1);
  CHECK(b.size() == 1);
  CHECK(b.get(kPatience) == 1);
  CHECK(a.size() == 0);

  // A task opening the name with the default client, another through get_client().
  auto f1 = client.submit(cask::options{.pure = false}, [] {
    cask::Queue<int> q{"shared"};
    q.put(2);
    return 0;
  });
  REQUIRE(f1.result(kPatience) == 0);
  auto f2 = client.submit(cask::options{.pure = false}, [] {
    cask::Client c = cask::get_client();
    cask::Queue<int> q{"shared", c};
    q.put(3);
    return 0;
  });
  REQUIRE(f2.result(kPatience) == 0);
  CHECK(a.get(kPatience) == 2);
  CHECK(a.get(kPatience) == 3);

  // And the other way round: a task takes what the client put.
  a.put(42);
  auto taker = client.submit(cask::options{.pure = false}, [] { return cask::Queue<int>{"shared"}.get(); });
  CHECK(taker.result(kPatience) == 42);
  CHECK(a.size() == 0);
  // A handle captured by value in a task is the same queue too.
  auto putter = client.submit(cask::options{.pure = false}, [a] { a.put(99); return 0; });
  REQUIRE(putter.result(kPatience) == 0);
  CHECK(b.get(kPatience) == 99);
}

TEST_CASE("Queue.default_client_inside_task_is_the_tasks_cluster" * doctest::timeout(30)) {
  cask::Client first{{.workers = 1, .threads_per_worker = 1}};
  cask::Client second{{.workers = 1, .threads_per_worker = 1}};  // the most recent client
  REQUIRE(id_of(cask::get_client()) == id_of(second));
  auto f = first.submit(cask::options{.pure = false}, [] {
    cask::Queue<int> q{"where"};  // the task's cluster, not the latest client
    q.put(5);
    return 0;
  });
  REQUIRE(f.result(kPatience) == 0);
  cask::Queue<int> on_first{"where", first};
  cask::Queue<int> on_second{"where", second};
  CHECK(cask::Queue<int>{"where"}.size() == 0);  // outside tasks: the latest client's
  CHECK(on_second.size() == 0);
  CHECK(on_first.size() == 1);
  CHECK(on_first.get(kPatience) == 5);
  CHECK_THROWS_AS((void)on_second.get(20ms), cask::TimeoutError);
}

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

TEST_CASE("Queue.each_kind_has_its_own_namespace" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  const std::size_t before = objects(client);
  cask::Queue<int> q{"x", client};
  cask::Variable<int> v{"x", client};
  cask::Lock lock{"x", client};
  cask::Event event{"x", client};
  cask::Semaphore sem{"x", 2, client};
  CHECK(eventually([&] { return objects(client) == before + 5; }));
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
  cask::Queue<std::string> other{"lock-name", client};
  cask::Lock same_name{"lock-name", client};
  other.put("s");
  CHECK(same_name.acquire(kPatience));
  CHECK(other.get(kPatience) == "s");
  same_name.release();
}

// --- timeouts ----------------------------------------------------------------------------

TEST_CASE("Queue.get_timeout_throws_and_takes_nothing" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"timed", client};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)q.get(50ms), cask::TimeoutError);
  CHECK(since(t0) >= 50ms);
  // Several timed-out gets in a row: none of them may linger and swallow a later item.
  for (int i = 0; i < 20; ++i) CHECK_THROWS_AS((void)q.get(1ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)q.get(0ms), cask::TimeoutError);
  q.put(1);
  q.put(2);
  CHECK(q.size() == 2);
  CHECK(q.get(kPatience) == 1);
  CHECK(q.get(kPatience) == 2);
  CHECK(q.size() == 0);
  // A timed get succeeds when the item is already there, and when it arrives in time.
  q.put(3);
  CHECK(q.get(0ms) == 3);
  InBackground<int> waiting([q] { return q.get(std::chrono::seconds(30)); });
  q.put(4);
  CHECK(waiting.get() == 4);
  CHECK(q.size() == 0);
}

TEST_CASE("Queue.timed_out_gets_under_concurrent_puts_lose_no_item" * doctest::timeout(30)) {
  // A producer thread puts while the client polls with very short timeouts: gets that time
  // out around a put must leave the item for the next one; every item arrives once, in order.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"race", client};
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
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
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

TEST_CASE("Queue.get_blocks_until_an_item_is_put" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"blocking", client};
  InBackground<int> waiting([q] { return q.get(); });
  // A correct get is still blocked whatever the timing; this only gives a wrong one the
  // chance to return early.
  CHECK_FALSE(waiting.wait_for(200ms));
  cask::Queue<int> other{"blocking", client};
  other.put(11);
  CHECK(waiting.get() == 11);
  CHECK(q.size() == 0);
}

TEST_CASE("Queue.waiting_getters_are_served_one_item_each" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"many-getters", client};
  std::vector<std::unique_ptr<InBackground<int>>> getters;
  for (int i = 0; i < 4; ++i) getters.push_back(std::make_unique<InBackground<int>>([q] { return q.get(); }));
  for (int i = 0; i < 4; ++i) q.put(i);
  std::multiset<int> values;
  for (auto& g : getters) values.insert(g->get());
  CHECK(values == std::multiset<int>{0, 1, 2, 3});
  CHECK(q.size() == 0);
}

// --- get_batch and get_all -----------------------------------------------------------------

TEST_CASE("Queue.get_batch_waits_until_n_items_then_takes_them" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"batch", client};
  q.put(1);
  q.put(2);
  q.put(3);
  q.put(4);
  CHECK(q.get_batch(3) == std::vector<int>{1, 2, 3});  // the oldest three
  CHECK(q.size() == 1);
  InBackground<std::vector<int>> waiting([q] { return q.get_batch(3); });
  q.put(5);
  CHECK_FALSE(waiting.wait_for(200ms));  // two of three: still waiting
  CHECK(q.size() == 2);                  // and took nothing meanwhile
  q.put(6);
  CHECK(waiting.get() == std::vector<int>{4, 5, 6});
  CHECK(q.size() == 0);
}

TEST_CASE("Queue.get_batch_timeout_throws_and_leaves_items_queued" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"batch-timeout", client};
  q.put(1);
  q.put(2);
  CHECK_THROWS_AS((void)q.get_batch(3, 50ms), cask::TimeoutError);
  CHECK(q.size() == 2);
  CHECK_THROWS_AS((void)q.get_batch(5, 0ms), cask::TimeoutError);
  CHECK(q.size() == 2);
  // The timed-out batch does not linger: a third item does not complete it.
  q.put(3);
  CHECK(q.size() == 3);
  CHECK(q.get_batch(2, kPatience) == std::vector<int>{1, 2});
  CHECK(q.get(kPatience) == 3);
  // A timed batch that is satisfied in time.
  InBackground<std::vector<int>> waiting([q] { return q.get_batch(2, std::chrono::seconds(30)); });
  q.put(7);
  q.put(8);
  CHECK(waiting.get() == std::vector<int>{7, 8});
  CHECK(q.size() == 0);
}

TEST_CASE("Queue.get_all_never_blocks_and_takes_everything" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"all", client};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(q.get_all().empty());
  CHECK(since(t0) < std::chrono::seconds(2));
  for (int i = 0; i < 10; ++i) q.put(i);
  auto all = q.get_all();
  REQUIRE(all.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(all[i] == i);
  CHECK(q.size() == 0);
  CHECK(q.get_all().empty());
  q.put(100);
  CHECK(q.get(kPatience) == 100);
}

// --- type checks -----------------------------------------------------------------------------

TEST_CASE("Queue.wrong_value_type_throws_and_first_handle_keeps_working" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> a{"typed-queue", client};
  a.put(1);
  CHECK_THROWS_WITH_AS((cask::Queue<std::string>{"typed-queue", client}), doctest::Contains("typed-queue"),
                       cask::Error);
  CHECK_THROWS_AS((cask::Queue<double>{"typed-queue"}), cask::Error);
  // Also from inside a task.
  auto f = client.submit(cask::options{.pure = false}, [] {
    try {
      cask::Queue<long> q{"typed-queue"};
      return 0;
    } catch (const cask::Error&) {
      return 1;
    }
  });
  CHECK(f.result(kPatience) == 1);
  // The queue and its first handle are untouched.
  CHECK(a.size() == 1);
  a.put(2);
  CHECK(a.get(kPatience) == 1);
  CHECK(a.get(kPatience) == 2);
  cask::Queue<int> again{"typed-queue", client};
  again.put(3);
  CHECK(a.get(kPatience) == 3);
}

// --- futures in a queue ------------------------------------------------------------------------

TEST_CASE("Queue.of_futures_keeps_each_future_alive_until_taken" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Queue<cask::Future<int>> q{"futures", client};
  Gate gate;
  OpenOnExit opener{gate.open};
  {
    // A running task whose every other handle is dropped: the queue keeps it wanted.
    auto running = client.submit(gate.task(5));
    REQUIRE(gate.started->wait_for());
    q.put(running);
    // A finished one: its value must be kept, not released.
    auto finished = client.submit(cask::options{.pure = false}, slow, 4);
    REQUIRE(finished.result(kPatience) == 12);
    q.put(finished);
  }
  CHECK(q.size() == 2);
  // Had the running task been released it would be asked to stop (and leave).
  CHECK_FALSE(gate.left->wait_for(200ms));
  CHECK_FALSE(gate.stop_seen->load());
  CHECK(client.stats().tasks() == 2);
  gate.open->set();
  cask::Future<int> first = q.get(kPatience);
  cask::Future<int> second = q.get(kPatience);
  CHECK(first.result(kPatience) == 5);
  CHECK(first.status() == cask::Status::finished);
  CHECK_FALSE(gate.stop_seen->load());
  CHECK(second.result(kPatience) == 12);
  // Taken out and dropped: the cluster releases them.
  first = {};
  second = {};
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
}

TEST_CASE("Queue.of_futures_from_inside_a_task" * doctest::timeout(30)) {
  // A task submits work and hands the futures to the client through a queue, then ends.
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Queue<cask::Future<int>> q{"handoff", client};
  auto producer = client.submit(cask::options{.pure = false}, [] {
    cask::Client c = cask::get_client();
    cask::Queue<cask::Future<int>> out{"handoff", c};
    for (int i = 1; i <= 3; ++i) out.put(c.submit(cask::options{.pure = false}, slow, i));
    return 0;
  });
  REQUIRE(producer.result(kPatience) == 0);
  producer = {};
  int total = 0;
  for (int i = 0; i < 3; ++i) total += q.get(kPatience).result(kPatience);
  CHECK(total == 18);
}

// --- blocking inside tasks ------------------------------------------------------------------

TEST_CASE("Queue.get_inside_task_hands_the_slot_back" * doctest::timeout(30)) {
  // One slot: the putter can only run because the getter gives its slot back.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto getter = client.submit(cask::options{.pure = false}, [started] {
    cask::Queue<int> q{"handback"};
    started->set();
    return q.get() + 1;
  });
  REQUIRE(started->wait_for());
  auto putter = client.submit(cask::options{.pure = false}, [] {
    cask::Queue<int>{"handback"}.put(41);
    return 0;
  });
  CHECK(putter.result(kPatience) == 0);
  CHECK(getter.result(kPatience) == 42);
  // Timed get_batch inside a task, with the items put by a later task on the same slot.
  auto batcher = client.submit(cask::options{.pure = false}, [] {
    auto xs = cask::Queue<int>{"handback"}.get_batch(3, std::chrono::seconds(30));
    return xs[0] * 100 + xs[1] * 10 + xs[2];
  });
  auto putter2 = client.submit(cask::options{.pure = false}, [] {
    cask::Queue<int> q{"handback"};
    q.put(1);
    q.put(2);
    q.put(3);
    return 0;
  });
  CHECK(putter2.result(kPatience) == 0);
  CHECK(batcher.result(kPatience) == 123);
}

TEST_CASE("Queue.cancelling_a_task_blocked_in_get_wakes_it_and_takes_nothing" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"cancel", client};
  auto started = make_event();
  auto woke_cancelled = make_event();
  auto f = client.submit(cask::options{.pure = false}, [q, started, woke_cancelled] {
    started->set();
    try {
      return q.get();
    } catch (const cask::CancelledError&) {
      woke_cancelled->set();
      throw;
    }
  });
  REQUIRE(started->wait_for());
  // Blocked in get: it gave its slot back.
  REQUIRE(eventually([&] { return client.stats().slots_busy == 0; }));
  CHECK_THROWS_AS((void)f.result(100ms), cask::TimeoutError);
  f.cancel();
  CHECK(f.status() == cask::Status::cancelled);
  CHECK(woke_cancelled->wait_for());
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  // Nothing waits on the queue any more: the next item is the client's.
  q.put(7);
  CHECK(q.get(kPatience) == 7);
  CHECK(q.size() == 0);
  // The slot is usable again.
  CHECK(client.submit(cask::options{.pure = false}, slow, 2).result(kPatience) == 6);
}

TEST_CASE("Queue.cancelled_get_batch_does_not_hold_up_later_gets" * doctest::timeout(30)) {
  // A task waiting in get_batch(5) through a copy of the client's handle is cancelled: it
  // takes nothing and no longer waits, so the client's own get is served by the next put.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"cancel-batch", client};
  auto started = make_event();
  auto f = client.submit(cask::options{.pure = false}, [q, started] {
    started->set();
    return static_cast<int>(q.get_batch(5).size());
  });
  REQUIRE(started->wait_for());
  REQUIRE(eventually([&] { return client.stats().slots_busy == 0; }));  // blocked in get_batch
  f.cancel();
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  q.put(1);
  CHECK(q.get(kPatience) == 1);
  q.put(2);
  q.put(3);
  CHECK(q.get_batch(2, kPatience) == std::vector<int>{2, 3});
  CHECK(q.size() == 0);
}

TEST_CASE("Queue.get_blocked_on_the_client_side_fails_when_the_client_is_destroyed" * doctest::timeout(30)) {
  std::optional<cask::Client> client;
  client.emplace(cask::ClientOptions{.workers = 1, .threads_per_worker = 1});
  cask::Queue<int> q{"closing", *client};
  q.put(1);
  CHECK(q.get(kPatience) == 1);
  InBackground<int> waiting([q] { return q.get(); });
  CHECK_FALSE(waiting.wait_for(100ms));  // blocked
  client.reset();
  REQUIRE(waiting.wait_for());
  CHECK_THROWS_AS((void)waiting.get(), cask::CommError);
  // The handle outlives its cluster: further calls fail the same way, destroying it is fine.
  CHECK_THROWS_AS(q.put(2), cask::CommError);
  CHECK_THROWS_AS((void)q.get(10ms), cask::CommError);
}

// --- retirement --------------------------------------------------------------------------------

TEST_CASE("Queue.retired_when_no_handle_is_left_and_it_is_empty" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  REQUIRE(objects(client) == 0);
  {
    cask::Queue<int> a{"a", client};
    CHECK(eventually([&] { return objects(client) == 1; }));
    cask::Queue<int> a2{"a", client};  // the same object
    cask::Queue<int> b{"b", client};
    CHECK(eventually([&] { return objects(client) == 2; }));
    a.put(1);
    CHECK(a2.get(kPatience) == 1);  // empty again
    {
      cask::Queue<int> copy = b;
    }
    CHECK(objects(client) == 2);  // a copy's end is not the handle's end
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  // Handles opened and dropped inside tasks are counted and retired too.
  auto f = client.submit(cask::options{.pure = false}, [] {
    cask::Queue<int> q{"in-task"};
    q.put(1);
    return q.get();
  });
  CHECK(f.result(kPatience) == 1);
  CHECK(eventually([&] { return objects(client) == 0; }));
  // A retired name can be opened again, even with another type.
  cask::Queue<std::string> reopened{"a", client};
  reopened.put("again");
  CHECK(reopened.get(kPatience) == "again");
}

TEST_CASE("Queue.non_empty_queue_outlives_its_handles" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  {
    cask::Queue<int> full{"full", client};
    full.put(1);
    full.put(2);
    cask::Queue<int> empty{"empty", client};
    CHECK(eventually([&] { return objects(client) == 2; }));
  }
  // The empty one goes, the one holding items stays.
  CHECK(eventually([&] { return objects(client) == 1; }));
  {
    cask::Queue<int> again{"full", client};
    CHECK(again.size() == 2);
    CHECK(again.get(kPatience) == 1);
    CHECK(again.get(kPatience) == 2);
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  // Filled from a task that then ends: the items wait for the client.
  auto f = client.submit(cask::options{.pure = false}, [] {
    cask::Queue<int>{"from-task"}.put(9);
    return 0;
  });
  REQUIRE(f.result(kPatience) == 0);
  f = {};
  CHECK(eventually([&] { return objects(client) == 1; }));
  cask::Queue<int> reader{"from-task", client};
  CHECK(reader.get(kPatience) == 9);
}

// --- volume ------------------------------------------------------------------------------------

TEST_CASE("Queue.ten_thousand_items_come_back_in_order" * doctest::timeout(60)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Queue<int> q{"volume", client};
  constexpr int kItems = 10000;
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

TEST_CASE("Queue.many_producing_tasks_each_item_exactly_once" * doctest::timeout(60)) {
  cask::Client client{{.workers = 4, .threads_per_worker = 1}};
  cask::Queue<int> q{"producers", client};
  constexpr int kTasks = 8, kPerTask = 1000;
  auto fs = client.map(cask::options{.pure = false},
                       [](int t) {
                         cask::Queue<int> out{"producers"};
                         for (int i = 0; i < kPerTask; ++i) out.put(t * kPerTask + i);
                         return t;
                       },
                       std::views::iota(0, kTasks));
  std::vector<int> seen(kTasks * kPerTask, 0);
  std::vector<int> last(kTasks, -1);
  bool in_order = true;
  for (int n = 0; n < kTasks * kPerTask; ++n) {
    const int v = q.get(kPatience);
    REQUIRE(v >= 0);
    REQUIRE(v < kTasks * kPerTask);
    ++seen[v];
    const int t = v / kPerTask;
    if (v % kPerTask <= last[t]) in_order = false;  // one producer's puts keep their order
    last[t] = v % kPerTask;
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  CHECK(in_order);
  for (int t = 0; t < kTasks; ++t) CHECK(fs[t].result(kPatience) == t);
  CHECK(q.size() == 0);
  CHECK(q.get_all().empty());
}

TEST_CASE("Queue.producers_and_consumers_in_tasks" * doctest::timeout(60)) {
  // Four consumers and four producers, all tasks, on two slots: consumers block in get and
  // hand their slots to producers. Every item is consumed once.
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  constexpr int kPer = 250;
  auto consumers = client.map(cask::options{.pure = false},
                              [](int) {
                                cask::Queue<int> in{"pc"};
                                long total = 0;
                                for (int i = 0; i < kPer; ++i) total += in.get();
                                return total;
                              },
                              std::views::iota(0, 4));
  auto producers = client.map(cask::options{.pure = false},
                              [](int p) {
                                cask::Queue<int> out{"pc"};
                                for (int i = 0; i < kPer; ++i) out.put(p * kPer + i);
                                return 0;
                              },
                              std::views::iota(0, 4));
  long total = 0;
  for (auto& f : consumers) total += f.result(std::chrono::seconds(30));
  for (auto& f : producers) CHECK(f.result(kPatience) == 0);
  const long n = 4 * kPer;
  CHECK(total == n * (n - 1) / 2);
  CHECK(cask::Queue<int>{"pc", client}.size() == 0);
}

TEST_CASE("Queue.reopening_a_retiring_queue_loses_nothing" * doctest::timeout(60)) {
  // Every handle is short-lived, so the queue is retired and reopened over and over, often
  // while a retirement is on its way: no item may be lost, no call may fail.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  bool in_order = true;
  for (int i = 0; i < 500; ++i) {
    { cask::Queue<int>{"churn", client}.put(i); }
    if (cask::Queue<int>{"churn", client}.get(kPatience) != i) in_order = false;
  }
  CHECK(in_order);
  // Producers and a consumer on threads, each call through a fresh handle.
  constexpr int kThreads = 3, kEach = 200;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t)
    producers.emplace_back([&client, t] {
      for (int i = 0; i < kEach; ++i) cask::Queue<int>{"churn", client}.put(t * kEach + i);
    });
  std::vector<int> seen(kThreads * kEach, 0);
  int failures = 0;
  for (int n = 0; n < kThreads * kEach; ++n) {
    try {
      const int v = cask::Queue<int>{"churn", client}.get(kPatience);
      if (v >= 0 && v < kThreads * kEach) ++seen[v];
    } catch (const cask::Error&) {
      ++failures;
    }
  }
  for (auto& p : producers) p.join();
  CHECK(failures == 0);
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  CHECK(eventually([&] { return objects(client) == 0; }));
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
