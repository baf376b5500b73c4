// actors/worker.hpp: the worker actor, the actor face of one ExecutionPool.
//
// It receives `execute` from the scheduler and queues the job on its execution slots;
// user code runs there, never on this actor's (CAF) thread. The pool is owned by the
// cluster, which stops it after the actors are gone (stopping joins threads, which must
// not happen on a CAF thread).
#pragma once

#include <caf/fwd.hpp>

#include "actors/protocols.hpp"

namespace cask::detail {

class ExecutionPool;

worker_actor spawn_worker(caf::actor_system& sys, ExecutionPool* pool);

}  // namespace cask::detail
