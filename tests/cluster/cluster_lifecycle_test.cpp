// Cluster mode, lifecycles: pure keys (one computation), pure=false, result(timeout),
// cancelling queued and running tasks, dropping the last handle, fire_and_forget across
// the submitting client's end. Tasks are gated on files (see tasks.hpp: gated) and counted
// through the lines they append to log files.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster_util.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;

namespace {

constexpr int kGateLimitMs = 30000;  // a gated task gives up (throws) after this long

/// A gated task: its gate file, its log, and its future.
struct GatedTask {
  std::string gate;
  std::string log;
  cask::Future<int> future;

  GatedTask(cask::Client& client, const ScratchDir& dir, const std::string& name, int value)
      : gate(dir.file(name + ".gate")), log(dir.file(name + ".log")),
        future(client.submit(gated, gate, log, value, kGateLimitMs)) {}
  bool started() const { return wait_for_line(log, "start"); }
  void open() const { open_gate(gate); }
};

/// Opens gates at scope exit, so that a failed REQUIRE never leaves a task polling.
struct OpenOnExit {
  std::vector<std::string> gates;
  ~OpenOnExit() {
    for (const auto& g : gates) open_gate(g);
  }
};

}  // namespace

TEST_CASE("Cluster.same_key_is_one_computation" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  const std::string log = dir.file("runs.log");
  cask::Future<int> a = client.submit(count_run, log, 7);
  cask::Future<int> b = client.submit(count_run, log, 7);
  CHECK(a.key() == b.key());
  CHECK(a.result(kPatience) == 7);
  CHECK(b.result(kPatience) == 7);
  // Once more, after it finished, while the first handles are alive: still the same run.
  cask::Future<int> c = client.submit(count_run, log, 7);
  CHECK(c.key() == a.key());
  CHECK(c.result(kPatience) == 7);
  // In a map too.
  std::vector<cask::Future<int>> fs = client.map(count_run, std::vector{log, log}, std::vector{7, 7});
  CHECK(client.gather(fs) == std::vector{7, 7});
  CHECK(fs[0].key() == a.key());
  CHECK(count_lines(log, "run") == 1);
  // Another argument is another key and another run.
  cask::Future<int> d = client.submit(count_run, log, 8);
  CHECK(d.key() != a.key());
  CHECK(d.result(kPatience) == 8);
  CHECK(count_lines(log, "run") == 2);
}

TEST_CASE("Cluster.same_key_submitted_again_right_after_its_release" * doctest::timeout(120)) {
  // The last handle of a key dies and the same key is submitted again at once, over and
  // over (what two nested parents sharing pure children do). The client batches its
  // releases: one that reached the scheduler after the new submit freed the value the new
  // future was about to fetch, and that future never completed.
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  for (int i = 0; i < 300; ++i) {
    INFO("round " << i);
    REQUIRE(client.submit(inc, 7).result(kPatience) == 8);
  }
  for (int i = 0; i < 50; ++i) {
    INFO("map round " << i);
    REQUIRE(client.gather(client.map(inc, std::vector{1, 2, 3})) == std::vector{2, 3, 4});
  }
}

TEST_CASE("Cluster.same_key_from_two_clients_is_one_computation" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client first{cluster};
  cask::Client second{cluster};
  ScratchDir dir;
  GatedTask g(first, dir, "shared", 3);
  OpenOnExit opener{{g.gate}};
  REQUIRE(g.started());
  cask::Future<int> other = second.submit(gated, g.gate, g.log, 3, kGateLimitMs);
  CHECK(other.key() == g.future.key());
  g.open();
  CHECK(other.result(kPatience) == 3);
  CHECK(g.future.result(kPatience) == 3);
  CHECK(count_lines(g.log, "start") == 1);
}

TEST_CASE("Cluster.pure_false_runs_twice" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  const std::string log = dir.file("runs.log");
  cask::Future<int> a = client.submit(cask::options{.pure = false}, count_run, log, 7);
  cask::Future<int> b = client.submit(cask::options{.pure = false}, count_run, log, 7);
  CHECK(a.key() != b.key());
  CHECK(a.result(kPatience) == 7);
  CHECK(b.result(kPatience) == 7);
  CHECK(count_lines(log, "run") == 2);
  // An explicit key shares like a pure one.
  cask::Future<int> c = client.submit(cask::options{.key = "my-key"}, count_run, log, 9);
  cask::Future<int> d = client.submit(cask::options{.key = "my-key"}, count_run, log, 9);
  CHECK(c.key() == "my-key");
  CHECK(d.key() == "my-key");
  CHECK(c.result(kPatience) == 9);
  CHECK(d.result(kPatience) == 9);
  CHECK(count_lines(log, "run") == 3);
}

TEST_CASE("Cluster.result_timeout_then_result" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  GatedTask g(client, dir, "slow", 11);
  OpenOnExit opener{{g.gate}};
  REQUIRE(g.started());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)g.future.result(200ms), cask::TimeoutError);
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= 200ms);
  CHECK(waited < 200ms + kPatience);
  CHECK_THROWS_AS((void)g.future.result(0ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)g.future.result_until(std::chrono::steady_clock::now() + 50ms), cask::TimeoutError);
  // The task keeps running: not cancelled, and a later result() returns its value.
  CHECK(g.future.status() == cask::Status::pending);
  g.open();
  CHECK(g.future.result() == 11);
  CHECK(count_lines(g.log, "stopped") == 0);
  CHECK(count_lines(g.log, "done") == 1);
  CHECK(g.future.result(1ms) == 11);  // done: a timed result returns at once
}

TEST_CASE("Cluster.cancel_queued_task_never_runs" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  // Both slots busy: the next task queues.
  GatedTask a(client, dir, "a", 1);
  GatedTask b(client, dir, "b", 2);
  OpenOnExit opener{{a.gate, b.gate}};
  REQUIRE(a.started());
  REQUIRE(b.started());
  const std::string marker = dir.file("queued.log");
  cask::Future<int> queued = client.submit(count_run, marker, 5);
  cask::Future<int> copy = queued;
  queued.cancel();
  CHECK(queued.status() == cask::Status::cancelled);  // at once
  CHECK(copy.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)queued.result(kPatience), cask::CancelledError);
  CHECK_THROWS_AS((void)copy.result(), cask::CancelledError);
  // Free the slots. Tasks submitted after the cancelled one run; had it not been
  // cancelled, it would have started before them (same priority: submission order).
  a.open();
  b.open();
  CHECK(a.future.result(kPatience) == 1);
  CHECK(b.future.result(kPatience) == 2);
  const std::string later = dir.file("later.log");
  CHECK(client.gather(client.map(count_run, std::vector{later, later}, std::vector{1, 2})) ==
        std::vector{1, 2});
  CHECK_FALSE(std::filesystem::exists(marker));
  CHECK(queued.status() == cask::Status::cancelled);
  // client.cancel(fs) of several queued tasks.
  GatedTask c(client, dir, "c", 3);
  GatedTask d(client, dir, "d", 4);
  opener.gates.push_back(c.gate);
  opener.gates.push_back(d.gate);
  INFO("stats while waiting for c and d: " << client.stats());
  REQUIRE(c.started());
  REQUIRE(d.started());
  const std::string marker2 = dir.file("queued2.log");
  std::vector<cask::Future<int>> fs = client.map(count_run, std::vector{marker2, marker2}, std::vector{1, 2});
  client.cancel(fs);
  for (const auto& f : fs) CHECK(f.status() == cask::Status::cancelled);
  c.open();
  d.open();
  CHECK(c.future.result(kPatience) == 3);
  CHECK(d.future.result(kPatience) == 4);
  CHECK(client.submit(count_run, later, 3).result(kPatience) == 3);
  CHECK_FALSE(std::filesystem::exists(marker2));
}

TEST_CASE("Cluster.cancel_running_task_stops_it" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Client other_client{cluster};
  ScratchDir dir;
  GatedTask g(client, dir, "running", 1);
  OpenOnExit opener{{g.gate}};
  REQUIRE(g.started());
  cask::Future<int> copy = g.future;
  cask::Future<int> elsewhere = other_client.submit(gated, g.gate, g.log, 1, kGateLimitMs);  // same key
  REQUIRE(elsewhere.key() == g.future.key());
  // A round trip of the other client to the scheduler, after its submit: the scheduler
  // has seen that submit before the cancel (otherwise the cancel could come first, and
  // the other client's submit would then be a fresh computation of the key).
  REQUIRE(other_client.stats().workers == 2);
  g.future.cancel();
  CHECK(g.future.status() == cask::Status::cancelled);  // at once
  CHECK(copy.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)g.future.result(), cask::CancelledError);
  CHECK_THROWS_AS((void)copy.result(kPatience), cask::CancelledError);
  // The task noticed its stop token and returned early.
  CHECK(wait_for_line(g.log, "stopped"));
  CHECK(count_lines(g.log, "done") == 0);
  // The other client's handle of the same key sees the cancellation too.
  INFO("runs of the gated task (\"start\" lines): " << count_lines(g.log, "start"));
  CHECK(eventually([&] { return elsewhere.status() == cask::Status::cancelled; }));
  CHECK_THROWS_AS((void)elsewhere.result(kPatience), cask::CancelledError);
  // Its slot is free again.
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
  CHECK(client.gather(client.map(inc, std::vector{1, 2, 3})) == std::vector{2, 3, 4});

  // A sleeping task (this_task::sleep_for) wakes when cancelled.
  cask::Future<int> sleeper = client.submit(nap, 60000);
  CHECK(eventually([&] { return client.stats().slots_busy >= 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  sleeper.cancel();
  CHECK_THROWS_AS((void)sleeper.result(), cask::CancelledError);
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
  CHECK(std::chrono::steady_clock::now() - t0 < kPatience);
}

TEST_CASE("Cluster.dropping_last_handle_cancels_running_task" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  std::string gate, log;
  {
    GatedTask g(client, dir, "dropped", 1);
    gate = g.gate;
    log = g.log;
    REQUIRE(g.started());
    cask::Future<int> copy = g.future;  // two handles, both dropped here
  }
  OpenOnExit opener{{gate}};
  CHECK(wait_for_line(log, "stopped"));
  CHECK(count_lines(log, "done") == 0);
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
}

TEST_CASE("Cluster.fire_and_forget_outlives_the_submitting_client" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client keeper{cluster};  // keeps a client on the cluster throughout
  ScratchDir dir;
  const std::string gate = dir.file("faf.gate");
  const std::string log = dir.file("faf.log");
  OpenOnExit opener{{gate}};
  auto submitter = std::make_shared<std::unique_ptr<cask::Client>>(std::make_unique<cask::Client>(cluster));
  {
    cask::Future<int> f = (*submitter)->submit(gated, gate, log, 1, kGateLimitMs);
    cask::fire_and_forget(f);
  }  // every handle gone
  REQUIRE(wait_for_line(log, "start"));
  // The submitting client goes away while the task waits for its gate. (On a thread:
  // should its destructor block, the test fails instead of hanging.)
  auto destroyed = std::make_shared<Latch>();
  std::thread ender([submitter, destroyed] {
    submitter->reset();
    destroyed->count_down();
  });
  CHECK(destroyed->wait_for(1));
  open_gate(gate);
  // The task ran to completion after its client was gone.
  CHECK(wait_for_line(log, "done"));
  CHECK(count_lines(log, "stopped") == 0);
  // Once its fire_and_forget work is done, the destructor has returned in any case.
  const bool returned = destroyed->wait_for(1);
  CHECK_MESSAGE(returned, "~Client of the submitting client still blocked after its fire_and_forget task finished");
  if (returned)
    ender.join();
  else
    ender.detach();  // left blocked; it holds only its own shared state
  CHECK(keeper.submit(inc, 1).result(kPatience) == 2);
}

TEST_CASE("Cluster.client_destruction_cancels_its_running_work" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client keeper{cluster};
  ScratchDir dir;
  const std::string gate = dir.file("work.gate");
  const std::string log = dir.file("work.log");
  OpenOnExit opener{{gate}};
  cask::Future<int> f;  // outlives its client
  {
    cask::Client client{cluster};
    f = client.submit(gated, gate, log, 1, kGateLimitMs);
    REQUIRE(wait_for_line(log, "start"));
  }
  // Its client is gone: the pending future is cancelled and the task asked to stop.
  CHECK(eventually([&] { return f.status() == cask::Status::cancelled; }));
  CHECK_THROWS_AS((void)f.result(kPatience), cask::CancelledError);
  CHECK(wait_for_line(log, "stopped"));
  CHECK(eventually([&] { return keeper.stats().slots_busy == 0; }));
  CHECK(keeper.submit(inc, 1).result(kPatience) == 2);
}
