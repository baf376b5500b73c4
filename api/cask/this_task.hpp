// cask/this_task.hpp: what a running task can ask about itself.
//
// Cancellation of a running task is cooperative: cancel() (or dropping the last handle)
// requests a stop, and the task notices it here and returns early; its result is dropped.
//
//   int slow(int x) {
//     if (!cask::this_task::sleep_for(3s * x)) return -1;   // cancelled: stop early
//     return 3 * x;
//   }
//
// Outside a task every function behaves as for a task that is never cancelled.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>

namespace cask::this_task {

/// The running task's stop token (a never-stopping token outside a task).
std::stop_token stop_token() noexcept;

/// True once the running task was cancelled.
inline bool stop_requested() noexcept { return stop_token().stop_requested(); }

/// Sleeps like std::this_thread::sleep_for, but wakes as soon as the task is cancelled.
/// Returns true when the full time elapsed, false when woken by cancellation.
bool sleep_for(std::chrono::nanoseconds duration);

/// The key of the running task; empty outside a task.
const char* key() noexcept;

/// The running task's deadline (options::deadline, or inherited from the task that
/// submitted it); unset outside a task or when it has none.
std::optional<std::chrono::steady_clock::time_point> deadline() noexcept;

}  // namespace cask::this_task
