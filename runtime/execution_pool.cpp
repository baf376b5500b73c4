#include "runtime/execution_pool.hpp"

#include <algorithm>
#include <chrono>

#include "cask/errors.hpp"
#include "runtime/idle_spin.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {
namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

ExecutionPool::ExecutionPool(std::size_t slots, ClientState* client, PoolHooks hooks)
    : slots_(std::max<std::size_t>(1, slots)), client_(client), hooks_(std::move(hooks)) {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < slots_; ++i) threads_.emplace_back([this] { slot_loop(); });
}

ExecutionPool::~ExecutionPool() { stop(); }

void ExecutionPool::hand_back(JobPtr job, Outcome outcome) {
  job->outcome = std::move(outcome);
  if (hooks_.on_done && !job->internal) hooks_.on_done(std::move(job));
}

void ExecutionPool::push(std::vector<JobPtr> jobs) {
  std::unique_lock lk(mu_);
  if (stopping_) {
    lk.unlock();
    for (auto& job : jobs) {
      job->cancel();
      hand_back(std::move(job), Outcome{Status::cancelled, nullptr, nullptr});
    }
    return;
  }
  for (auto& job : jobs) queue_.emplace(std::move(job));
  queued_.fetch_add(jobs.size(), std::memory_order_release);
  if (active_.load(std::memory_order_relaxed) >= slots_) return;  // a slot will pick them up
  if (idle_ > 0) {
    // One wake-up per job: after deep nesting, thousands of threads may be idle here.
    for (std::size_t i = 0, n = std::min({jobs.size(), idle_, slots_}); i < n; ++i) cv_.notify_one();
  } else if (running_.size() >= threads_.size())  // every thread is inside a (seceded) task
    threads_.emplace_back([this] { slot_loop(); });
}

void ExecutionPool::slot_loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (stopping_) return;
    if (!queue_.empty() && active_.load(std::memory_order_relaxed) < slots_) {
      JobPtr job = queue_.top().job;
      queue_.pop();
      queued_.fetch_sub(1, std::memory_order_relaxed);
      active_.fetch_add(1, std::memory_order_relaxed);
      running_.push_back(job.get());
      lk.unlock();
      run(job);
      lk.lock();
      running_.erase(std::find(running_.begin(), running_.end(), job.get()));
      active_.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    // Only the pool's own slots poll; threads added for seceded tasks sleep at once, or a
    // deep recursion (thousands of blocked parents) would spin the machine to a halt.
    if (queue_.empty() && spinning_ < slots_) {
      ++spinning_;
      lk.unlock();
      spin_for_work();
      lk.lock();
      --spinning_;
      // Re-check under the lock: a push() between the spin and here did not notify us.
      if (!queue_.empty() || stopping_) continue;
    }
    ++idle_;
    cv_.wait(lk);
    --idle_;
  }
}

void ExecutionPool::spin_for_work() const {
  const auto deadline = std::chrono::steady_clock::now() + idle_spin_time();
  for (unsigned i = 1;; ++i) {
    if (queued_.load(std::memory_order_acquire) != 0) return;
    if ((i & 63) == 0) {
      if (std::chrono::steady_clock::now() > deadline) return;
      std::this_thread::yield();  // a woken thread with work must not wait for our spin
    }
    cpu_relax();
  }
}

void Job::publish(Outcome out) {
  if (out.status == Status::cancelled && !out.error) out.error = std::make_exception_ptr(CancelledError(*key));
  outcome = std::move(out);
  published.store(true, std::memory_order_release);
  if (auto core = submitter.lock()) core->complete(outcome.status, outcome.value, outcome.error);
}

Outcome ExecutionPool::execute(const JobPtr& job) {
  Outcome out;
  TaskContext ctx;
  ctx.job = job.get();
  ctx.pool = this;
  ctx.client = client_;
  TaskScope scope(ctx);
  const auto started = std::chrono::steady_clock::now();
  try {
    out.value = job->fn(job->inputs);
    out.status = Status::finished;
  } catch (...) {
    out.error = std::current_exception();
    out.status = Status::error;
  }
  job->run_time = std::chrono::steady_clock::now() - started;
  if (ctx.seceded) rejoin();  // returned without rejoining: take the slot back first
  if (job->stop.stop_requested()) out = Outcome{Status::cancelled, nullptr, nullptr};
  if (out.status != Status::finished)
    for (auto& undo : ctx.on_failure) undo();
  return out;
}

void ExecutionPool::run(const JobPtr& job) {
  Outcome out;
  JobPhase expected = JobPhase::queued;
  const bool late = job->deadline && std::chrono::steady_clock::now() > *job->deadline;
  // One exchange decides between starting it and a steal (WorkerStore::steal).
  if (!job->phase.compare_exchange_strong(expected, late ? JobPhase::cancelled : JobPhase::running,
                                          std::memory_order_acq_rel)) {
    if (expected == JobPhase::stolen) return;  // runs on another worker now: nothing to report
    out.status = Status::cancelled;            // cancelled while queued
  } else if (late) {
    out.status = Status::cancelled;  // too late: never starts
  } else {
    out = execute(job);
  }
  const bool will_retry = out.status == Status::error && job->retries_left > 0;
  if (!will_retry && out.status != Status::cancelled) {
    job->publish(std::move(out));  // final: the outcome is not written again
    if (hooks_.on_done && !job->internal) hooks_.on_done(job);
    return;
  }
  hand_back(job, std::move(out));
}

void ExecutionPool::secede() {
  {
    std::lock_guard lk(mu_);
    active_.fetch_sub(1, std::memory_order_relaxed);
    if (!stopping_ && !queue_.empty()) {
      if (idle_ > 0)
        cv_.notify_one();
      else if (running_.size() >= threads_.size())
        threads_.emplace_back([this] { slot_loop(); });
    }
  }
  if (hooks_.on_capacity) hooks_.on_capacity(+1);
}

void ExecutionPool::rejoin() {
  active_.fetch_add(1, std::memory_order_relaxed);
  if (hooks_.on_capacity) hooks_.on_capacity(-1);
}

void ExecutionPool::stop() {
  for (;;) {
    std::vector<JobPtr> unrun;
    std::vector<std::thread> threads;
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
      for (Job* j : running_) j->cancel();
      while (!queue_.empty()) {
        unrun.push_back(queue_.top().job);
        queue_.pop();
      }
      queued_.store(0, std::memory_order_relaxed);
      threads.swap(threads_);
      cv_.notify_all();
    }
    if (threads.empty() && unrun.empty()) return;
    for (auto& job : unrun) {
      // A stolen job runs on another worker: reporting it here would count it twice.
      JobPhase expected = JobPhase::queued;
      if (!job->phase.compare_exchange_strong(expected, JobPhase::cancelled, std::memory_order_acq_rel) &&
          expected == JobPhase::stolen)
        continue;
      job->cancel();
      hand_back(job, Outcome{Status::cancelled, nullptr, nullptr});
    }
    for (auto& t : threads) t.join();
  }
}

}  // namespace cask::detail
