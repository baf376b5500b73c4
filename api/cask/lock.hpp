// cask/lock.hpp: Lock, a named cluster-wide mutual exclusion (Dask: distributed.Lock).
//
//   cask::Lock lock{"results.csv"};
//   {
//     std::lock_guard guard{lock};           // acquire() ... release()
//     append_row(file);
//   }
//   if (lock.acquire(100ms)) { ...; lock.release(); }
//
// A lock is held by a handle: copies of a Lock share one identity, separately constructed
// Locks of the same name exclude each other. It is not recursive. It comes back by itself
// when the last copy of the handle holding it is destroyed, and when a task that acquired
// it fails (throws or is cancelled), so a dead holder never blocks the others. A task
// waiting in acquire() gives its worker slot back meanwhile.
// Thread-safety: any member from any thread; Lockable and TimedLockable for the standard
// guards (std::lock_guard, std::unique_lock, std::scoped_lock).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cask/detail/coordination.hpp"

namespace cask {

class Lock {
 public:
  /// The lock `name` of the current client (inside a task: its cluster).
  explicit Lock(std::string name);
  Lock(std::string name, Client& client);

  /// Blocks until this handle holds the lock.
  void acquire() const { ref_->call(detail::CoordOp::acquire); }
  /// As acquire(); false when the lock was not free within `timeout`.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) const {
    return ref_->call(detail::CoordOp::acquire, nullptr, 0,
                      std::chrono::duration_cast<std::chrono::nanoseconds>(timeout)).flag;
  }
  /// Throws cask::Error when this handle does not hold the lock.
  void release() const { ref_->call(detail::CoordOp::release); }
  /// Whether anyone holds it now.
  bool locked() const { return ref_->call(detail::CoordOp::held).flag; }
  const std::string& name() const noexcept { return ref_->name(); }

  // Lockable / TimedLockable, for the standard lock guards.
  void lock() const { acquire(); }
  void unlock() const { release(); }
  bool try_lock() const { return acquire(std::chrono::nanoseconds::zero()); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> d) const { return acquire(d); }
  template <class Clock, class Duration>
  bool try_lock_until(std::chrono::time_point<Clock, Duration> t) const { return acquire(t - Clock::now()); }

 private:
  std::shared_ptr<detail::CoordRef> ref_;
};

}  // namespace cask
