// cask/semaphore.hpp: Semaphore, a named cluster-wide limit on concurrent holders
// (Dask: distributed.Semaphore).
//
//   cask::Semaphore db{"database", 2};       // at most two leases at a time
//   db.acquire(); query(); db.release();
//   if (db.acquire(1s)) { ...; db.release(); }
//
// Leases belong to the handle that took them (copies share one identity); a handle may
// hold several. Leases of a dead holder come back: when the last copy of the handle is
// destroyed, and when a task that took them fails. Opening a name that exists with a
// different maximum throws cask::Error.
// Thread-safety: any member from any thread; Lockable for std::lock_guard.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "cask/detail/coordination.hpp"

namespace cask {

class Semaphore {
 public:
  /// The semaphore `name` with `max_leases` (>= 1) of the current client.
  Semaphore(std::string name, std::size_t max_leases);
  Semaphore(std::string name, std::size_t max_leases, Client& client);

  void acquire() const { ref_->call(detail::CoordOp::acquire); }
  /// False when no lease came free within `timeout`.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) const {
    return ref_->call(detail::CoordOp::acquire, nullptr, 0,
                      std::chrono::duration_cast<std::chrono::nanoseconds>(timeout)).flag;
  }
  /// Gives one lease back; throws cask::Error when this handle holds none.
  void release() const { ref_->call(detail::CoordOp::release); }
  /// Leases in use now, by anyone (Dask: get_value()).
  std::size_t get_value() const { return ref_->call(detail::CoordOp::held).number; }
  std::size_t max_leases() const noexcept { return max_; }
  const std::string& name() const noexcept { return ref_->name(); }

  void lock() const { acquire(); }
  void unlock() const { release(); }
  bool try_lock() const { return acquire(std::chrono::nanoseconds::zero()); }

 private:
  std::size_t max_;
  std::shared_ptr<detail::CoordRef> ref_;
};

}  // namespace cask
