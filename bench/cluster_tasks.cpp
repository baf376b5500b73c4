// bench/cluster_tasks.cpp: the task functions of cask_cluster_bench (see
// cluster_tasks.hpp), each registered with CASK_REMOTE. Built into the benchmark and into
// the module cask_cluster_bench_tasks that its workers preload.
#include "cluster_tasks.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <cask/cask.hpp>

namespace cask_cluster_bench {

int inc(int x) { return x + 1; }

int add(int a, int b) { return a + b; }

int worker_pid() { return static_cast<int>(getpid()); }

std::string make_blob(int bytes, int tag) {
  std::string out(static_cast<std::size_t>(bytes > 0 ? bytes : 0), 'x');
  char head[32];
  const int n = std::snprintf(head, sizeof head, "%d;%d;", static_cast<int>(getpid()), tag);
  std::memcpy(out.data(), head, std::min<std::size_t>(out.size(), static_cast<std::size_t>(n)));
  return out;
}

namespace {
std::int64_t producer_pid(const std::string& blob) {
  return blob.empty() ? 0 : std::strtoll(blob.c_str(), nullptr, 10);
}
}  // namespace

std::vector<std::int64_t> consume_blobs(std::string a, std::string b) {
  // steady_clock is CLOCK_MONOTONIC on Linux: comparable with the client's stamps.
  const auto start = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  return {static_cast<std::int64_t>(getpid()), producer_pid(a), producer_pid(b),
          static_cast<std::int64_t>(a.size()), static_cast<std::int64_t>(b.size()),
          static_cast<std::int64_t>(start)};
}

CASK_REMOTE(inc);
CASK_REMOTE(add);
CASK_REMOTE(worker_pid);
CASK_REMOTE(make_blob);
CASK_REMOTE(consume_blobs);
CASK_ACTOR(BenchCounter, inc);

}  // namespace cask_cluster_bench
