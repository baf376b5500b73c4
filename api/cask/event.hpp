// cask/event.hpp: Event, a named cluster-wide flag to wait for (Dask: distributed.Event).
//
//   cask::Event ready{"model-loaded"};
//   ready.wait();                 // in many tasks: block until someone sets it
//   ready.set();                  // wakes every waiter; later waits return at once
//   bool ok = ready.wait(1s);     // false when not set in time
//   ready.clear();
//
// Owned by one actor; a set event lives on without handles until cleared (as in Dask).
// A task waiting gives its worker slot back meanwhile.
// Thread-safety: any member from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cask/detail/coordination.hpp"

namespace cask {

class Event {
 public:
  explicit Event(std::string name);
  Event(std::string name, Client& client);

  void set() const { ref_->call(detail::CoordOp::set); }
  void clear() const { ref_->call(detail::CoordOp::clear); }
  bool is_set() const { return ref_->call(detail::CoordOp::is_set).flag; }
  /// Blocks until the event is set.
  void wait() const { ref_->call(detail::CoordOp::wait); }
  /// False when it was not set within `timeout`.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) const {
    return ref_->call(detail::CoordOp::wait, nullptr, 0,
                      std::chrono::duration_cast<std::chrono::nanoseconds>(timeout)).flag;
  }
  const std::string& name() const noexcept { return ref_->name(); }

 private:
  std::shared_ptr<detail::CoordRef> ref_;
};

}  // namespace cask
