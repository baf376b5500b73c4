#include "actors/worker.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/execution_pool.hpp"

namespace cask::detail {

namespace {
worker_actor::behavior_type worker_main(worker_actor::pointer self, ExecutionPool* pool) {
  return {
      [pool](execute_atom, std::vector<JobPtr>& jobs) { pool->push(std::move(jobs)); },
      [self](shutdown_atom) { self->quit(); },
  };
}
}  // namespace

worker_actor spawn_worker(caf::actor_system& sys, ExecutionPool* pool) {
  return sys.spawn(worker_main, pool);
}

}  // namespace cask::detail
