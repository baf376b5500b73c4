// cask/stats.hpp: a snapshot of what the cluster holds, for tests and dashboards.
#pragma once

#include <cstddef>
#include <ostream>

namespace cask {

/// Counts read from the scheduler in one message round trip (Client::stats()).
struct ClusterStats {
  // Tasks the scheduler's task table holds, by state.
  std::size_t waiting = 0;     ///< waiting for dependencies
  std::size_t queued = 0;      ///< ready, not yet running
  std::size_t processing = 0;  ///< assigned to a worker
  std::size_t finished = 0;    ///< value held
  std::size_t erred = 0;       ///< exception held
  std::size_t tasks() const { return waiting + queued + processing + finished + erred; }

  std::size_t future_actors = 0;  ///< future actors alive in this process
  std::size_t workers = 0;        ///< worker actors
  std::size_t slots = 0;          ///< execution slots over all workers
  std::size_t slots_busy = 0;     ///< slots running a task right now

  std::size_t coordination_objects = 0;  ///< live Queues, Variables, Locks, ... (by name)
  std::size_t actors = 0;                ///< live Actor<T> instances
};

inline std::ostream& operator<<(std::ostream& os, const ClusterStats& s) {
  return os << "tasks{waiting=" << s.waiting << " queued=" << s.queued
            << " processing=" << s.processing << " finished=" << s.finished
            << " erred=" << s.erred << "} future_actors=" << s.future_actors
            << " workers=" << s.workers << " slots=" << s.slots_busy << "/" << s.slots
            << " coordination_objects=" << s.coordination_objects << " actors=" << s.actors;
}

}  // namespace cask
