// actors/waiter.hpp: small actors that wait on futures for a blocked thread.
//
// A waiter subscribes to a set of client handles (FutureCores), counts completions, and
// arms its deadline as a delayed message to itself. When its condition holds, or the
// deadline message arrives first, it opens a WaitLatch that the blocked thread sleeps on,
// and quits. No thread ever polls.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
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
class WaitLatch {
 public:
  enum : std::uint32_t { closed = 0, satisfied = 1, timed_out = 2 };
  /// Opens the latch with `outcome` unless already open.
  void open(std::uint32_t outcome) noexcept {
    std::uint32_t expected = closed;
    if (state_.compare_exchange_strong(expected, outcome, std::memory_order_acq_rel))
      state_.notify_all();
  }
  /// Blocks until open (handing a task's slot back meanwhile); returns the outcome.
  std::uint32_t wait() const;

 private:
  std::atomic<std::uint32_t> state_{closed};
};

/// Starts a waiter over `cores`; returns the latch it opens. `timeout` unset: no deadline.
std::shared_ptr<WaitLatch> start_waiter(caf::actor_system& sys, std::vector<CorePtr> cores,
                                        WaitMode mode,
                                        std::optional<std::chrono::nanoseconds> timeout);

}  // namespace cask::detail
