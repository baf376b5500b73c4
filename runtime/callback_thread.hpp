// runtime/callback_thread.hpp: the one thread on which a client runs done-callbacks.
//
// Future actors complete handles on CAF threads, where user code must never run, so
// add_done_callback functions are queued here (Dask runs them on its event loop).
// Started on first use. After stop(), callbacks run inline on the posting thread.
// Thread-safety: post() and stop() may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace cask::detail {

class CallbackThread {
 public:
  CallbackThread() = default;
  ~CallbackThread() { stop(); }
  CallbackThread(const CallbackThread&) = delete;
  CallbackThread& operator=(const CallbackThread&) = delete;

  void post(std::function<void()> fn);
  /// Runs what is queued, then joins the thread.
  void stop();

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  std::thread thread_;                       // guarded by mu_
  bool stopped_ = false;                     // guarded by mu_
};

}  // namespace cask::detail
