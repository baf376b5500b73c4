// cask/local_cluster.hpp: LocalCluster, a scheduler and worker processes on loopback
// (Dask: distributed.LocalCluster(processes=True)).
//
//   cask::LocalCluster cluster{{.workers = 2, .preload = {"./libtasks.so"}}};
//   cask::Client client{cluster};                  // or Client{cluster.address()}
//   auto f = client.submit(slow, 1);               // slow: a CASK_REMOTE function
//   cluster.kill_worker(0);                        // failure tests: SIGKILL one worker
//
// The constructor starts `cask-scheduler --port 0` and the workers (`cask-worker
// 127.0.0.1:PORT --name local-<i>`) as child processes that write to this process's
// stdout and stderr, and returns once every worker has joined the scheduler. The
// executables are looked for in $CASK_BIN_DIR if it is set, else in the build directory
// of cask, else on PATH. It throws cask::Error (after stopping what it started) when an
// executable is not found, a process exits early, or the workers do not join within
// start_timeout.
// Lifetime: the destructor sends SIGTERM to the workers, then to the scheduler, waits up
// to 5 s for each to exit, sends SIGKILL to those still running and reaps every child.
// Clients of the cluster should be destroyed first.
// Thread-safety: all members may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace cask {

struct LocalClusterOptions {
  /// Worker processes started by the constructor (0: only the scheduler).
  int workers = 2;
  /// Execution slots (threads) per worker: `cask-worker --nthreads`.
  int threads_per_worker = 1;
  /// Shared libraries each worker loads before joining: `cask-worker --preload`.
  std::vector<std::string> preload;
  /// Bound on starting the scheduler and having every worker join it.
  std::chrono::milliseconds start_timeout{20000};
};

class LocalCluster {
 public:
  LocalCluster();
  explicit LocalCluster(LocalClusterOptions opts);
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  /// "127.0.0.1:PORT" of the scheduler.
  std::string address() const;
  /// Process ids of the workers in start order (killed ones included: indices stay).
  std::vector<int> worker_pids() const;
  int scheduler_pid() const;

  /// Sends `signal` to worker i (std::out_of_range if there is none). With SIGKILL it
  /// returns once the process is gone (its connections are closed); other signals are
  /// only sent. A worker that has already been reaped is left alone.
  void kill_worker(std::size_t i, int signal = SIGKILL);
  /// The same for the scheduler.
  void kill_scheduler(int signal = SIGKILL);
  /// Starts one more worker (named local-<index>) and returns its pid at once, without
  /// waiting for it to join: poll Client::stats().workers for that.
  int add_worker();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cask
