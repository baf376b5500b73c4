#include "actors/worker.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/execution_pool.hpp"

namespace cask::detail {

worker_actor spawn_worker(caf::actor_system& sys, ExecutionPool* pool) {
  return sys.spawn([pool](worker_actor::pointer self) -> worker_actor::behavior_type {
    return {
        [pool](execute_atom, std::vector<JobPtr>& jobs) { pool->push(std::move(jobs)); },
        [self](shutdown_atom) { self->quit(); },
    };
  });
}

}  // namespace cask::detail
