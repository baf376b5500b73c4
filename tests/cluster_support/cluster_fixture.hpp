// tests/cluster_support/cluster_fixture.hpp: what cluster-mode tests share.
//
// Each case starts its own LocalCluster (a cask-scheduler and worker processes on
// 127.0.0.1) whose workers preload the test's task library, so a case never sees another
// case's state. Tasks run in other processes: they are gated on files the test creates
// (FileGate), never on sleeps that hope.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>

#include <cask/cask.hpp>

namespace cask_cluster_test {

using namespace std::chrono_literals;

/// How long a test waits for something that should happen promptly before failing.
inline constexpr auto kPatience = std::chrono::seconds(10);

/// A fresh, empty directory for one case, removed at the end. Tasks on the workers see
/// the same file system: they write markers and wait for gates in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cask-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Creates `path` (a gate a task waits on, see tasks' wait_for_file).
inline void open_gate(const std::string& path) { std::ofstream(path) << "open\n"; }

/// Bounded poll of an observable condition (a file, client.stats()): true once it holds.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds patience = kPatience) {
  const auto until = std::chrono::steady_clock::now() + patience;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

/// The task library the workers preload (its path is compiled in by CMake).
inline cask::LocalClusterOptions cluster_options(int workers = 2, int threads = 1) {
  cask::LocalClusterOptions opts;
  opts.workers = workers;
  opts.threads_per_worker = threads;
  opts.preload = {CASK_TEST_TASKS_LIBRARY};
  return opts;
}

}  // namespace cask_cluster_test
