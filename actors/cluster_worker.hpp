// actors/cluster_worker.hpp: the actor of a worker process (cask-worker).
//
// It receives runs from the cluster scheduler, gathers each task's inputs (from its own
// store, or fetched straight from the worker holding them: the scheduler never relays
// values), and queues the task on the process's execution pool, where the registered
// function runs on its MessagePack arguments. Results stay in the worker's store until the
// scheduler frees them; clients and other workers fetch them from here.
// When the scheduler goes away, the actor cancels its work and quits (run_worker then
// reconnects).
// Big values travel over the bulk channel (runtime/bulk_channel.hpp): this worker's fetch
// answer names its endpoint instead of carrying them, and the inputs it fetches arrive on
// the process's BulkFetcher threads, which hand them back to the actor as a message.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/cluster_protocols.hpp"
#include "actors/protocols.hpp"
#include "cask/remote.hpp"
#include "runtime/bulk_channel.hpp"

namespace cask::detail {

class ExecutionPool;

/// A worker's results and running jobs. Thread-safety: every member may be called from
/// any thread (slots add results, the actor serves and frees them).
class WorkerStore {
 public:
  using Data = std::shared_ptr<const Bytes>;
  /// Stores the value run `run` of `key` made (replacing an earlier run's).
  void put(const std::string& key, Data bytes, std::uint64_t run = 0);
  Data get(const std::string& key) const;
  /// Drops the value of `id.key` if run `id.run` made it (run 0: whichever run did).
  /// False when another run's value is stored under the key (it stays).
  bool erase(const WireRunId& id);
  std::size_t size() const;
  void clear();

  void track(const std::string& key, const JobPtr& job);
  /// Stops tracking `job` (a later run of its key, tracked since, stays).
  void untrack(const JobPtr& job);
  /// Cancels the job running (or waiting for its inputs) as run `id.run` of `id.key`, if
  /// any (run 0: whichever run is tracked).
  void cancel(const WireRunId& id);
  /// Takes up to `n` tracked jobs that have not started (least urgent first) out of the
  /// worker's hands, atomically with respect to a slot starting them; returns their runs.
  std::vector<WireRunId> steal(std::size_t n);

  /// A slot hands in a job that ended; true when the outbox was empty (the caller then
  /// asks the actor to flush: one report per burst of completions, not per task).
  bool post(JobPtr job);
  std::vector<JobPtr> take_posted();

 private:
  mutable std::mutex mu_;
  struct Stored {
    Data bytes;
    std::uint64_t run = 0;
  };
  std::unordered_map<std::string, Stored> results_;
  std::unordered_map<std::string, JobPtr> jobs_;
  std::vector<JobPtr> posted_;
};

struct ClusterWorkerInit {
  cluster_scheduler_actor scheduler;
  ExecutionPool* pool = nullptr;
  std::shared_ptr<WorkerStore> store;
  std::shared_ptr<std::atomic<bool>> scheduler_lost;  // set when the scheduler is gone
  BulkEndpoint bulk;  // where this worker serves big values (port 0: it does not)
};

cluster_worker_actor spawn_cluster_worker(caf::actor_system& sys, ClusterWorkerInit init);

/// The job that runs `task` once `inputs` hold its dependencies' values (Bytes each).
JobPtr make_remote_job(const WireTask& task);

/// What a finished job reports to the scheduler; stores a finished job's value.
WireResult report_of(const Job& job, WorkerStore& store);

}  // namespace cask::detail
