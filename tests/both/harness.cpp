// tests/both/harness.cpp: the two clients a BOTH_CASE body runs against.
#include "harness.hpp"

#include <memory>
#include <mutex>

namespace cask_both {

namespace {

// One LocalCluster per test process: started by the first cluster case, stopped at exit.
// Run under CTest, every case is its own process and so starts its own; run as one binary,
// the cases share it (each with a fresh Client, so no case sees another's futures).
cask::LocalCluster& shared_cluster() {
  static cask::LocalCluster cluster{[] {
    cask::LocalClusterOptions opts = cask_cluster_test::cluster_options(2, 1);
    opts.preload.push_back(CASK_BOTH_TASKS_LIBRARY);
    return opts;
  }()};
  return cluster;
}

}  // namespace

std::string shared_cluster_address() { return shared_cluster().address(); }

void run_embedded(Body body) {
  cask::Client client{cask::ClientOptions{.workers = 2, .threads_per_worker = 1}};
  Env env{Mode::embedded, client, {}};
  body(env);
}

void run_cluster(Body body) {
  cask::Client client{cask::ClientOptions{.address = shared_cluster_address()}};
  Env env{Mode::cluster, client, {}};
  body(env);
}

}  // namespace cask_both
