// actors/hosted_actors.hpp: the actor instances a worker process hosts for remote clients.
//
// A constructor task (CASK_ACTOR, CASK_ACTOR_INIT) builds the instance on a worker slot and
// hands it to an actor host (actors/actor_host.hpp, the same host as in embedded mode),
// which runs its calls one at a time in arrival order on this worker's slots. This table
// maps the constructor task's key to that host, so that calls arriving from clients
// (WireActorCall, straight to this worker) find it. Each call becomes a Job whose outcome
// is sent back to the caller as a WireOutcome carrying the value.
// The instance goes when the scheduler frees the constructor's key (no client holds it any
// more: every handle dropped, or their clients gone) or on Actor::cancel.
// Thread-safety: every function may be called from any thread (the worker actor, slots).
#pragma once

#include <string>
#include <vector>

#include "actors/cluster_actor_protocols.hpp"

namespace cask::detail::hosted_actors {

/// Queues the call on its instance's host; answers at once with an error outcome when the
/// instance is not here (released, cancelled, never hosted here) or the method is not
/// registered here with the caller's signature.
void call(WireActorCall& call);
/// Cancels one call: it never starts, or is asked to stop (its stop token).
void cancel_call(const std::string& call_key);
/// Actor::cancel: queued calls are cancelled and the instance destroyed.
void cancel(const std::string& actor_key);
/// The scheduler freed these keys: instances among them are destroyed after their queued
/// calls.
void release(const std::vector<std::string>& keys);

}  // namespace cask::detail::hosted_actors
