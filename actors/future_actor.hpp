// actors/future_actor.hpp: the actor behind each task key.
//
// It holds the task's state (waiting for inputs, out on a worker, final), its outcome and
// its subscribers: client handles, which it completes directly, and dependent future
// actors, which it sends `dep_done`. It reports every returned job to the scheduler
// (`done`, for slot accounting and the task table), re-queues a failed job while retries
// remain, and quits when released or cancelled, but never before its job came back.
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
