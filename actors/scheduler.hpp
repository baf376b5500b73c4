// actors/scheduler.hpp: the scheduler actor, owner of the task table.
//
// It maps keys to future actors (one per key: same key, one computation), counts who
// still wants each key (client handles, unfinished dependents, fire_and_forget), keeps
// the ready queue ordered by priority, and places ready jobs on the worker with the most
// free capacity. It never runs user code and never touches a value.
#pragma once

#include <vector>

#include <caf/fwd.hpp>

#include "actors/protocols.hpp"

namespace cask::detail {

struct WorkerInfo {
  worker_actor actor;
  std::size_t slots = 1;
};

scheduler_actor spawn_scheduler(caf::actor_system& sys, std::vector<WorkerInfo> workers);

}  // namespace cask::detail
