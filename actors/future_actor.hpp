// actors/future_actor.hpp: the actor behind each task key.
//
// It holds the task's outcome and its subscribers: client handles, which it completes
// directly, and dependent future actors, which it sends `dep_done`. A task with inputs
// collects them here and then hands its job to the scheduler (`ready`). Jobs themselves
// go back to the scheduler, which sends the outcome here (`done`) only when someone
// subscribed; an actor nobody subscribed to never runs and is collected by CAF once the
// scheduler drops it. Cancel and shutdown complete every subscriber and quit.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/protocols.hpp"

namespace cask::detail {

struct FutureInit {
  Key key;
  scheduler_actor scheduler;
  JobPtr job;                      // runnable now (no inputs); the scheduler queued it
  TaskFn fn;                       // otherwise: what to run once `inputs` values are in
  std::size_t inputs = 0;
  int priority = 0;
  int retries = 0;
  std::uint64_t seq = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::optional<Outcome> outcome;  // already final (scatter)
  std::vector<Listener> listeners;
};

/// Spawns a future actor in `sys`.
future_actor spawn_future(caf::actor_system& sys, FutureInit init);

/// Future actors alive in this process (for ClusterStats and leak tests).
std::size_t live_future_actors() noexcept;

}  // namespace cask::detail
