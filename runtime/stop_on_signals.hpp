// runtime/stop_on_signals.hpp: SIGINT/SIGTERM → StopFlag::request_stop() in the cluster
// executables (cask-scheduler, cask-worker), without async signal handlers.
//
//   int main(int argc, char** argv) {
//     cask::detail::block_stop_signals();  // first, before any thread starts
//     ...parse arguments...
//     return cask::detail::run_and_exit("scheduler", [&](const cask::detail::StopFlag& stop) {
//       return cask::detail::run_scheduler(config, stop);
//     });
//   }
//
// Every thread inherits the blocked mask, so the signals stay pending until the watcher's
// thread takes them with sigwait(). The first one requests the stop; a second one, while
// the node is still shutting down, ends the process at once (exit code 128 + signal).
// Lifetime: the destructor wakes the watcher thread and joins it.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include <pthread.h>

#include "runtime/cluster_node.hpp"
#include "runtime/log.hpp"

namespace cask::detail {

inline sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

/// Blocks SIGINT and SIGTERM in the calling thread and in every thread it starts later.
inline void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class StopOnSignals {
 public:
  explicit StopOnSignals(StopFlag& stop) : stop_(stop), thread_([this] { run(); }) {}
  ~StopOnSignals() {
    done_.store(true);
    pthread_kill(thread_.native_handle(), SIGTERM);  // blocked there: sigwait takes it
    thread_.join();
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  void run() {
    const sigset_t set = stop_signals();
    for (bool stopping = false;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (done_.load()) return;
      const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
      if (!stopping) {
        log::info("received " + name + ", shutting down");
        stop_.request_stop();
        stopping = true;
      } else {
        log::warn("received " + name + " while already shutting down: exiting now");
        std::_Exit(128 + sig);
      }
    }
  }

  StopFlag& stop_;
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: starts once the members above exist
};

/// The end of main() in cask-scheduler and cask-worker: logs as `role`, calls `run(stop)`
/// (SIGINT/SIGTERM request the stop) and leaves with the code it returns. An exception is
/// logged and gives exit code 1.
template <class Run>
int run_and_exit(const std::string& role, Run run) {
  log::set_role(role);
  StopFlag stop;
  StopOnSignals watcher{stop};
  try {
    const int code = run(stop);
    // The process's actor system is never destroyed (runtime/cluster_node.hpp): leave
    // without running static destructors under its threads.
    log::flush();
    std::fflush(nullptr);
    std::_Exit(code);
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

}  // namespace cask::detail
