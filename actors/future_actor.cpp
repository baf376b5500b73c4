#include "actors/future_actor.hpp"

#include <algorithm>
#include <chrono>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cask/errors.hpp"

namespace cask::detail {
namespace {

std::atomic<std::size_t> g_live{0};

struct FutureState {
  FutureState() { g_live.fetch_add(1, std::memory_order_relaxed); }
  ~FutureState() { g_live.fetch_sub(1, std::memory_order_relaxed); }

  std::string key;
  scheduler_actor scheduler;
  Status status = Status::pending;
  Outcome outcome;
  std::vector<Listener> listeners;
  JobPtr job;  // set while a job is out (queued or running); comes back via job_done
  TaskFn fn;   // waiting for inputs: what the job will run
  std::vector<Value> inputs;
  std::size_t missing = 0;
  int priority = 0;
  int retries = 0;
  std::uint64_t seq = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  bool quitting = false;  // released or cancelled: quit as soon as no job is out
};

using self_ptr = future_actor::stateful_pointer<FutureState>;

void deliver(self_ptr self, const Listener& l) {
  const auto& st = self->state;
  if (l.dependent) {
    caf::anon_send(caf::actor_cast<future_actor>(l.dependent), dep_done_atom::value, l.slot,
                   st.outcome);
  } else if (auto core = l.core.lock()) {
    core->complete(st.outcome.status, st.outcome.value, st.outcome.error);
  }
}

/// Publishes the final outcome to every subscriber.
void finish(self_ptr self, Outcome out) {
  auto& st = self->state;
  if (is_final(st.status)) return;
  if (out.status == Status::cancelled && !out.error)
    out.error = std::make_exception_ptr(CancelledError(st.key));
  st.status = out.status;
  st.outcome = std::move(out);
  st.fn = nullptr;
  st.inputs.clear();
  auto listeners = std::move(st.listeners);
  st.listeners.clear();
  for (const auto& l : listeners) deliver(self, l);
}

void quit_when_idle(self_ptr self) {
  if (!self->state.job) self->quit();
}

}  // namespace

std::size_t live_future_actors() noexcept { return g_live.load(std::memory_order_relaxed); }

future_actor spawn_future(caf::actor_system& sys, FutureInit init) {
  return sys.spawn([init = std::move(init)](self_ptr self) mutable -> future_actor::behavior_type {
    auto& st = self->state;
    st.key = std::move(init.key);
    st.scheduler = std::move(init.scheduler);
    st.job = std::move(init.job);
    st.fn = std::move(init.fn);
    st.missing = init.inputs;
    st.inputs.resize(init.inputs);
    st.priority = init.priority;
    st.retries = init.retries;
    st.seq = init.seq;
    st.deadline = init.deadline;
    st.listeners = std::move(init.listeners);
    if (init.outcome) finish(self, std::move(*init.outcome));
    if (st.deadline && !is_final(st.status)) {
      auto left = *st.deadline - std::chrono::steady_clock::now();
      self->delayed_send(self, std::max(left, decltype(left)::zero()), deadline_atom::value);
    }
    return {
        [self](subscribe_atom, Listener& l) {
          if (is_final(self->state.status))
            deliver(self, l);
          else
            self->state.listeners.push_back(std::move(l));
        },
        [self](dep_done_atom, std::size_t slot, Outcome& dep) {
          auto& st = self->state;
          if (is_final(st.status) || st.quitting) return;
          if (dep.status != Status::finished) {
            // An input erred or was cancelled: this task fails the same way (Dask).
            finish(self, dep);
            self->send(st.scheduler, done_atom::value, st.key, SIZE_MAX, st.status);
            return;
          }
          st.inputs[slot] = std::move(dep.value);
          if (--st.missing > 0) return;
          auto job = std::make_shared<Job>();
          job->key = st.key;
          job->fn = std::move(st.fn);
          job->inputs = std::move(st.inputs);
          job->owner = caf::actor_cast<future_actor>(self);
          job->priority = st.priority;
          job->seq = st.seq;
          job->retries_left = st.retries;
          job->deadline = st.deadline;
          st.job = job;
          self->send(st.scheduler, ready_atom::value, std::move(job));
        },
        [self](job_done_atom, JobPtr& job, Outcome& out) {
          auto& st = self->state;
          if (job != st.job) return;  // not ours (cannot happen) or already handled
          const std::size_t worker = job->worker;
          const bool retry = out.status == Status::error && job->retries_left > 0 &&
                             !st.quitting && !is_final(st.status);
          if (retry) {
            --job->retries_left;
            job->worker = SIZE_MAX;
            job->phase.store(JobPhase::queued, std::memory_order_release);
            self->send(st.scheduler, done_atom::value, st.key, worker, Status::pending);
            self->send(st.scheduler, ready_atom::value, std::move(job));
            return;
          }
          st.job = nullptr;
          finish(self, std::move(out));
          self->send(st.scheduler, done_atom::value, st.key, worker, st.status);
          if (st.quitting) self->quit();
        },
        [self](cancel_atom) {
          auto& st = self->state;
          st.quitting = true;
          if (st.job) st.job->cancel();
          finish(self, Outcome{Status::cancelled, nullptr, nullptr});
          quit_when_idle(self);
        },
        [self](deadline_atom) {
          // Work that has not started by its deadline never starts. If the job is out,
          // it comes back through job_done as usual; started work runs on.
          auto& st = self->state;
          if (is_final(st.status)) return;
          if (st.job) {
            auto expected = JobPhase::queued;
            if (!st.job->phase.compare_exchange_strong(expected, JobPhase::cancelled)) return;
          }
          finish(self, Outcome{Status::cancelled, nullptr,
                               std::make_exception_ptr(CancelledError(st.key + " (deadline passed before it started)"))});
          self->send(st.scheduler, done_atom::value, st.key, SIZE_MAX, st.status);
        },
        [self](release_atom) {
          auto& st = self->state;
          st.quitting = true;
          if (st.job) st.job->cancel();
          quit_when_idle(self);
        },
        [self](shutdown_atom) {
          auto& st = self->state;
          if (st.job) st.job->cancel();
          finish(self, Outcome{Status::cancelled, nullptr, nullptr});
          self->quit();
        },
    };
  });
}

}  // namespace cask::detail
