// runtime/execution_pool.hpp: a worker's execution slots, the threads user code runs on.
//
// Jobs run highest priority first. A slot that ran a job completes the submitting handle
// directly and hands the job back to the scheduler (one message). A task that blocks (result(), wait, ...) secedes: its slot
// counts as free and, if work is queued, another thread takes it, so that nested
// submission can never deadlock the pool; on rejoin it takes a slot again.
//
// Idle slots spin briefly before sleeping: on this kind of VM a thread wake-up costs
// 4-20 µs, more than the whole dispatch of a small task.
//
// Thread-safety: all members may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "actors/protocols.hpp"

namespace cask::detail {

/// How a pool talks back to its cluster.
struct PoolHooks {
  /// A job ran, or will not run (cancelled); its outcome is in job->outcome.
  std::function<void(JobPtr)> on_done;
  /// +1 when a slot is given back (secede), -1 when taken again (rejoin).
  std::function<void(int)> on_capacity;
};

class ExecutionPool {
 public:
  ExecutionPool(std::size_t slots, ClientState* client, PoolHooks hooks);
  ~ExecutionPool();
  ExecutionPool(const ExecutionPool&) = delete;
  ExecutionPool& operator=(const ExecutionPool&) = delete;

  void push(std::vector<JobPtr> jobs);

  /// Cancels running jobs, hands queued jobs back unrun, and joins every thread. Running
  /// user code is waited for: C++ cannot stop a thread, only ask (this_task::stop_token).
  void stop();

  std::size_t slots() const noexcept { return slots_; }
  /// Slots running a task that has not seceded.
  std::size_t busy() const noexcept { return active_.load(std::memory_order_relaxed); }

  void secede();
  void rejoin();

  /// Runs the job's user code on this thread, under a task context, and returns its
  /// outcome (cancelled when it was asked to stop). The caller has moved the job to
  /// `running`. Used by slots and by actor hosts running calls inside a slot.
  Outcome execute(const JobPtr& job);

  /// Tells the scheduler that a slot is taken (-1) or free again (+1) outside the jobs it
  /// placed: an actor host running its calls in a slot.
  void report_capacity(int delta) const {
    if (hooks_.on_capacity) hooks_.on_capacity(delta);
  }

 private:
  void slot_loop();
  void run(const JobPtr& job);
  void hand_back(JobPtr job, Outcome outcome);
  void spin_for_work() const;  // polls for queued work for a short while

  const std::size_t slots_;
  ClientState* const client_;
  const PoolHooks hooks_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<QueuedJob, std::vector<QueuedJob>, JobOrder> queue_;  // guarded by mu_
  std::vector<std::thread> threads_;                                   // guarded by mu_
  std::size_t idle_ = 0;                                               // guarded by mu_
  std::size_t spinning_ = 0;  // threads polling for work; at most slots_    guarded by mu_
  bool stopping_ = false;                                              // guarded by mu_
  std::vector<Job*> running_;                                          // guarded by mu_
  std::atomic<std::size_t> queued_{0};  // mirrors queue_.size() for lock-free spinning
  std::atomic<std::size_t> active_{0};  // threads holding a slot
};

}  // namespace cask::detail
