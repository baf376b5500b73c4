// cask/wait.hpp: block until some or all futures are done (Dask: distributed.wait).
//
//   auto [done, not_done] = cask::wait(fs, 1s, cask::FIRST_COMPLETED);  // TimeoutError if none
//   for (auto& f : done) std::cout << f.result() << "\n";
//   for (auto& f : not_done) f.cancel();
//
// Waiting is done by a waiter actor subscribed to the futures, with its deadline as a
// delayed message: no thread polls. Futures left in not_done keep running. Inside a task
// the task's slot is handed back while it waits, and cancelling the task ends the wait
// with CancelledError.
// Thread-safety: may be called from any thread, concurrently.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "cask/errors.hpp"
#include "cask/future.hpp"

namespace cask {

enum class ReturnWhen { all_completed, first_completed, first_exception };
/// Every future finished, erred or was cancelled.
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::all_completed;
/// At least one future is done.
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::first_completed;
/// One future erred, or all are done.
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::first_exception;

/// The futures that were done when wait returned, and the others, each in input order.
template <class T>
struct WaitResult {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

namespace detail {
/// True when the condition held before `timeout` (unset: no bound) ran out (runtime).
bool wait_cores(const std::vector<CorePtr>& cores, ReturnWhen when,
                std::optional<std::chrono::nanoseconds> timeout);

template <class T>
WaitResult<T> wait_impl(const std::vector<Future<T>>& fs, ReturnWhen when,
                        std::optional<std::chrono::nanoseconds> timeout) {
  std::vector<CorePtr> cores;
  cores.reserve(fs.size());
  for (const auto& f : fs) cores.push_back(f.core());
  if (!wait_cores(cores, when, timeout))
    throw TimeoutError("cask::TimeoutError: wait condition not met in time");
  WaitResult<T> out;
  for (const auto& f : fs) (f.done() ? out.done : out.not_done).push_back(f);
  return out;
}
}  // namespace detail

/// Waits as long as needed.
template <class T>
WaitResult<T> wait(const std::vector<Future<T>>& fs, ReturnWhen when = ALL_COMPLETED) {
  return detail::wait_impl(fs, when, std::nullopt);
}

/// Throws TimeoutError when the condition does not hold within `timeout` (a zero or
/// negative timeout only checks).
template <class T, class Rep, class Period>
WaitResult<T> wait(const std::vector<Future<T>>& fs, std::chrono::duration<Rep, Period> timeout,
                   ReturnWhen when = ALL_COMPLETED) {
  return detail::wait_impl(fs, when, std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
}

/// As wait with a timeout, bounded by a point in time instead.
template <class T, class Clock, class Duration>
WaitResult<T> wait_until(const std::vector<Future<T>>& fs,
                         std::chrono::time_point<Clock, Duration> deadline,
                         ReturnWhen when = ALL_COMPLETED) {
  return wait(fs, deadline - Clock::now(), when);
}

}  // namespace cask
