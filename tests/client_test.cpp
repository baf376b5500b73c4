// Client: submit, map, gather, scatter, client.cancel, options, stats, concurrent use.
#include <algorithm>
#include <list>
#include <numeric>
#include <ranges>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

std::atomic<int> g_counted_square_runs{0};

int slow(int x) { return 3 * x; }
int add(int a, int b) { return a + b; }
int sum(std::vector<int> xs) { return std::accumulate(xs.begin(), xs.end(), 0); }
std::string greet(std::string name) { return "hello " + name; }
int fails_with_my_error(int code) { throw MyError("task failed", code); }
int counted_square(int x) {
  g_counted_square_runs.fetch_add(1);
  return x * x;
}

namespace {

/// Submits a task that signals `started`, then blocks until `gate` is set (or it is
/// cancelled), and returns `value`.
cask::Future<int> submit_gated(cask::Client& client, EventPtr started, EventPtr gate, int value = 0) {
  return client.submit([started, gate, value] {
    started->set();
    gate->wait();
    return value;
  });
}

}  // namespace

TEST_CASE("Submit.returns_value" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Future<int> f = client.submit(slow, 2);
  CHECK(f.valid());
  CHECK(f.result() == 6);
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.done());
}

TEST_CASE("Submit.deduces_result_type" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Future<std::string> s = client.submit(greet, std::string("cask"));
  cask::Future<double> d = client.submit([](int x) { return x / 2.0; }, 3);
  cask::Future<std::vector<int>> v = client.submit([] { return std::vector{1, 2, 3}; });
  CHECK(s.result() == "hello cask");
  CHECK(d.result() == doctest::Approx(1.5));
  CHECK(v.result() == std::vector{1, 2, 3});
}

TEST_CASE("Submit.void_task_runs" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto ran = std::make_shared<std::atomic<int>>(0);
  cask::Future<void> f = client.submit([ran] { ran->fetch_add(1); });
  f.result();
  CHECK(ran->load() == 1);
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.exception() == nullptr);
}

TEST_CASE("Submit.returns_at_once_while_cluster_is_busy" * doctest::timeout(10)) {
  // One slot, blocked by a gated task: submit must not wait for a free slot.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto blocker = submit_gated(client, started, gate, 7);
  REQUIRE(started->wait_for());

  std::vector<cask::Future<int>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(client.submit(add, i, 1000));
  // Still blocked: nothing could have run, yet every submit returned.
  CHECK_FALSE(gate->is_set());
  CHECK(blocker.status() == cask::Status::pending);
  for (const auto& f : fs) CHECK(f.status() == cask::Status::pending);

  gate->set();
  CHECK(blocker.result() == 7);
  for (int i = 0; i < 50; ++i) CHECK(fs[i].result() == i + 1000);
}

TEST_CASE("Submit.runs_tasks_in_parallel_on_all_slots" * doctest::timeout(10)) {
  // Two slots: two tasks that each wait for the other to start can only finish when both
  // run at the same time.
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto a = make_event();
  auto b = make_event();
  auto fa = client.submit([a, b] { a->set(); return b->wait() ? 1 : -1; });
  auto fb = client.submit([a, b] { b->set(); return a->wait() ? 2 : -2; });
  CHECK(fa.result(kPatience) == 1);
  CHECK(fb.result(kPatience) == 2);
}

TEST_CASE("Submit.idle_worker_takes_queued_tasks" * doctest::timeout(10)) {
  // Worker slots: 2 (one per worker). One is blocked by a gated task; every other task
  // must still run on the free worker ("starts as soon as a worker is free") rather than
  // wait behind the blocked one.
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto blocker = submit_gated(client, started, gate, 1);
  REQUIRE(started->wait_for());
  std::vector<cask::Future<int>> fs;
  for (int i = 0; i < 6; ++i) fs.push_back(client.submit(cask::options{.pure = false}, slow, i));
  for (int i = 0; i < 6; ++i) {
    INFO("task ", i, ": ", fs[i]);
    CHECK_NOTHROW(CHECK(fs[i].result(kPatience) == 3 * i));
  }
  CHECK_FALSE(blocker.done());
  gate->set();
  CHECK(blocker.result() == 1);
}

TEST_CASE("Submit.task_knows_its_key" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit([] { return std::string(cask::this_task::key()); });
  CHECK(f.result() == f.key());
  CHECK(std::string(cask::this_task::key()).empty());  // outside a task
}

TEST_CASE("Submit.concurrent_submit_from_many_threads" * doctest::timeout(20)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::vector<cask::Future<int>>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        per_thread[t].push_back(client.submit(cask::options{.pure = false}, add, t, i));
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i) CHECK(per_thread[t][i].result() == t + i);
}

TEST_CASE("Map.one_range" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  std::vector<cask::Future<int>> fs = client.map(slow, std::vector{1, 2, 3, 4});
  REQUIRE(fs.size() == 4);
  CHECK(client.gather(fs) == std::vector{3, 6, 9, 12});
  std::set<std::string> keys;
  for (const auto& f : fs) keys.insert(f.key());
  CHECK(keys.size() == 4);
}

TEST_CASE("Map.any_input_range" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto from_iota = client.map(slow, std::views::iota(1, 4));
  CHECK(client.gather(from_iota) == std::vector{3, 6, 9});
  std::list<std::string> names{"a", "b"};
  auto from_list = client.map(greet, names);
  CHECK(client.gather(from_list) == std::vector<std::string>{"hello a", "hello b"});
}

TEST_CASE("Map.two_zipped_ranges" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto fs = client.map(add, std::vector{1, 2, 3}, std::vector{10, 20, 30});
  REQUIRE(fs.size() == 3);
  CHECK(client.gather(fs) == std::vector{11, 22, 33});
}

TEST_CASE("Map.unequal_lengths_throw_error" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  CHECK_THROWS_AS((void)client.map(add, std::vector{1, 2, 3}, std::vector{10, 20}), cask::Error);
  CHECK_THROWS_AS((void)client.map(add, std::vector{1}, std::vector{10, 20}), cask::Error);
  // Nothing was submitted, and the client still works.
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  CHECK(client.submit(add, 1, 2).result() == 3);
}

TEST_CASE("Map.empty_range_gives_no_futures" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto fs = client.map(slow, std::vector<int>{});
  CHECK(fs.empty());
  CHECK(client.gather(fs).empty());
}

TEST_CASE("Gather.values_in_order" * doctest::timeout(10)) {
  // One worker with three slots, so placement plays no part.
  cask::Client client{{.workers = 1, .threads_per_worker = 3}};
  // The first future finishes last: gather still returns submission order.
  auto gate = make_event();
  OpenOnExit opener{gate};
  std::vector<cask::Future<int>> fs;
  fs.push_back(client.submit([gate] { gate->wait(); return 1; }));
  fs.push_back(client.submit(slow, 1));
  fs.push_back(client.submit(slow, 2));
  fs[2].add_done_callback([gate](const cask::Future<int>&) { gate->set(); });
  CHECK(client.gather(fs) == std::vector{1, 3, 6});
}

TEST_CASE("Gather.rethrows_first_error_in_order" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  std::vector<cask::Future<int>> fs;
  fs.push_back(client.submit(slow, 1));
  fs.push_back(client.submit(fails_with_my_error, 1));
  fs.push_back(client.submit([]() -> int { throw std::logic_error("second"); }));
  try {
    (void)client.gather(fs);
    FAIL("gather did not throw");
  } catch (const MyError& e) {
    CHECK(e.code == 1);
  } catch (...) {
    FAIL("gather threw something other than the first error");
  }
}

TEST_CASE("Gather.throws_cancelled_error_for_cancelled_future" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto gate = make_event();
  OpenOnExit opener{gate};
  std::vector<cask::Future<int>> fs;
  fs.push_back(client.submit(slow, 1));
  fs.push_back(client.submit([gate] { gate->wait(); return 2; }));
  fs[1].cancel();
  CHECK_THROWS_AS((void)client.gather(fs), cask::CancelledError);
}

TEST_CASE("Scatter.gives_finished_future" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Future<std::vector<int>> data = client.scatter(std::vector{1, 2, 3});
  CHECK(data.done());
  CHECK(data.status() == cask::Status::finished);
  CHECK(data.result() == std::vector{1, 2, 3});
  CHECK(data.exception() == nullptr);
  CHECK_FALSE(data.key().empty());
  CHECK(eventually([&] { return client.stats().finished == 1; }));
}

TEST_CASE("Scatter.future_usable_as_argument" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto data = client.scatter(std::vector{1, 2, 3, 4});
  auto total = client.submit(sum, data);
  CHECK(total.result() == 10);
  auto x = client.scatter(20);
  CHECK(client.submit(add, x, 22).result() == 42);
  CHECK(client.submit(add, x, x).result() == 40);
}

TEST_CASE("Scatter.released_with_last_handle" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  {
    auto data = client.scatter(std::string("payload"));
    CHECK(eventually([&] { return client.stats().tasks() == 1; }));
  }
  CHECK(eventually([&] {
    auto s = client.stats();
    return s.tasks() == 0 && s.future_actors == 0;
  }));
}

TEST_CASE("Client.cancel_cancels_every_future" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  std::vector<cask::Future<int>> fs;
  fs.push_back(submit_gated(client, started, gate, 1));
  REQUIRE(started->wait_for());
  for (int i = 0; i < 5; ++i) fs.push_back(client.submit(cask::options{.pure = false}, slow, i));
  client.cancel(fs);
  for (const auto& f : fs) {
    CHECK(f.status() == cask::Status::cancelled);
    CHECK_THROWS_AS((void)f.result(), cask::CancelledError);
  }
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
}

TEST_CASE("Client.rejects_invalid_options" * doctest::timeout(10)) {
  CHECK_THROWS_AS(cask::Client({.workers = 1, .threads_per_worker = 0}), cask::Error);
  CHECK_THROWS_AS(cask::Client({.workers = -1, .threads_per_worker = 1}), cask::Error);
}

TEST_CASE("Client.default_has_one_worker_per_hardware_thread" * doctest::timeout(10)) {
  cask::Client client;
  auto s = client.stats();
  const auto hw = std::max(1u, std::thread::hardware_concurrency());
  CHECK(s.workers == hw);
  CHECK(s.slots == hw);
  CHECK(client.submit(slow, 5).result() == 15);
}

TEST_CASE("Stats.reports_workers_and_slots" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 3}};
  auto s = client.stats();
  CHECK(s.workers == 2);
  CHECK(s.slots == 6);
  CHECK(s.slots_busy == 0);
  CHECK(s.tasks() == 0);
  CHECK(s.future_actors == 0);
}

TEST_CASE("Stats.counts_tasks_by_state_during_gated_run" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto running = submit_gated(client, started, gate, 1);
  REQUIRE(started->wait_for());
  // Seven more behind the busy slot, and one that waits for `running` as its input.
  std::vector<cask::Future<int>> behind;
  for (int i = 0; i < 7; ++i) behind.push_back(client.submit([gate, i] { gate->wait(); return i; }));
  auto dependent = client.submit(add, running, 1);

  cask::ClusterStats s;
  CHECK(eventually([&] {
    s = client.stats();
    return s.waiting == 1 && s.queued + s.processing == 8;
  }));
  INFO(s);
  CHECK(s.waiting == 1);
  CHECK(s.processing >= 1);  // the running one at least
  CHECK(s.queued >= 1);      // one slot cannot have taken all eight
  CHECK(s.queued + s.processing == 8);
  CHECK(s.finished == 0);
  CHECK(s.erred == 0);
  CHECK(s.slots == 1);
  CHECK(s.slots_busy == 1);
  CHECK(s.future_actors == 9);

  auto bad = client.submit(cask::options{.priority = -1}, fails_with_my_error, 3);
  gate->set();
  CHECK(dependent.result() == 2);
  for (const auto& f : behind) (void)f.result();
  CHECK_THROWS_AS((void)bad.result(), MyError);
  CHECK(eventually([&] {
    s = client.stats();
    return s.finished == 9 && s.erred == 1 && s.slots_busy == 0;
  }));
  INFO(s);
  CHECK(s.finished == 9);
  CHECK(s.erred == 1);
  CHECK(s.queued == 0);
  CHECK(s.processing == 0);
  CHECK(s.waiting == 0);
  CHECK(s.slots_busy == 0);
}
