// Cluster mode, work stealing: a run the scheduler prefetched to a worker whose only slot
// then stays busy moves to a worker that goes idle, instead of waiting behind the busy
// slot (here for a task that waits until it has run).
#include <string>
#include <vector>

#include "cluster_util.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;

TEST_CASE("Cluster.queued_run_moves_to_idle_worker" * doctest::timeout(90)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  ScratchDir dir;
  const std::string gate_b = dir.file("b"), gate_a = dir.file("a");
  const std::string log_b = dir.file("b.log"), log_a = dir.file("a.log");

  // Short runs on both workers: the scheduler learns they are quick and prefetches.
  std::vector<int> xs(200);
  for (int i = 0; i < 200; ++i) xs[std::size_t(i)] = i;
  REQUIRE(client.gather(client.map(inc, xs)).size() == 200);

  // Worker B's slot: blocked until the test opens gate b.
  auto blocker_b = client.submit(cask::options{.pure = false}, gated, gate_b, log_b, 2, 60000);
  REQUIRE(wait_for_line(log_b, "start"));
  // A quick task takes worker A's free slot; when it reports, A has just answered, so the
  // scheduler places the gated task on A and prefetches `quick` behind it (B is busy).
  auto first = client.submit(cask::options{.pure = false}, worker_pid);
  auto blocker_a = client.submit(cask::options{.pure = false}, gated, gate_a, log_a, 1, 60000);
  auto quick = client.submit(cask::options{.pure = false}, worker_pid);
  const int pid_a = first.result(kPatience);
  REQUIRE(wait_for_line(log_a, "start"));

  // B goes idle; A's slot stays blocked until `quick` has run.
  open_gate(gate_b);
  CHECK(blocker_b.result(kPatience) == 2);
  int quick_pid = 0;
  try {
    quick_pid = quick.result(kPatience);
  } catch (const cask::TimeoutError&) {
    FAIL_CHECK("the quick task stayed queued behind worker A's blocked slot");
  }
  open_gate(gate_a);
  CHECK(quick_pid != 0);
  CHECK(quick_pid != pid_a);  // it ran on the other worker
  CHECK(blocker_a.result(kPatience) == 1);
  CHECK(count_lines(log_a, "start") == 1);  // the gated task ran once, on A
}
