// tests/both/coord_util.hpp: helpers of the two-mode coordination cases (objects, lock,
// semaphore, event, variable, pubsub): a client thread blocked in a coordination call, the
// live coordination object count, names unique to a case, and a second client of the
// case's mode.
#pragma once

#include <future>
#include <string>
#include <utility>

#include "harness.hpp"

namespace cask_both {

/// Runs `call` on a thread of its own; the returned std::future is waited on with bounded
/// wait_for, and its destructor joins the thread.
template <class F>
auto in_background(F call) {
  return std::async(std::launch::async, std::move(call));
}

/// Coordination objects alive in the mode's cluster (the scheduler's on a cluster). A
/// shared LocalCluster serves other cases too: compare with a count taken before.
inline std::size_t objects(const cask::Client& client) { return client.stats().coordination_objects; }

/// `base` made unique to the running case: cluster-mode cases run as one binary share a
/// LocalCluster, where a set Event or Variable outlives the case that set it.
inline std::string named(const Env& env, const std::string& base) { return base + "@" + env.file(""); }

/// A second client of the case's mode, owned by the case: an embedded cluster of its own,
/// or another client of the shared LocalCluster.
inline cask::Client second_client(const Env& env) {
  if (env.cluster()) return cask::Client{cask::ClientOptions{.address = shared_cluster_address()}};
  return cask::Client{cask::ClientOptions{.workers = 1, .threads_per_worker = 1}};
}

}  // namespace cask_both
