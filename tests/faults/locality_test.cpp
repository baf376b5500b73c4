// Data locality in cluster mode (DESIGN §2 "Data stays where it was made"): a result stays
// on the worker that computed it, a dependent on another worker fetches it from that
// worker directly, the scheduler never relays result bytes, and placement follows the
// input bytes. The scheduler's traffic is read from /proc: rchar of /proc/<pid>/io (as
// asked; it does not count recv(2)) and the bytes its TCP sockets received (tcp_info).
#include <algorithm>
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

constexpr std::uint64_t kSchedulerBudget = 1 << 20;  // what the scheduler may receive meanwhile
#ifdef __SANITIZE_ADDRESS__
// Under AddressSanitizer every copy and MessagePack decode of a value is several times
// slower and the suite runs in parallel: 16 MB per value, still more than ten times the
// scheduler's budget, so a relayed value would still be caught.
constexpr long long kBig = 16'000'000;
#else
constexpr long long kBig = 100'000'000;  // 100 MB per value
#endif
static_assert(kBig >= 10 * static_cast<long long>(kSchedulerBudget));

std::string mb(std::uint64_t bytes) { return std::to_string(bytes / 1e6) + " MB"; }

}  // namespace

TEST_CASE("Locality.big_values_move_between_workers_not_through_the_scheduler" * doctest::timeout(110)) {
  ScratchDir dir;
  const std::string log = dir.file("big.log");
  const std::string gate = dir.file("gate");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  const int scheduler = cluster.scheduler_pid();

  // Both producers run at once (gated), so on 2 workers x 1 thread they run on different
  // workers: each value lives on its own worker.
  auto a = client.submit(fault_tasks::big_value, kBig, std::string("a"), gate, log);
  auto b = client.submit(fault_tasks::big_value, kBig, std::string("b"), gate, log);
  REQUIRE(eventually([&] { return count_lines(log, "start") == 2; }));
  const std::vector<int> producers = pids_in(log, "start");
  REQUIRE(producers.size() == 2);
  REQUIRE(producers[0] != producers[1]);

  const auto rchar0 = proc_io(scheduler, "rchar");
  const auto rx0 = tcp_bytes_received(scheduler);
  const auto w0_rx0 = tcp_bytes_received(producers[0]);
  const auto w1_rx0 = tcp_bytes_received(producers[1]);
  REQUIRE(rchar0);

  open_gate(gate);
  auto total = client.submit(fault_tasks::total_size, a, b);
  const std::vector<long long> r = total.result(60s);
  REQUIRE(r.size() == 2);
  CHECK(r[0] == 2 * kBig);
  const int consumer = static_cast<int>(r[1]);
  CHECK(std::find(producers.begin(), producers.end(), consumer) != producers.end());

  const auto rchar1 = proc_io(scheduler, "rchar");
  REQUIRE(rchar1);
  MESSAGE("scheduler rchar grew by " << (*rchar1 - *rchar0) << " bytes");
  CHECK(*rchar1 - *rchar0 < kSchedulerBudget);

  // rchar does not count recv(2), which is how CAF reads its sockets: look at the bytes
  // the scheduler's and the workers' TCP sockets received as well.
  const auto rx1 = tcp_bytes_received(scheduler);
  const auto w0_rx1 = tcp_bytes_received(producers[0]);
  const auto w1_rx1 = tcp_bytes_received(producers[1]);
  if (rx0 && rx1 && w0_rx0 && w0_rx1 && w1_rx0 && w1_rx1) {
    const std::uint64_t scheduler_rx = *rx1 - *rx0;
    const std::uint64_t w0_rx = *w0_rx1 - *w0_rx0;
    const std::uint64_t w1_rx = *w1_rx1 - *w1_rx0;
    MESSAGE("TCP bytes received: scheduler " << mb(scheduler_rx) << ", worker " << producers[0] << " "
                                             << mb(w0_rx) << ", worker " << producers[1] << " " << mb(w1_rx)
                                             << " (consumer " << consumer << ")");
    CHECK(scheduler_rx < kSchedulerBudget);
    // At least one big value crossed from worker to worker: the consumer received it.
    CHECK((consumer == producers[0] ? w0_rx : w1_rx) >= static_cast<std::uint64_t>(kBig));
  } else {
    FAIL_CHECK("cannot read the TCP byte counters of the cluster's processes (pidfd_getfd)");
  }
}

TEST_CASE("Locality.dependent_of_a_big_value_runs_where_the_value_is" * doctest::timeout(90)) {
  ScratchDir dir;
  const std::string log = dir.file("big.log");
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  const int scheduler = cluster.scheduler_pid();

  for (const std::string tag : {"first", "second"}) {
    CAPTURE(tag);
    auto big = client.submit(fault_tasks::big_value, kBig, tag, std::string(), log);
    REQUIRE(eventually([&] { return big.done(); }, 30s));
    REQUIRE(big.status() == cask::Status::finished);
    const std::vector<int> started = pids_in(log, "start");
    REQUIRE(!started.empty());
    const int producer = started.back();

    const auto rx0 = tcp_bytes_received(scheduler);
    auto dependent = client.submit(fault_tasks::size_and_pid, big);
    const std::vector<long long> r = dependent.result(30s);
    REQUIRE(r.size() == 2);
    CHECK(r[0] == kBig);
    CHECK(r[1] == producer);  // placed on the worker holding its big input
    const auto rx1 = tcp_bytes_received(scheduler);
    if (rx0 && rx1) CHECK(*rx1 - *rx0 < kSchedulerBudget);
  }
}

TEST_CASE("Locality.client_fetches_a_big_result_from_its_worker_not_through_the_scheduler" *
          doctest::timeout(90)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  const int scheduler = cluster.scheduler_pid();
  REQUIRE(client.submit(fault_tasks::inc, 1).result(kPatience) == 2);  // connections are up

  const auto rx0 = tcp_bytes_received(scheduler);
  const auto mine0 = tcp_bytes_received(getpid());
  auto big = client.submit(fault_tasks::big_value, kBig, std::string("to-client"), std::string(), std::string());
  const std::string value = big.result(60s);
  CHECK(value.size() == static_cast<std::size_t>(kBig));
  const auto rx1 = tcp_bytes_received(scheduler);
  const auto mine1 = tcp_bytes_received(getpid());
  REQUIRE_MESSAGE((rx0 && rx1 && mine0 && mine1), "cannot read TCP byte counters (pidfd_getfd)");
  MESSAGE("TCP bytes received: scheduler " << mb(*rx1 - *rx0) << ", client " << mb(*mine1 - *mine0));
  CHECK(*mine1 - *mine0 >= static_cast<std::uint64_t>(kBig));  // the value came here...
  CHECK(*rx1 - *rx0 < kSchedulerBudget);                        // ...not through the scheduler
}
