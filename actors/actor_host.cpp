#include "actors/actor_host.hpp"

#include <atomic>
#include <climits>
#include <deque>
#include <mutex>
#include <stop_token>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cask/errors.hpp"
#include "cask/this_task.hpp"
#include "runtime/execution_pool.hpp"

namespace cask::detail {
namespace {

std::atomic<std::size_t> g_instances{0};

/// What the host actor and its runner job share.
struct HostState {
  ExecutionPool* pool = nullptr;
  std::string key;
  std::mutex mu;
  std::deque<JobPtr> calls;    // guarded by mu: queued, in arrival order
  std::atomic<bool> has_calls{false};  // mirrors !calls.empty(), for lingering without mu
  JobPtr current;              // guarded by mu: the call running
  bool runner_active = false;  // guarded by mu: a runner is queued or running
  bool released = false;       // guarded by mu: no calls are accepted any more
  bool orderly = false;        // guarded by mu: the host quit after release, calls go on
  Value instance;              // guarded by mu; dropped by a runner, on the worker
};
using HostPtr = std::shared_ptr<HostState>;

void finish_cancelled(const JobPtr& call) {
  call->cancel();
  if (auto core = call->submitter.lock())
    core->complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(*call->key)));
}

void run_call(HostState& st, const JobPtr& call, const Value& self) {
  auto expected = JobPhase::queued;
  if (!call->phase.compare_exchange_strong(expected, JobPhase::running, std::memory_order_acq_rel)) {
    finish_cancelled(call);  // its future was cancelled while it was queued
    return;
  }
  call->inputs = {self};
  Outcome out = st.pool->execute(call);
  call->inputs.clear();
  call->publish(std::move(out));
}

// A runner that has been busy this long tells the scheduler its slot is taken, so that
// tasks go to other workers; shorter bursts are not worth two scheduler messages.
constexpr auto kBusyReport = std::chrono::microseconds(200);
// How long an idle runner waits for the next call before giving its slot back: a caller
// waiting for each result sends the next call a few µs later, and a new runner would cost
// a slot wake-up.
constexpr auto kLinger = std::chrono::microseconds(50);

/// Waits up to kLinger for a call to arrive; true when one did.
bool linger(HostState& st) {
  const auto until = std::chrono::steady_clock::now() + kLinger;
  do {
    for (int i = 0; i < 64; ++i)
      if (st.has_calls.load(std::memory_order_acquire)) return true;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

/// The runner: takes calls from the front of the queue until it is empty, one at a time.
/// Once the actor is released and idle, it drops the instance here, on the worker.
void drain(const HostPtr& st) {
  const auto started = std::chrono::steady_clock::now();
  bool reported = false;
  auto runner_stop = this_task::stop_token();
  auto stop_current = [&st] {
    std::lock_guard lk(st->mu);
    if (st->current) st->current->cancel();
  };
  std::stop_callback on_stop(runner_stop, stop_current);  // the worker is stopping
  Value doomed;
  for (;;) {
    JobPtr call;
    Value self;
    {
      std::unique_lock lk(st->mu);
      if (st->calls.empty() && !st->released && !runner_stop.stop_requested()) {
        lk.unlock();
        linger(*st);
        lk.lock();
      }
      if (st->calls.empty() || runner_stop.stop_requested()) {
        st->runner_active = false;
        for (auto& c : st->calls) finish_cancelled(c);
        st->calls.clear();
        if (st->released) doomed = std::move(st->instance);
        break;
      }
      call = std::move(st->calls.front());
      st->calls.pop_front();
      st->has_calls.store(!st->calls.empty(), std::memory_order_release);
      st->current = call;
      self = st->instance;
    }
    run_call(*st, call, self);
    {
      std::lock_guard lk(st->mu);
      st->current = nullptr;
    }
    if (!reported && std::chrono::steady_clock::now() - started > kBusyReport) {
      reported = true;
      st->pool->report_capacity(-1);
    }
  }
  doomed.reset();  // ~T, on the worker
  if (reported) st->pool->report_capacity(+1);
}

JobPtr make_runner(const HostPtr& st) {
  auto job = std::make_shared<Job>();
  job->key = std::make_shared<const std::string>(st->key);
  job->priority = INT_MAX;  // calls waiting for a slot go before queued tasks
  job->internal = true;
  job->fn = [st](std::span<const Value>) -> Value {
    drain(st);
    return nullptr;
  };
  return job;
}

class HostActor : public actor_host::base {
 public:
  HostActor(caf::actor_config& cfg, HostInit& init) : actor_host::base(cfg), st_(std::make_shared<HostState>()) {
    st_->pool = init.pool;
    st_->key = std::move(init.key);
    // Counted from here until the instance is destroyed, wherever that happens.
    auto raw = init.instance.get();
    st_->instance = Value(raw, [keep = std::move(init.instance)](const void*) mutable {
      keep.reset();
      g_instances.fetch_sub(1, std::memory_order_relaxed);
    });
    g_instances.fetch_add(1, std::memory_order_relaxed);
    link_to(init.supervisor);
    // The client closes: nothing will run any more; nobody may wait for a queued call.
    attach_functor([st = st_] {
      std::vector<JobPtr> dropped;
      {
        std::lock_guard lk(st->mu);
        if (st->orderly) return;
        st->released = true;
        dropped.assign(st->calls.begin(), st->calls.end());
        st->calls.clear();
        if (st->current) st->current->cancel();
      }
      for (auto& c : dropped) finish_cancelled(c);
    });
  }

  behavior_type make_behavior() override {
    return {
        [this](call_atom, JobPtr& call) {
          bool start = false;
          {
            std::lock_guard lk(st_->mu);
            if (!st_->released) {
              st_->calls.push_back(call);
              st_->has_calls.store(true, std::memory_order_release);
              start = !std::exchange(st_->runner_active, true);
              call = nullptr;
            }
          }
          if (call) {  // released: a clear error, not a hang
            if (auto core = call->submitter.lock())
              core->complete(Status::error, nullptr, released_error(st_->key));
            return;
          }
          if (start) st_->pool->push({make_runner(st_)});
        },
        [this](release_atom) {
          release(false);
          {
            std::lock_guard lk(st_->mu);
            st_->orderly = true;
          }
          quit();
        },
        [this](cancel_atom) { release(true); },
    };
  }

 private:
  /// No more calls; queued ones run (or, when cancelling, are cancelled), then a runner
  /// drops the instance on the worker.
  void release(bool cancel_queued) {
    std::vector<JobPtr> dropped;
    bool start = false;
    {
      std::lock_guard lk(st_->mu);
      if (st_->released && !cancel_queued) return;
      st_->released = true;
      if (cancel_queued) {
        dropped.assign(st_->calls.begin(), st_->calls.end());
        st_->calls.clear();
        if (st_->current) st_->current->cancel();
      }
      start = !std::exchange(st_->runner_active, true);
    }
    for (auto& c : dropped) finish_cancelled(c);
    if (start) st_->pool->push({make_runner(st_)});
  }

  HostPtr st_;
};

}  // namespace

actor_host spawn_host(caf::actor_system& sys, HostInit init) { return sys.spawn<HostActor>(init); }

std::exception_ptr released_error(const std::string& key) {
  return std::make_exception_ptr(Error("cask::Error: actor " + key + " was released"));
}

std::size_t live_actor_instances() noexcept { return g_instances.load(std::memory_order_relaxed); }

}  // namespace cask::detail
