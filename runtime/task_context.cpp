#include "runtime/task_context.hpp"

#include "runtime/execution_pool.hpp"

namespace cask::detail {
namespace {
thread_local TaskContext* tls_task = nullptr;
}

TaskContext* current_task() noexcept { return tls_task; }

TaskScope::TaskScope(TaskContext& ctx) noexcept : previous_(tls_task) { tls_task = &ctx; }
TaskScope::~TaskScope() { tls_task = previous_; }

SlotHandoff::SlotHandoff() noexcept
    : pool_(tls_task && !tls_task->seceded ? tls_task->pool : nullptr) {
  if (pool_) {
    tls_task->seceded = true;
    pool_->secede();
  }
}

SlotHandoff::~SlotHandoff() {
  if (pool_) {
    pool_->rejoin();
    tls_task->seceded = false;
  }
}

}  // namespace cask::detail
