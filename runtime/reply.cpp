#include "actors/reply.hpp"

#include <optional>
#include <stop_token>
#include <thread>

#include "cask/errors.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {

ReplyToken::~ReplyToken() {
  reply_->fail(std::make_exception_ptr(CommError("cask::CommError: the cluster went away before answering")));
}

void Reply::await(bool blocking) {
  auto settled = [this] {
    const auto s = state_.load(std::memory_order_acquire);
    return s == answered || s == abandoned;
  };
  TaskContext* task = current_task();
  if (!task || !task->job) {
    // A client thread: poll briefly (an actor answers in a few µs, sooner than a futex
    // wake-up on this kind of machine), then sleep.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(30);
    for (unsigned i = 1; !settled(); ++i) {
      if ((i & 63) == 0) {
        if (std::chrono::steady_clock::now() > until) break;
        std::this_thread::yield();
      }
    }
  } else if (blocking) {
    // A task: hand the slot back while blocked; cancelling the task abandons the request
    // (unless the actor took it already, in which case its answer is awaited).
    auto give_up = [this] { abandon(); };
    std::stop_callback on_stop(task->job->stop.get_token(), give_up);
    SlotHandoff handoff;
    for (auto s = state_.load(std::memory_order_acquire); s != answered && s != abandoned;
         s = state_.load(std::memory_order_acquire))
      state_.wait(s, std::memory_order_acquire);
  }
  for (auto s = state_.load(std::memory_order_acquire); s != answered && s != abandoned;
       s = state_.load(std::memory_order_acquire))
    state_.wait(s, std::memory_order_acquire);
  if (state_.load(std::memory_order_acquire) == abandoned) throw CancelledError(*task->job->key);
  if (error) std::rethrow_exception(error);
}

}  // namespace cask::detail
