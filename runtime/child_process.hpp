// runtime/child_process.hpp: a child process started with posix_spawn and collected with
// waitpid, never blocking: every wait polls up to a deadline. Used by cask::LocalCluster
// and by the tests that start cask-scheduler / cask-worker by hand. No CAF in here.
//
// Thread-safety: none; the owner serialises calls (LocalCluster holds its mutex).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace cask::detail {

/// A child process; `reaped` once waitpid has collected it (its pid may then be reused,
/// so it is never signalled again).
struct ChildProcess {
  using Clock = std::chrono::steady_clock;

  std::string what;  // for messages: "cask-scheduler", "worker local-0"
  pid_t pid = -1;
  bool reaped = true;  // until started
  int status = 0;      // waitpid's status once reaped

  /// Starts `path` with `args`, sharing this process's stdout and stderr. The child starts
  /// with no signal blocked and SIGINT/SIGTERM at their default action, whatever this
  /// process does with them. cask::Error when it cannot be started.
  void start(std::string what, const std::string& path, const std::vector<std::string>& args);

  /// True once the process has exited (collected now or before).
  bool try_reap();
  /// Polls try_reap until `deadline`; true once the process has exited.
  bool reap_until(Clock::time_point deadline);
  /// Sends `signal` unless the process was reaped already.
  void send(int signal) const;
  /// Sends `signal`; with SIGKILL also waits (up to `patience`) until the process is gone.
  void kill(int signal, std::chrono::milliseconds patience);
  /// SIGTERM, up to `patience` to exit, then SIGKILL and up to `patience` again.
  void stop(std::chrono::milliseconds patience);

  /// "exited with code 3", "was killed by signal 9 (KILL)".
  std::string describe_exit() const;
};

}  // namespace cask::detail
