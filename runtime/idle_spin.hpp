// runtime/idle_spin.hpp: how long an idle thread of cask's polls for work before it sleeps.
//
// Waking a sleeping thread costs 4-20 µs on the VMs cask is measured on, and a cluster
// round trip crosses a dozen threads; a thread that is still polling when its next message
// arrives skips that cost. Polling burns the idle core, so it is bounded and can be turned
// down on a shared machine: CASK_IDLE_SPIN_US=<microseconds> (0: sleep at once). Read once
// per process.
#pragma once

#include <chrono>

namespace cask::detail {

/// The idle-poll time: CASK_IDLE_SPIN_US, or kDefaultIdleSpin when unset or invalid.
std::chrono::microseconds idle_spin_time();

/// The default idle-poll time (see the cluster round trip in bench/).
inline constexpr std::chrono::microseconds kDefaultIdleSpin{300};

}  // namespace cask::detail
