// Client destruction with work in flight, and futures that outlive their client.
#include <memory>
#include <optional>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Shutdown.idle_client_destroys_cleanly" * doctest::timeout(10)) {
  for (int i = 0; i < 3; ++i) {
    cask::Client client{{.workers = 2, .threads_per_worker = 2}};
    CHECK(client.submit(slow, i).result() == 3 * i);
  }
  cask::Client unused{{.workers = 1, .threads_per_worker = 1}};
}

TEST_CASE("Shutdown.with_running_queued_and_waiting_tasks" * doctest::timeout(15)) {
  auto started = std::make_shared<std::atomic<int>>(0);
  auto all_started = make_event();
  auto queued_runs = std::make_shared<std::atomic<int>>(0);
  auto stopped = std::make_shared<std::atomic<int>>(0);
  std::vector<cask::Future<int>> running, queued, waiting;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 2}};
    for (int i = 0; i < 2; ++i)
      running.push_back(client.submit([started, all_started, stopped] {
        if (started->fetch_add(1) == 1) all_started->set();
        // Cooperative: runs until asked to stop.
        while (cask::this_task::sleep_for(1ms)) {
        }
        stopped->fetch_add(1);
        return 1;
      }));
    REQUIRE(all_started->wait_for());
    for (int i = 0; i < 10; ++i)
      queued.push_back(client.submit([queued_runs] { return queued_runs->fetch_add(1); }));
    for (int i = 0; i < 3; ++i) waiting.push_back(client.submit(add, running[0], i));
  }  // destroyed with everything in flight: must not hang or crash
  CHECK(stopped->load() == 2);   // running tasks were asked to stop and returned
  CHECK(queued_runs->load() == 0);  // the slots were busy: queued work never started
  for (auto* group : {&running, &queued, &waiting})
    for (const auto& f : *group) {
      CHECK(f.status() == cask::Status::cancelled);
      CHECK(f.done());
      CHECK_THROWS_AS((void)f.result(), cask::CancelledError);
      CHECK_THROWS_AS((void)f.result(1s), cask::CancelledError);
      CHECK(f.exception() != nullptr);
    }
}

TEST_CASE("Shutdown.waits_for_non_cooperative_running_task" * doctest::timeout(15)) {
  auto started = make_event();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  std::optional<cask::Future<int>> f;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    f = client.submit([started, finished] {
      started->set();
      std::this_thread::sleep_for(100ms);  // ignores the stop token
      finished->store(true);
      return 1;
    });
    REQUIRE(started->wait_for());
  }
  // The destructor waited for the thread running user code (it cannot be killed).
  CHECK(finished->load());
  CHECK(f->done());
  CHECK(f->status() == cask::Status::cancelled);
}

TEST_CASE("Shutdown.finished_futures_keep_values_after_client" * doctest::timeout(10)) {
  std::optional<cask::Future<int>> ok, bad;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    ok = client.submit(slow, 3);
    bad = client.submit(fails_with_my_error, 4);
    REQUIRE(ok->result() == 9);
    REQUIRE_THROWS_AS((void)bad->result(), MyError);
  }
  CHECK(ok->status() == cask::Status::finished);
  CHECK(ok->result() == 9);
  CHECK(bad->status() == cask::Status::error);
  CHECK_THROWS_AS((void)bad->result(), MyError);
}

TEST_CASE("Shutdown.futures_outliving_client_are_usable" * doctest::timeout(10)) {
  std::optional<cask::Future<int>> f;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    auto gate = make_event();
    f = client.submit([gate] { gate->wait(); return 1; });
  }
  cask::Future<int> copy = *f;
  CHECK(copy.status() == cask::Status::cancelled);
  f->cancel();  // no client any more: no effect, no crash
  auto called = std::make_shared<std::atomic<int>>(0);
  f->add_done_callback([called](const cask::Future<int>&) { called->fetch_add(1); });
  CHECK(eventually([&] { return called->load() == 1; }));
  CHECK_THROWS_AS((void)copy.result(), cask::CancelledError);
  f.reset();  // the last handles are dropped after the cluster is gone
}

TEST_CASE("Shutdown.callbacks_of_cancelled_futures_run" * doctest::timeout(10)) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto status = std::make_shared<std::atomic<cask::Status>>(cask::Status::pending);
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    auto gate = make_event();
    auto f = client.submit([gate] { gate->wait(); return 1; });
    f.add_done_callback([calls, status](const cask::Future<int>& g) {
      status->store(g.status());
      calls->fetch_add(1);
    });
  }
  // The client's callback thread is drained before the destructor returns.
  CHECK(calls->load() == 1);
  CHECK(status->load() == cask::Status::cancelled);
}

TEST_CASE("Shutdown.with_many_pending_tasks" * doctest::timeout(15)) {
  std::vector<cask::Future<int>> fs;
  {
    cask::Client client{{.workers = 2, .threads_per_worker = 1}};
    std::vector<int> xs(5000);
    for (int i = 0; i < 5000; ++i) xs[i] = i;
    fs = client.map([](int x) { return cask::this_task::sleep_for(1ms) ? x : -1; }, xs);
  }
  std::size_t finished = 0, cancelled = 0;
  for (const auto& f : fs) {
    REQUIRE(f.done());
    if (f.status() == cask::Status::finished) ++finished;
    if (f.status() == cask::Status::cancelled) ++cancelled;
  }
  CHECK(finished + cancelled == fs.size());
  CHECK(cancelled > 0);
}
