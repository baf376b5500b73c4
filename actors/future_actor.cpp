#include "actors/future_actor.hpp"

#include <algorithm>
#include <chrono>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
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
  JobPtr job;  // the run, once there is one (for the deadline)
  // Waiting for inputs: what the job will run once they are all in.
  TaskFn fn;
  std::vector<Value> inputs;
  std::size_t missing = 0;
  int priority = 0;
  int retries = 0;
  std::uint64_t seq = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
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

/// Publishes the final outcome to every subscriber, once.
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

/// The first listener is the handle that submitted the task (if it still lived then).
std::weak_ptr<FutureCore> submitter_of(const FutureState& st) {
  for (const auto& l : st.listeners)
    if (!l.dependent) return l.core;
  return {};
}

}  // namespace

std::size_t live_future_actors() noexcept { return g_live.load(std::memory_order_relaxed); }

namespace {
future_actor::behavior_type future_main(self_ptr self, std::shared_ptr<FutureInit> args) {
  {
    FutureInit& init = *args;
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
  }
  return {
        [self](subscribe_atom, Listener& l) {
          if (is_final(self->state.status))
            deliver(self, l);
          else
            self->state.listeners.push_back(std::move(l));
        },
        [self](done_atom, Outcome& out) { finish(self, std::move(out)); },
        [self](dep_done_atom, std::size_t slot, Outcome& dep) {
          auto& st = self->state;
          if (is_final(st.status)) return;
          if (dep.status != Status::finished) {
            // An input erred or was cancelled: this task fails the same way (Dask).
            finish(self, dep);
            self->send(st.scheduler, done_atom::value, st.key, st.status);
            return;
          }
          st.inputs[slot] = std::move(dep.value);
          if (--st.missing > 0) return;
          auto job = std::make_shared<Job>();
          job->key = st.key;
          job->fn = std::move(st.fn);
          job->inputs = std::move(st.inputs);
          job->priority = st.priority;
          job->seq = st.seq;
          job->retries_left = st.retries;
          job->deadline = st.deadline;
          job->submitter = submitter_of(st);
          st.job = job;
          self->send(st.scheduler, ready_atom::value, std::move(job));
        },
        [self](cancel_atom) {
          finish(self, Outcome{Status::cancelled, nullptr, nullptr});
          self->quit();
        },
        [self](deadline_atom) {
          // Work that has not started by its deadline never starts; started work runs on.
          auto& st = self->state;
          if (is_final(st.status)) return;
          if (st.job) {
            auto expected = JobPhase::queued;
            if (!st.job->phase.compare_exchange_strong(expected, JobPhase::cancelled)) return;
          }
          finish(self, Outcome{Status::cancelled, nullptr,
                               std::make_exception_ptr(CancelledError(st.key + " (deadline passed before it started)"))});
          self->send(st.scheduler, done_atom::value, st.key, Status::cancelled);
        },
        [self](shutdown_atom) {
          finish(self, Outcome{Status::cancelled, nullptr, nullptr});
          self->quit();
        },
  };
}
}  // namespace

future_actor spawn_future(caf::actor_system& sys, FutureInit init) {
  const bool eager = init.deadline.has_value();
  // Passed by pointer: CAF moves and wraps spawn arguments several times.
  auto args = std::make_shared<FutureInit>(std::move(init));
  // lazy_init: not scheduled until its first message. Most futures never get one: their
  // submitter is completed by the worker slot and nobody else subscribes. A future with
  // a deadline starts at once, to arm its deadline timer.
  if (eager) return sys.spawn(future_main, std::move(args));
  return sys.spawn<caf::lazy_init>(future_main, std::move(args));
}

}  // namespace cask::detail
