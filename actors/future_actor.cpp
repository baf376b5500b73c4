#include "actors/future_actor.hpp"

#include <algorithm>
#include <chrono>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cask/errors.hpp"

namespace cask::detail {
namespace {

std::atomic<std::size_t> g_live{0};

// Class-based, so that its construction consumes the FutureInit: a function-based actor
// spawned lazily keeps its spawn closure (and a copy of everything in it) until it first
// runs, which for most futures is never.
class FutureActor : public future_actor::base {
 public:
  FutureActor(caf::actor_config& cfg, FutureInit& init)
      : future_actor::base(cfg),
        key_(std::move(init.key)),
        scheduler_(std::move(init.scheduler)),
        listeners_(std::move(init.listeners)),
        job_(std::move(init.job)),
        fn_(std::move(init.fn)),
        inputs_(init.inputs),
        missing_(init.inputs),
        priority_(init.priority),
        retries_(init.retries),
        seq_(init.seq),
        deadline_(init.deadline),
        preset_(std::move(init.outcome)) {
    g_live.fetch_add(1, std::memory_order_relaxed);
  }
  ~FutureActor() override { g_live.fetch_sub(1, std::memory_order_relaxed); }

  behavior_type make_behavior() override {
    if (preset_) finish(*std::exchange(preset_, std::nullopt));
    return {
        [this](subscribe_atom, Listener& l) {
          if (is_final(status_))
            deliver(l);
          else
            listeners_.push_back(std::move(l));
        },
        [this](done_atom, Outcome& out) { finish(std::move(out)); },
        [this](dep_done_atom, std::size_t slot, Outcome& dep) { input_done(slot, dep); },
        [this](cancel_atom) {
          finish(Outcome{Status::cancelled, nullptr, nullptr});
          quit();
        },
        [this](shutdown_atom) {
          finish(Outcome{Status::cancelled, nullptr, nullptr});
          quit();
        },
    };
  }

 private:
  void deliver(const Listener& l) {
    if (l.dependent) {
      caf::anon_send(caf::actor_cast<future_actor>(l.dependent), dep_done_atom::value, l.slot, outcome_);
    } else if (auto core = l.core.lock()) {
      core->complete(outcome_.status, outcome_.value, outcome_.error);
    }
  }

  /// Publishes the final outcome to every subscriber, once.
  void finish(Outcome out) {
    if (is_final(status_)) return;
    if (out.status == Status::cancelled && !out.error)
      out.error = std::make_exception_ptr(CancelledError(*key_));
    status_ = out.status;
    outcome_ = std::move(out);
    fn_ = nullptr;
    inputs_.clear();
    auto listeners = std::exchange(listeners_, {});
    for (const auto& l : listeners) deliver(l);
  }

  void input_done(std::size_t slot, Outcome& dep) {
    if (is_final(status_)) return;
    if (dep.status != Status::finished) {
      // An input erred or was cancelled: this task fails the same way (Dask).
      finish(dep);
      send(scheduler_, done_atom::value, *key_, status_);
      return;
    }
    inputs_[slot] = std::move(dep.value);
    if (--missing_ > 0) return;
    auto job = std::make_shared<Job>();
    job->key = key_;
    job->fn = std::move(fn_);
    job->inputs = std::move(inputs_);
    job->priority = priority_;
    job->seq = seq_;
    job->retries_left = retries_;
    job->deadline = deadline_;
    for (const auto& l : listeners_)  // the first handle is the submitter: the slot wakes it
      if (!l.dependent) {
        job->submitter = l.core;
        break;
      }
    job_ = job;
    send(scheduler_, ready_atom::value, std::move(job));
  }

  Key key_;
  scheduler_actor scheduler_;
  Status status_ = Status::pending;
  Outcome outcome_;
  std::vector<Listener> listeners_;
  JobPtr job_;  // the run, once there is one
  // Waiting for inputs: what the job will run once they are all in.
  TaskFn fn_;
  std::vector<Value> inputs_;
  std::size_t missing_ = 0;
  int priority_ = 0;
  int retries_ = 0;
  std::uint64_t seq_ = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline_;  // passed on to the job
  std::optional<Outcome> preset_;  // scatter: final from the start
};

}  // namespace

std::size_t live_future_actors() noexcept { return g_live.load(std::memory_order_relaxed); }

future_actor spawn_future(caf::actor_system& sys, FutureInit init) {
  // lazy_init: not scheduled until its first message. Most futures never get one: their
  // submitter is completed by the worker slot and nobody else subscribes.
  return sys.spawn<FutureActor, caf::lazy_init>(init);
}

}  // namespace cask::detail
