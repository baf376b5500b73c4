// tests/cluster/actor_test_util.hpp: what the cluster-mode actor cases share: a LocalCluster
// with a gate for Counter::hold that is opened at scope exit, killing an actor's host, and
// the message of an expected exception.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "cluster_util.hpp"

namespace cask_cluster_test {

/// Opens gates at scope exit, so that a failed REQUIRE never leaves a call polling.
struct OpenOnExit {
  std::vector<std::string> gates;
  ~OpenOnExit() {
    for (const auto& g : gates) open_gate(g);
  }
};

/// A LocalCluster of two workers, a client of it, and a gate for Counter::hold, opened
/// first at scope exit (so that no held call keeps a stopping worker waiting).
struct GatedCluster {
  ScratchDir dir;
  const std::string gate = dir.file("hold.gate"), log = dir.file("hold.log");
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  OpenOnExit guard{{gate}};
};

/// Kills the worker process `pid` (an actor's host: Counter::pid) with SIGKILL.
inline void kill_worker_with_pid(cask::LocalCluster& cluster, int pid) {
  const auto pids = cluster.worker_pids();
  const auto index = std::size_t(std::find(pids.begin(), pids.end(), pid) - pids.begin());
  REQUIRE_MESSAGE(index < pids.size(), "pid " << pid << " is not one of the cluster's workers");
  cluster.kill_worker(index);
}

/// The message of the E that f throws, or "(no exception)".
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace cask_cluster_test
