// actors/cluster_scheduler.hpp: the scheduler of a multi-process cluster (cask-scheduler).
//
// It owns the task table of the whole cluster: for each key its task (function name,
// encoded arguments, dependencies: the lineage from which a lost result is recomputed),
// its state, which clients want it, and which worker holds its value. It never holds a
// value: results stay on the worker that computed it; the scheduler only knows their size.
//
//  - Placement: a ready task goes to a worker that can run its function and has a free
//    slot, preferring the one already holding most of its input bytes.
//  - Lifecycle: a key lives while a client wants it, a pending dependent needs it, or it
//    was fire_and_forget'ed; unwanted pending work is cancelled, unwanted values freed.
//  - Failure: workers are monitored. Tasks running on a lost worker run again elsewhere
//    (after `allowed_failures` such deaths the task fails); values only the lost worker
//    held are recomputed when still wanted. A client that goes away releases its keys.
#pragma once

#include <caf/fwd.hpp>

#include "actors/cluster_protocols.hpp"

namespace cask::detail {

struct ClusterSchedulerInit {
  int allowed_failures = 3;
};

cluster_scheduler_actor spawn_cluster_scheduler(caf::actor_system& sys, ClusterSchedulerInit init);

}  // namespace cask::detail
