// Failure in cluster mode (DESIGN §2 "Failure"): a worker killed with SIGKILL under 10,000
// tasks in flight, a worker killed while it holds the only copy of a needed result (before
// and while its dependent waits), a task that keeps killing its workers (KilledWorker after
// allowed_failures), the scheduler killed (CommError, never a hang; workers keep retrying),
// workers rejoining a scheduler restarted on the same port, and fire_and_forget work that
// outlives its client. Every case has its own cluster; tasks are gated and observed through
// files (tasks.hpp), every wait is bounded.
#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <cask/cask.hpp>
#include <cask/local_cluster.hpp>

#include "cluster_support/cluster_fixture.hpp"
#include "fault_support.hpp"
#include "tasks.hpp"

namespace {

using namespace cask_cluster_test;
using namespace fault_test;
using Clock = std::chrono::steady_clock;

/// The index in cluster.worker_pids() of `pid` (REQUIREs that there is one).
std::size_t worker_index(const cask::LocalCluster& cluster, int pid) {
  const auto pids = cluster.worker_pids();
  const auto it = std::find(pids.begin(), pids.end(), pid);
  REQUIRE_MESSAGE(it != pids.end(), "pid " << pid << " is not one of the cluster's workers");
  return static_cast<std::size_t>(it - pids.begin());
}

std::size_t workers_of(const cask::Client& client) { return client.stats().workers; }

/// The message of the exception `f.result()` throws ("" when it returns).
template <class F>
std::string error_message(const F& f) {
  try {
    (void)f.result();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("Faults.worker_killed_with_10000_tasks_in_flight" * doctest::timeout(110)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  std::vector<int> xs(10000);
  std::iota(xs.begin(), xs.end(), 0);

  const auto t0 = Clock::now();
  std::vector<cask::Future<int>> fs = client.map(fault_tasks::inc, xs);
  const auto done_count = [&] {
    return static_cast<std::size_t>(std::count_if(fs.begin(), fs.end(), [](const auto& f) { return f.done(); }));
  };
  // Kill worker 0 once some results exist (both workers have work queued by then).
  REQUIRE(eventually([&] { return done_count() >= 20; }, 30s));
  const std::size_t done_at_kill = done_count();
  cluster.kill_worker(0);
  MESSAGE("done when worker 0 was killed: " << done_at_kill << " of " << fs.size() << " after "
                                            << std::chrono::duration_cast<std::chrono::milliseconds>(since(t0)).count()
                                            << " ms");
  REQUIRE_MESSAGE(done_at_kill < fs.size(), "every task finished before the kill: the case proves nothing");

  auto [done, not_done] = cask::wait(fs, std::chrono::seconds(60), cask::ALL_COMPLETED);
  CHECK(not_done.empty());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < fs.size(); ++i) {
    if (fs[i].status() != cask::Status::finished) {
      if (wrong++ < 5) MESSAGE("task " << i << ": " << fs[i] << " " << error_message(fs[i]));
      continue;
    }
    if (fs[i].result() != xs[i] + 1 && wrong++ < 5) MESSAGE("task " << i << " = " << fs[i].result());
  }
  CHECK(wrong == 0);
  CHECK(eventually([&] { return workers_of(client) == 1; }));
}

TEST_CASE("Faults.lost_only_copy_is_recomputed_for_a_later_dependent" * doctest::timeout(60)) {
  ScratchDir dir;
  const std::string log = dir.file("a.log");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};

  auto a = client.submit(fault_tasks::counted_value, log, 7);
  const std::vector<int> made = a.result(kPatience);
  REQUIRE(made.size() == 2);
  REQUIRE(made[1] == 7);
  const int holder = made[0];
  cluster.kill_worker(worker_index(cluster, holder));
  REQUIRE(eventually([&] { return workers_of(client) == 1; }));  // the scheduler saw it go

  auto b = client.submit(fault_tasks::plus_value, a, 100);
  CHECK(b.result(20s) == 107);
  const std::vector<int> runs = pids_in(log, "run");
  CHECK(runs.size() == 2);  // a ran twice: once on the dead worker, once again for b
  if (runs.size() == 2) {
    CHECK(runs[0] == holder);
    CHECK(runs[1] != holder);
  }
}

TEST_CASE("Faults.lost_only_copy_is_recomputed_when_the_scheduler_has_not_noticed_yet" *
          doctest::timeout(60)) {
  // b is submitted right after the SIGKILL: the scheduler may still place b with a's value
  // on the dead worker, and must recover when the fetch fails.
  ScratchDir dir;
  const std::string log = dir.file("a.log");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};

  auto a = client.submit(fault_tasks::counted_value, log, 7);
  const std::vector<int> made = a.result(kPatience);
  REQUIRE(made.size() == 2);
  cluster.kill_worker(worker_index(cluster, made[0]));
  auto b = client.submit(fault_tasks::plus_value, a, 100);
  CHECK(b.result(20s) == 107);
  CHECK(count_lines(log, "run") == 2);
}

TEST_CASE("Faults.lost_input_of_a_waiting_dependent_is_recomputed" * doctest::timeout(60)) {
  ScratchDir dir;
  const std::string alog = dir.file("a.log");
  const std::string glog = dir.file("g.log");
  const std::string gate = dir.file("gate");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};

  auto a = client.submit(fault_tasks::counted_value, alog, 7);
  const std::vector<int> made = a.result(kPatience);
  REQUIRE(made.size() == 2);
  const int holder = made[0];
  // b needs a (done, on `holder`) and g (running, gated): b waits.
  auto g = client.submit(fault_tasks::gated, gate, glog, 5, 60000);
  REQUIRE(eventually([&] { return count_lines(glog, "start") == 1; }));
  auto b = client.submit(fault_tasks::plus_value, a, g);
  CHECK_FALSE(b.done());

  cluster.kill_worker(worker_index(cluster, holder));
  REQUIRE(eventually([&] { return workers_of(client) == 1; }));
  CHECK_FALSE(b.done());
  open_gate(gate);
  CHECK(b.result(20s) == 12);
  const std::vector<int> runs = pids_in(alog, "run");
  CHECK(runs.size() == 2);
  if (runs.size() == 2) CHECK(runs[1] != holder);
}

TEST_CASE("Faults.lost_input_needed_only_by_a_dependent_is_recomputed" * doctest::timeout(60)) {
  // As above, but the client let go of a: only b's lineage needs it.
  ScratchDir dir;
  const std::string alog = dir.file("a.log");
  const std::string glog = dir.file("g.log");
  const std::string gate = dir.file("gate");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};

  std::optional<cask::Future<std::vector<int>>> a = client.submit(fault_tasks::counted_value, alog, 7);
  REQUIRE(eventually([&] { return a->done(); }));
  const int holder = a->result()[0];
  auto g = client.submit(fault_tasks::gated, gate, glog, 5, 60000);
  REQUIRE(eventually([&] { return count_lines(glog, "start") == 1; }));
  auto b = client.submit(fault_tasks::plus_value, *a, g);
  a.reset();  // the client's last handle of a

  cluster.kill_worker(worker_index(cluster, holder));
  REQUIRE(eventually([&] { return workers_of(client) == 1; }));
  open_gate(gate);
  CHECK(b.result(20s) == 12);
  CHECK(count_lines(alog, "run") == 2);
}

TEST_CASE("Faults.task_killing_its_workers_fails_after_allowed_failures" * doctest::timeout(110)) {
  // LocalCluster's scheduler runs with allowed_failures = 3 (Dask's default): the task
  // fails with KilledWorker once 4 workers died under it. A fresh worker is added for
  // each one the task kills. Other work, whose results lived on the dying workers, keeps
  // its right values, and the cluster runs new work afterwards.
  ScratchDir dir;
  const std::string log = dir.file("kills.log");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  std::vector<int> xs(100);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<cask::Future<int>> others = client.map(fault_tasks::inc, xs);
  REQUIRE_NOTHROW((void)cask::wait(others, std::chrono::seconds(30), cask::ALL_COMPLETED));

  auto killer = client.submit(fault_tasks::kill_self, log);
  std::size_t seen = 0;
  // Each run of kill_self writes one line, then its worker dies: a fresh worker for each
  // (the next attempt can kill another one within a millisecond, before the loop looks).
  auto replace_the_dead = [&] {
    for (const std::size_t lines = count_lines(log); seen < lines; ++seen) cluster.add_worker();
  };
  const auto until = Clock::now() + 80s;
  while (!killer.done() && Clock::now() < until) {
    REQUIRE(eventually([&] { return killer.done() || count_lines(log) > seen; }, 30s));
    replace_the_dead();
  }
  replace_the_dead();
  REQUIRE(killer.done());
  CHECK(killer.status() == cask::Status::error);
  CHECK_THROWS_AS((void)killer.result(), cask::Error);
  const std::string why = error_message(killer);
  CHECK_MESSAGE(why.find("KilledWorker") != std::string::npos, why);
  CHECK(count_lines(log) == 4);  // 1 + allowed_failures workers died under it
  // kill_self never ran twice on one worker: every line names another pid.
  const auto lines = read_lines(log);
  CHECK(std::set<std::string>(lines.begin(), lines.end()).size() == lines.size());

  for (std::size_t i = 0; i < others.size(); ++i) CHECK(others[i].result(30s) == xs[i] + 1);
  REQUIRE(eventually([&] { return workers_of(client) >= 1; }, 20s));
  std::vector<cask::Future<int>> after = client.map(fault_tasks::inc, std::vector<int>{10, 20, 30});
  REQUIRE_NOTHROW((void)cask::wait(after, std::chrono::seconds(20), cask::ALL_COMPLETED));
  CHECK(client.gather(after) == std::vector<int>{11, 21, 31});
}

TEST_CASE("Faults.task_submitted_while_no_worker_is_alive_waits_for_one" * doctest::timeout(60)) {
  // Dask keeps such a task waiting ("no-worker") until a worker that can run it joins.
  cask::LocalCluster cluster{cluster_options(1, 1)};
  cask::Client client{cluster};
  REQUIRE(client.submit(fault_tasks::inc, 1).result(kPatience) == 2);
  cluster.kill_worker(0);
  REQUIRE(eventually([&] { return workers_of(client) == 0; }));

  auto f = client.submit(fault_tasks::inc, 2);
  cluster.add_worker();
  CHECK(f.result(20s) == 3);
}

TEST_CASE("Faults.control_task_with_two_future_arguments" * doctest::timeout(60)) {
  // No failure at all: the control for the cases above whose dependents take two futures.
  ScratchDir dir;
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  auto a = client.submit(fault_tasks::counted_value, dir.file("a.log"), 7);
  auto g = client.submit(fault_tasks::inc, 4);
  auto b = client.submit(fault_tasks::plus_value, a, g);
  CHECK(b.result(20s) == 12);
}

TEST_CASE("Faults.scheduler_killed_pending_results_get_comm_error" * doctest::timeout(60)) {
  ScratchDir dir;
  const std::string log = dir.file("g.log");
  const std::string gate = dir.file("gate");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  const int port = port_of(cluster.address());
  const std::vector<int> workers = cluster.worker_pids();
  {
    cask::Client client{cluster};
    REQUIRE(client.submit(fault_tasks::inc, 1).result(kPatience) == 2);
    auto pending = client.submit(fault_tasks::gated, gate, log, 1, 60000);
    REQUIRE(eventually([&] { return count_lines(log, "start") == 1; }));

    const auto t0 = Clock::now();
    cluster.kill_scheduler();
    // The pending result fails with CommError, within a few seconds (never a hang).
    CHECK_THROWS_AS((void)pending.result(5s), cask::CommError);
    CHECK(since(t0) < 5s);
    CHECK(pending.status() == cask::Status::error);
    // Further submissions fail at the call.
    CHECK_THROWS_AS((void)client.submit(fault_tasks::inc, 2), cask::CommError);
    CHECK_THROWS_AS((void)client.submit(fault_tasks::inc, 3), cask::CommError);
  }
  // The workers stay up and keep trying to reach a scheduler at the same address: listen
  // there and see each worker process connect.
  PortListener listener{port};
  std::set<int> reconnected;
  const auto until = Clock::now() + 20s;
  while (reconnected.size() < workers.size() && Clock::now() < until) {
    const auto peer_port = listener.accept_one(1s);
    if (!peer_port) continue;
    const auto inode = tcp_inode_of_connection(*peer_port, port);
    if (!inode) continue;
    for (int pid : workers) {
      const auto inodes = socket_inodes(pid);
      if (std::find(inodes.begin(), inodes.end(), *inode) != inodes.end()) reconnected.insert(pid);
    }
  }
  CHECK(reconnected.size() == workers.size());
  for (int pid : workers) CHECK_MESSAGE(process_running(pid), "worker " << pid << " exited");
  // The gated task on the worker was asked to stop when its worker lost the scheduler.
  CHECK(eventually([&] { return count_lines(log, "stopped") == 1; }));
}

TEST_CASE("Faults.worker_rejoins_a_scheduler_restarted_on_the_same_port" * doctest::timeout(90)) {
  ScratchDir dir;
  const int port = free_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const auto start_scheduler = [&](const std::string& port_file) {
    auto p = std::make_unique<ChildProcess>(
        CASK_TEST_SCHEDULER_EXECUTABLE,
        std::vector<std::string>{"--host", "127.0.0.1", "--port", std::to_string(port), "--port-file", port_file});
    REQUIRE_MESSAGE(eventually([&] { return count_lines(port_file) == 1 || !p->running(); }),
                    "the scheduler did not start listening");
    REQUIRE_MESSAGE(p->running(), "the scheduler exited (port " << port << " taken?)");
    return p;
  };

  auto scheduler = start_scheduler(dir.file("port1"));
  ChildProcess worker{CASK_TEST_WORKER_EXECUTABLE,
                      {address, "--nthreads", "1", "--name", "rejoiner", "--preload", CASK_TEST_TASKS_LIBRARY}};
  {
    cask::Client client{address};
    REQUIRE(eventually([&] { return workers_of(client) == 1; }, 20s));
    CHECK(client.submit(fault_tasks::worker_pid).result(kPatience) == worker.pid());
  }

  REQUIRE(scheduler->kill_now());
  scheduler = start_scheduler(dir.file("port2"));
  cask::Client client{address};
  CHECK_MESSAGE(eventually([&] { return workers_of(client) == 1; }, 20s), "the worker did not rejoin");
  CHECK(client.submit(fault_tasks::inc, 2).result(kPatience) == 3);
  CHECK(client.submit(fault_tasks::worker_pid).result(kPatience) == worker.pid());
  CHECK(worker.running());
}

TEST_CASE("Faults.fire_and_forget_completes_after_its_client_disconnects" * doctest::timeout(60)) {
  ScratchDir dir;
  const std::string log = dir.file("f.log");
  const std::string gate = dir.file("gate");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  {
    cask::Client client{cluster};
    auto f = client.submit(fault_tasks::gated, gate, log, 1, 60000);
    cask::fire_and_forget(f);
    REQUIRE(eventually([&] { return count_lines(log, "start") == 1; }));
  }  // the future, then the client, are gone: the task keeps running
  CHECK(count_lines(log, "stopped") == 0);
  open_gate(gate);
  CHECK(eventually([&] { return count_lines(log, "done") == 1; }));
  CHECK(count_lines(log, "stopped") == 0);

  cask::Client second{cluster};
  CHECK(second.submit(fault_tasks::inc, 41).result(kPatience) == 42);
}

TEST_CASE("Faults.fire_and_forget_not_yet_started_runs_after_its_client_disconnects" *
          doctest::timeout(60)) {
  // On a 1-worker, 1-thread cluster the forgotten task is still queued behind a gated one
  // when its client leaves; it runs once the slot frees up.
  ScratchDir dir;
  const std::string log = dir.file("f.log");
  const std::string blocker_log = dir.file("blocker.log");
  const std::string gate = dir.file("gate");
  const std::string gate2 = dir.file("gate2");
  cask::LocalCluster cluster{cluster_options(1, 1)};
  cask::Client keeper{cluster};  // holds the blocker
  auto blocker = keeper.submit(fault_tasks::gated, gate, blocker_log, 1, 60000);
  REQUIRE(eventually([&] { return count_lines(blocker_log, "start") == 1; }));
  {
    cask::Client client{cluster};
    auto f = client.submit(fault_tasks::gated, gate2, log, 2, 60000);
    cask::fire_and_forget(f);
    REQUIRE(eventually([&] { return client.stats().tasks() == 2; }));  // the scheduler has both
  }
  open_gate(gate2);
  open_gate(gate);
  CHECK(blocker.result(kPatience) == 1);
  CHECK(eventually([&] { return count_lines(log, "done") == 1; }));
}

TEST_CASE("Faults.client_fetch_a_lost_holder_never_answered_takes_the_recomputed_value" * doctest::timeout(60)) {
  // CAF may leave a request to a worker that died unanswered until its timeout (seen for a
  // holder reached through the scheduler's node). This worker answers no fetch at all (a
  // fault injected through its environment) and is then killed: the value, computed again
  // on the worker added meanwhile, must reach the client from there.
  ScratchDir dir;
  const std::string unanswered = dir.file("unanswered");
  ::setenv("CASK_TEST_UNANSWERED_FETCHES", unanswered.c_str(), 1);
  cask::LocalCluster cluster{cluster_options(1, 1)};
  ::unsetenv("CASK_TEST_UNANSWERED_FETCHES");
  cask::Client client{cluster};
  constexpr long long kSize = 1 << 20;  // above the push limit: the client fetches it
  auto v = client.submit(fault_tasks::big_value, kSize, "v", "", "");
  REQUIRE(eventually([&] { return count_lines(unanswered, "unanswered") >= 1; }));
  (void)cluster.add_worker();
  REQUIRE(eventually([&] { return workers_of(client) == 2; }));
  cluster.kill_worker(0);
  const std::string value = v.result(std::chrono::seconds(30));
  CHECK(value.size() == std::size_t(kSize));
  CHECK(value.find_first_not_of('x') == std::string::npos);
}

TEST_CASE("Faults.values_arrive_when_worker_pushes_are_lost" * doctest::timeout(60)) {
  // Under load, CAF lost a worker's direct messages to a client for a while (CI: a client
  // waited for ever for 78 values the scheduler knew were finished). These workers send no
  // push at all (a fault injected through their environment): every value must still
  // arrive, because the scheduler tells each client and the client fetches.
  ::setenv("CASK_TEST_DROP_PUSHES", "1", 1);
  cask::LocalCluster cluster{cluster_options(2, 1)};
  ::unsetenv("CASK_TEST_DROP_PUSHES");
  cask::Client client{cluster};
  CHECK(client.submit(fault_tasks::inc, 1).result(kPatience) == 2);
  std::vector<int> xs(200);
  std::iota(xs.begin(), xs.end(), 0);
  auto fs = client.map(fault_tasks::inc, xs);
  REQUIRE_NOTHROW((void)cask::wait(fs, kPatience));
  const std::vector<int> values = client.gather(fs);
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(values[i] == int(i) + 1);
}
