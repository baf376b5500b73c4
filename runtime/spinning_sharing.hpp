// runtime/spinning_sharing.hpp: the CAF scheduler policy cask runs its actors on.
//
// CAF 0.17's work-sharing policy puts an idle thread to sleep on a condition variable at
// once, and on this kind of VM waking it costs 4-20 µs: more than the whole scheduling of
// a small task, and paid on every hop of a submit -> result round trip. This policy is
// work sharing (one central queue, FIFO) whose idle threads first poll the queue for a
// short while (runtime/idle_spin.hpp), and which only notifies the condition variable when
// a thread sleeps and none polls. One thread per process polls at a time: two pollers on
// one core only hand it to each other with every yield, while the thread with the next
// message to pass on waits for it (seen with perf sched on the cluster round trip).
// (Work stealing polls too, but its steals are O(queue) when one actor fans out: see
// CAF_NOTES.md trap 2.)
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "runtime/idle_spin.hpp"

namespace cask::detail {

class SpinningSharing : public caf::policy::unprofiled {
 public:
  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {}
    std::mutex lock;
    std::condition_variable cv;
    std::deque<caf::resumable*> queue;  // guarded by lock
    std::size_t sleepers = 0;           // guarded by lock
    std::atomic<int> polling{0};        // threads polling the queue (at most one)
    std::atomic<std::size_t> size{0};   // queue.size(), readable without the lock
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {}
  };

  template <class Coordinator>
  void enqueue(Coordinator* self, caf::resumable* job) {
    auto& d = self->data();
    bool wake;
    {
      std::lock_guard<std::mutex> g(d.lock);
      d.queue.push_back(job);
      d.size.fetch_add(1, std::memory_order_release);
      // A polling thread re-checks the queue under the lock before it sleeps.
      wake = d.sleepers > 0 && d.polling.load(std::memory_order_relaxed) == 0;
    }
    if (wake) d.cv.notify_one();
  }

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    enqueue(self, job);
  }
  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }
  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }
  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& d = self->parent()->data();
    if (d.polling.fetch_add(1, std::memory_order_acq_rel) == 0) spin_until_work(d);
    d.polling.fetch_sub(1, std::memory_order_release);
    std::unique_lock<std::mutex> g(d.lock);
    while (d.queue.empty()) {
      ++d.sleepers;
      d.cv.wait(g);
      --d.sleepers;
    }
    caf::resumable* job = d.queue.front();
    d.queue.pop_front();
    d.size.fetch_sub(1, std::memory_order_relaxed);
    // Jobs that arrived while a thread polled woke nobody: pass the next one on.
    const bool pass_on = !d.queue.empty() && d.sleepers > 0;
    g.unlock();
    if (pass_on) d.cv.notify_one();
    return job;
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker*, UnaryFunction) {}

  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator* self, UnaryFunction f) {
    auto& d = self->data();
    std::unique_lock<std::mutex> g(d.lock);
    while (!d.queue.empty()) {
      auto* job = d.queue.front();
      d.queue.pop_front();
      d.size.fetch_sub(1, std::memory_order_relaxed);
      f(job);
    }
  }

 private:
  static void spin_until_work(coordinator_data& d) {
    const auto deadline = std::chrono::steady_clock::now() + idle_spin_time();
    for (unsigned i = 1; d.size.load(std::memory_order_acquire) == 0; ++i) {
      if ((i & 63) == 0) {
        if (std::chrono::steady_clock::now() > deadline) return;
        std::this_thread::yield();  // let a thread with real work have this core
      }
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
};

}  // namespace cask::detail
