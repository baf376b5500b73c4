// bench/cluster_tasks.hpp: the CASK_REMOTE functions of cask_cluster_bench.
//
// cluster_tasks.cpp is compiled twice: into cask_cluster_bench (so that submit finds each
// function's registration by address) and into the MODULE library
// cask_cluster_bench_tasks, which the workers of the benchmark's LocalCluster preload (so
// that they run the functions by name). bench/dask_cluster_bench.py has the same functions
// in Python.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cask_cluster_bench {

/// The trivial task: x + 1.
int inc(int x);
/// The tree reduction's pairwise step.
int add(int a, int b);
/// The worker's process id (placement checks).
int worker_pid();

/// A value of `bytes` bytes made on the worker that runs it; it begins with "<pid>;" (the
/// producer's process id), the rest is filler. `tag` only makes the call distinct.
std::string make_blob(int bytes, int tag);

/// The consumer of the transfer case: {its own pid, pid of a's producer, pid of b's
/// producer, a.size(), b.size(), CLOCK_MONOTONIC ns at the first statement of its body
/// (after its arguments were fetched and decoded)}.
std::vector<std::int64_t> consume_blobs(std::string a, std::string b);

/// The actor of the actor cases (CASK_ACTOR): a counter, like the Python one.
struct BenchCounter {
  long n = 0;
  long inc(long k) { return n += k; }
};

}  // namespace cask_cluster_bench
