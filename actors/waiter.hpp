// actors/waiter.hpp: small actors that wait on futures for a blocked thread.
//
// A wait subscribes to a set of client handles (FutureCores) and counts their completions
// where they happen; when its condition holds it opens the WaitLatch that the blocked
// thread sleeps on. Its waiter actor owns the deadline, a delayed message to itself: if
// that arrives first, the latch opens as timed out. Either way the actor quits. No thread
// ever polls.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <caf/fwd.hpp>

#include "cask/detail/future_core.hpp"

namespace cask::detail {

/// What a waiter waits for.
enum class WaitMode {
  all,              ///< every future final
  any,              ///< at least one final
  first_exception,  ///< every future final, or one erred
};

/// A one-shot latch: the blocked thread sleeps until it is opened (futex, no polling).
/// Inside a task, cancelling the task opens it too (`stopped`), and wait() then throws
/// CancelledError, so a cancelled parent stops waiting for its children.
class WaitLatch {
 public:
  enum : std::uint32_t { closed = 0, satisfied = 1, timed_out = 2, stopped = 3 };
  /// Opens the latch with `outcome` unless already open.
  void open(std::uint32_t outcome) noexcept {
    std::uint32_t expected = closed;
    if (state_.compare_exchange_strong(expected, outcome, std::memory_order_acq_rel))
      state_.notify_all();
  }
  /// Blocks until open (handing a task's slot back meanwhile); returns satisfied or
  /// timed_out, or throws CancelledError when the waiting task was cancelled.
  std::uint32_t wait();

 private:
  std::atomic<std::uint32_t> state_{closed};
};

/// Starts a waiter over `cores`; returns the latch it opens. `timeout` unset: no deadline.
/// Opens a latch when a core completes: untimed waits need no actor of their own.
class LatchSubscriber : public Subscriber {
 public:
  explicit LatchSubscriber(std::shared_ptr<WaitLatch> latch) : latch_(std::move(latch)) {}
  void on_complete(std::size_t) override { latch_->open(WaitLatch::satisfied); }

 private:
  std::shared_ptr<WaitLatch> latch_;
};

/// Calls `fire` (on a CAF thread; it must not block) after `delay`, unless the returned
/// cancel function runs first. The timer actor is linked to `supervisor`.
std::function<void()> start_timer(caf::actor_system& sys, std::chrono::nanoseconds delay,
                                  std::function<void()> fire, const caf::actor& supervisor);

std::shared_ptr<WaitLatch> start_waiter(caf::actor_system& sys, std::vector<CorePtr> cores,
                                        WaitMode mode,
                                        std::optional<std::chrono::nanoseconds> timeout,
                                        const caf::actor& supervisor);

}  // namespace cask::detail
