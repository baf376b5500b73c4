// cask/options.hpp: knobs for a Client and for one submit/map call.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace cask {

/// How the embedded cluster of `cask::Client client{opts};` is built
/// (Dask: Client(n_workers=, threads_per_worker=)).
struct ClientOptions {
  /// Number of worker actors; 0 means one per hardware thread.
  int workers = 0;
  /// Execution slots (OS threads) per worker.
  int threads_per_worker = 1;
  /// "host:port" of a running cask-scheduler: connect to it instead of starting an
  /// embedded cluster (workers and threads_per_worker are then unused).
  std::string address;
  /// How long connecting to `address` may take before CommError.
  std::chrono::milliseconds connect_timeout{10000};
};

/// Per-call options of submit/map (Dask: key=, pure=, priority=, retries=).
///   client.submit(cask::options{.priority = 10, .retries = 2}, f, x);
struct options {
  /// Explicit key. Submitting the same key again shares the first computation.
  /// With map, each element's key is `key + "-" + index`.
  std::string key;
  /// Same function + same arguments => same key => one computation. Unset means
  /// "pure when the callable and every argument can be hashed".
  std::optional<bool> pure;
  /// Higher runs first among queued tasks; ties run in submission order.
  int priority = 0;
  /// How many times a task that throws is run again before its future errs.
  int retries = 0;
  /// Work that has not started by then is cancelled. Unset inside a task: the task's own
  /// deadline is inherited (see cask::this_task::deadline()).
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

}  // namespace cask
