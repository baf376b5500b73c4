// tests/both/core_support.hpp: helpers of the two-mode lifecycle, future, wait and
// as_completed cases.
#pragma once

#include "harness.hpp"

namespace core_support {

/// A second client of the case's mode (embedded: its own cluster of 1 worker x 1 slot;
/// cluster: another client of the shared LocalCluster), for cases that destroy a client.
inline cask::Client second_client(const cask_both::Env& env) {
  if (env.cluster()) return cask::Client{cask::ClientOptions{.address = cask_both::shared_cluster_address()}};
  return cask::Client{cask::ClientOptions{.workers = 1, .threads_per_worker = 1}};
}

}  // namespace core_support
