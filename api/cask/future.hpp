// cask/future.hpp: Future<T>, the handle to a task's eventual value (Dask: Future).
//
//   cask::Future<int> f = client.submit(slow, 1);   // already running
//   int v = f.result();                              // blocks; rethrows the task's exception
//   if (!f.done()) f.cancel();
//
// Lifetime: copies share one reference to the task. When the last copy anywhere is
// destroyed, the cluster releases the result and cancels the task if it has not finished,
// unless fire_and_forget() was called on it.
// Thread-safety: a Future may be copied, read and waited on from any thread.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "cask/detail/future_core.hpp"
#include "cask/detail/hashing.hpp"
#include "cask/errors.hpp"
#include "cask/status.hpp"

namespace cask {

template <class T>
class [[nodiscard]] Future {
 public:
  using value_type = T;

  /// An empty handle; valid() is false.
  Future() = default;
  explicit Future(detail::CorePtr core) : core_(std::move(core)) {}

  bool valid() const noexcept { return core_ != nullptr; }
  const std::string& key() const { return core_->key(); }
  Status status() const noexcept { return core_->status(); }
  /// True once finished, erred or cancelled.
  bool done() const noexcept { return core_->done(); }

  /// Blocks until done; returns the value or rethrows the task's exception (same type),
  /// or throws CancelledError. Inside a task, the worker slot is handed back meanwhile.
  T result() const {
    core_->get();
    if constexpr (!std::is_void_v<T>) return *static_cast<const T*>(core_->value().get());
  }

  /// As result(), but throws TimeoutError when not done within `timeout`. The task keeps
  /// running and a later result() still returns its value.
  template <class Rep, class Period>
  T result(std::chrono::duration<Rep, Period> timeout) const {
    if (!core_->wait_for(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout)))
      throw TimeoutError("cask::TimeoutError: result of " + key() + " not ready in time");
    return result();
  }

  /// As result(timeout), bounded by a point in time.
  template <class Clock, class Duration>
  T result_until(std::chrono::time_point<Clock, Duration> deadline) const {
    return result(deadline - Clock::now());
  }

  /// The task's exception once it erred (CancelledError once cancelled); null otherwise.
  /// Does not block.
  std::exception_ptr exception() const { return core_->exception(); }

  /// Cancels the task: when cancel() returns this handle is cancelled, and every other
  /// handle to it becomes cancelled too; queued work never starts, running work is asked
  /// to stop (this_task::stop_token) and its result is dropped. Once the task has
  /// finished or erred, nothing changes. Synchronous, like Dask's.
  void cancel() const { core_->cancel(); }

  /// Calls fn(*this) once the future finishes, errs or is cancelled, on the client's
  /// callback thread.
  void add_done_callback(std::function<void(const Future&)> fn) const {
    core_->add_callback([f = *this, fn = std::move(fn)] { fn(f); });
  }

  const detail::CorePtr& core() const noexcept { return core_; }

  friend bool operator==(const Future& a, const Future& b) { return a.core_ == b.core_; }

  /// "Future: slow status: finished, type: int, key: slow-3a1f..."
  friend std::ostream& operator<<(std::ostream& os, const Future& f) {
    if (!f.core_) return os << "Future: <empty>";
    return os << "Future: " << f.core_->name() << " status: " << f.status()
              << ", type: " << detail::type_name(f.core_->type()) << ", key: " << f.key();
  }

 private:
  detail::CorePtr core_;
};

namespace detail {
/// Marks keys as wanted until they finish, even with no handle left (runtime).
void fire_and_forget(const std::vector<CorePtr>& cores);
}  // namespace detail

/// The task runs to completion even when every handle is gone.
template <class T>
void fire_and_forget(const Future<T>& f) {
  detail::fire_and_forget({f.core()});
}

template <class T>
void fire_and_forget(const std::vector<Future<T>>& fs) {
  std::vector<detail::CorePtr> cores;
  cores.reserve(fs.size());
  for (const auto& f : fs) cores.push_back(f.core());
  detail::fire_and_forget(cores);
}

}  // namespace cask
