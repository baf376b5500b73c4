// cask::wait: the condition is checked here once, then left to a waiter actor.
#include "cask/wait.hpp"

#include "runtime/client_state.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {
namespace {

WaitMode mode_of(ReturnWhen when) {
  switch (when) {
    case ReturnWhen::all_completed: return WaitMode::all;
    case ReturnWhen::first_completed: return WaitMode::any;
    case ReturnWhen::first_exception: return WaitMode::first_exception;
  }
  return WaitMode::all;
}

bool holds(const std::vector<CorePtr>& cores, ReturnWhen when) {
  std::size_t done = 0;
  for (const auto& c : cores) {
    if (!c->done()) continue;
    ++done;
    if (when == ReturnWhen::first_completed) return true;
    if (when == ReturnWhen::first_exception && c->status() == Status::error) return true;
  }
  return done == cores.size();
}

}  // namespace

bool wait_cores(const std::vector<CorePtr>& cores, ReturnWhen when,
                std::optional<std::chrono::nanoseconds> timeout) {
  const TaskContext* task = current_task();
  for (const auto& c : cores) {
    if (!c) throw Error("cask::wait: an empty Future");
    if (task && task->job && *task->job->key == c->key())
      throw Error("cask::Error: task " + c->key() + " waits for its own result, which would never come");
  }
  if (holds(cores, when)) return true;
  if (timeout && *timeout <= std::chrono::nanoseconds::zero()) return false;
  ClientState& client = *cores.front()->client();
  auto latch = client.wait(cores, mode_of(when), timeout);
  if (latch && latch->wait() == WaitLatch::timed_out) return false;
  if (holds(cores, when)) return true;
  // The client closed (no waiter, or it ended with the client). Its futures become final
  // while its actors stop; outside tasks, wait for that (a task is stopped by the close).
  if (!task) client.await_closed();
  return holds(cores, when);
}

}  // namespace cask::detail
