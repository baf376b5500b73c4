// runtime/task_context.hpp: what the thread running a task knows about it.
//
// Set by an execution slot for the duration of one job; read by cask::this_task, by
// blocking calls (to hand the slot back and to wake up on cancellation) and by
// get_client().
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace cask::detail {

struct Job;
class ExecutionPool;
class ClientState;

struct TaskContext {
  Job* job = nullptr;
  ExecutionPool* pool = nullptr;
  ClientState* client = nullptr;
  bool seceded = false;  // the slot was given back (secede() or a blocking call)
  // Run when the task fails (throws or is cancelled), before its outcome is published:
  // locks and semaphore leases it took come back.
  std::vector<std::function<void()>> on_failure;
  // Leases taken and not released by this task, per handle (CoordRef address).
  std::vector<std::pair<std::uintptr_t, int>> leases;
};

/// The context of the task running on this thread; null outside tasks.
TaskContext* current_task() noexcept;

/// Installs a context for the current scope (an execution slot running one job).
class TaskScope {
 public:
  explicit TaskScope(TaskContext& ctx) noexcept;
  ~TaskScope();
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  TaskContext* previous_;
};

/// While alive, the current task (if any) has given its execution slot back to its pool so
/// that other work can run; the destructor takes a slot again. No-op outside tasks and
/// when the task already seceded.
class SlotHandoff {
 public:
  SlotHandoff() noexcept;
  ~SlotHandoff();
  SlotHandoff(const SlotHandoff&) = delete;
  SlotHandoff& operator=(const SlotHandoff&) = delete;

 private:
  ExecutionPool* pool_;
};

}  // namespace cask::detail
