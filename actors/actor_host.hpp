// actors/actor_host.hpp: the CAF actor hosting one Actor<T> instance on a worker.
//
//   ActorRef::call ──call(job)──▶ host ── queues it; one runner job at a time on the
//                                          worker's pool runs the queued calls in order
//   last handle gone ──release──▶ host: queued calls still run, then the instance is
//                                       destroyed on the worker; the host quits
//   Actor::cancel ──cancel──▶ host: queued calls are cancelled, the running one is asked
//                                   to stop, the instance is destroyed; later calls fail
//
// Calls run one at a time and in arrival order because only one runner exists at a time
// and it takes calls from the front of the queue. The runner occupies one of the worker's
// slots while it drains (the scheduler is told, so it places tasks elsewhere); a call that
// blocks on cask hands that slot back like any task.
#pragma once

#include <cstddef>
#include <exception>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/protocols.hpp"

namespace cask::detail {

class ExecutionPool;

using actor_host = caf::typed_actor<
    caf::reacts_to<call_atom, JobPtr>,  // run this call after the ones before it
    caf::reacts_to<release_atom>,       // no handle is left
    caf::reacts_to<cancel_atom>>;       // Actor::cancel

struct HostInit {
  ExecutionPool* pool = nullptr;  // the worker it lives on
  std::string key;                // the key of the task that constructed it
  Value instance;                 // the T
  caf::actor supervisor;          // the host ends with the client
};

actor_host spawn_host(caf::actor_system& sys, HostInit init);

/// What a call to a released actor fails with.
std::exception_ptr released_error(const std::string& key);

/// Actor instances alive in this process (ClusterStats::actors).
std::size_t live_actor_instances() noexcept;

}  // namespace cask::detail
