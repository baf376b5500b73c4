// runtime/coordinator.hpp: the CAF scheduler cask installs into its actor system.
//
// CAF's coordinator with two changes: the SpinningSharing policy (spinning_sharing.hpp),
// and a clock that skips pointless work. CAF calls clock().cancel_timeouts(self) whenever
// an actor terminates; the thread-safe clock turns that into an event for its own thread
// (an allocation, a mutex and a wake-up), even for an actor that never armed a timeout.
// Future actors never do, and one terminates per task: on this VM that wake-up was the
// largest single cost of a submit -> result round trip. FilteringClock remembers which
// actors armed a timeout and forwards cancel_timeouts only for those; everything else
// goes to CAF's clock unchanged (delayed messages never needed cancel_timeouts).
#pragma once

#include <mutex>
#include <unordered_set>

#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/worker.hpp>

#include "runtime/spinning_sharing.hpp"

namespace cask::detail {

class FilteringClock final : public caf::detail::thread_safe_actor_clock {
 public:
  explicit FilteringClock(caf::detail::thread_safe_actor_clock& real) : real_(real) {}

  time_point now() const noexcept override { return real_.now(); }
  duration_type difference(caf::atom_value m, long units, time_point t0, time_point t1) const noexcept override {
    return real_.difference(m, units, t0, t1);
  }
  void set_ordinary_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type, uint64_t id) override {
    armed(self);
    real_.set_ordinary_timeout(t, self, type, id);
  }
  void set_multi_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type, uint64_t id) override {
    armed(self);
    real_.set_multi_timeout(t, self, type, id);
  }
  void set_request_timeout(time_point t, caf::abstract_actor* self, caf::message_id id) override {
    armed(self);
    real_.set_request_timeout(t, self, id);
  }
  void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override {
    real_.cancel_ordinary_timeout(self, type);
  }
  void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override {
    real_.cancel_request_timeout(self, id);
  }
  void cancel_timeouts(caf::abstract_actor* self) override {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (armed_.erase(self) == 0) return;  // never armed one: nothing to cancel
    }
    real_.cancel_timeouts(self);
  }
  void schedule_message(time_point t, caf::strong_actor_ptr receiver, caf::mailbox_element_ptr content) override {
    real_.schedule_message(t, std::move(receiver), std::move(content));
  }
  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender, caf::message content) override {
    real_.schedule_message(t, std::move(target), std::move(sender), std::move(content));
  }
  void cancel_all() override { real_.cancel_all(); }

 private:
  void armed(caf::abstract_actor* self) {
    std::lock_guard<std::mutex> g(mu_);
    armed_.insert(self);
  }

  caf::detail::thread_safe_actor_clock& real_;
  std::mutex mu_;
  std::unordered_set<caf::abstract_actor*> armed_;  // guarded by mu_
};

class Coordinator final : public caf::scheduler::coordinator<SpinningSharing> {
 public:
  explicit Coordinator(caf::actor_system& sys)
      : caf::scheduler::coordinator<SpinningSharing>(sys),
        filter_(caf::scheduler::coordinator<SpinningSharing>::clock()) {}

  caf::detail::thread_safe_actor_clock& clock() noexcept override { return filter_; }

 private:
  FilteringClock filter_;
};

}  // namespace cask::detail
