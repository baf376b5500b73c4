#include "runtime/callback_thread.hpp"

namespace cask::detail {

void CallbackThread::post(std::function<void()> fn) {
  {
    std::lock_guard lk(mu_);
    if (!stopped_) {
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      queue_.push_back(std::move(fn));
      cv_.notify_one();
      return;
    }
  }
  fn();
}

void CallbackThread::stop() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    stopped_ = true;
    t = std::move(thread_);
    cv_.notify_one();
  }
  if (t.joinable()) t.join();
}

void CallbackThread::loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return stopped_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped and drained
    auto fn = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    try {
      fn();
    } catch (...) {
      // A throwing callback must not take the client down (Dask logs and goes on).
    }
    lk.lock();
  }
}

}  // namespace cask::detail
