#include "actors/scheduler.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/future_actor.hpp"
#include "actors/registry.hpp"
#include "cask/errors.hpp"

namespace cask::detail {
namespace {

// Jobs a worker may hold beyond its slots, so that a slot finishing a job finds the next
// one already queued instead of waiting for a scheduler round trip. Only jobs known to be
// short, for workers whose recent tasks are short: a job queued behind a long task would
// wait for it while another worker idles ("a task starts as soon as a worker is free").
constexpr long kPrefetchPerSlot = 2;
constexpr auto kShortTask = std::chrono::microseconds(500);
// Run-time estimates kept per task group; a program naming each task differently would
// grow the table without end, so it starts afresh at this size.
constexpr std::size_t kMaxGroups = 10000;

/// A task's group: its key up to the last '-' ("inc-5f3a…" is in "inc"), as Dask's task
/// prefixes: tasks of one group tend to take about as long.
std::string_view group_of(std::string_view key) {
  const auto dash = key.rfind('-');
  return dash == std::string_view::npos ? key : key.substr(0, dash);
}

/// Mean run times by task group, looked up without building a string.
class GroupDurations {
 public:
  void observe(std::string_view key, std::chrono::nanoseconds run) {
    const std::string_view group = group_of(key);
    const double ns = static_cast<double>(run.count());
    auto it = means_.find(group);
    if (it == means_.end()) {
      if (means_.size() >= kMaxGroups) means_.clear();
      means_.emplace(std::string(group), ns);
      return;
    }
    it->second = 0.8 * it->second + 0.2 * ns;
  }
  /// True when the key's group has run and its tasks were short.
  bool known_short(std::string_view key) const {
    auto it = means_.find(group_of(key));
    return it != means_.end() && it->second < static_cast<double>(std::chrono::nanoseconds(kShortTask).count());
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, double, Hash, std::equal_to<>> means_;
};

struct Entry {
  Key key;  // the table is keyed by a view of this string
  future_actor actor;
  JobPtr job;                           // the current run; keeps the outcome once final
  Status status = Status::pending;      // pending, finished or error (cancelled: forgotten)
  std::vector<std::uintptr_t> holders;  // client handles that reference this key
  std::size_t dependents = 0;           // unfinished tasks that need this key's value
  bool fire_and_forget = false;         // wanted until final, whoever holds it
  bool actor_listens = false;           // the actor has subscribers: send it the outcome
  bool actor_informed = false;          // the actor has the outcome
  std::vector<Key> deps;                // keys this one counts as a dependent of
};

struct Worker {
  worker_actor actor;
  std::size_t slots = 1;
  long capacity = 0;  // slots, plus slots given back by seceded tasks
  long in_flight = 0;
  double mean_run_ns = -1;     // moving average of its tasks' run times; < 0: none yet
  std::vector<JobPtr> outbox;  // filled by dispatch, sent as one message

  long limit() const {
    const bool short_tasks = mean_run_ns >= 0 && mean_run_ns < std::chrono::nanoseconds(kShortTask).count();
    return capacity + (short_tasks ? static_cast<long>(slots) * kPrefetchPerSlot : 0);
  }
  void observe(std::chrono::nanoseconds run) {
    const double ns = static_cast<double>(run.count());
    mean_run_ns = mean_run_ns < 0 ? ns : 0.8 * mean_run_ns + 0.2 * ns;
  }
};

struct SchedulerState {
  std::unordered_map<std::string_view, Entry> tasks;
  std::priority_queue<QueuedJob, std::vector<QueuedJob>, JobOrder> ready;
  std::vector<Worker> workers;
  GroupDurations durations;
  std::uint64_t next_seq = 0;
  std::size_t fire_and_forget_pending = 0;
  bool dispatch_pending = false;
  std::vector<caf::typed_response_promise<bool>> drain_waiters;
  Registry registry;  // coordination objects and named actors
};

using self_ptr = scheduler_actor::stateful_pointer<SchedulerState>;
using TaskIt = std::unordered_map<std::string_view, Entry>::iterator;

/// Placement runs once per burst of messages: a dispatch message to itself queues behind
/// what is already in the mailbox, so many completions are answered by one execute each.
void request_dispatch(self_ptr self) {
  if (self->state.dispatch_pending) return;
  self->state.dispatch_pending = true;
  self->send(self, dispatch_atom::value);
}

void dispatch(self_ptr self) {
  auto& st = self->state;
  // A free slot goes first, the most free prefetch room second: a job prefetched behind a
  // running one waits for it, while on a free slot it starts now (without the first rule,
  // a worker whose last tasks were short took the next two jobs, though another was idle).
  // A job of a group not known to be short goes to a free slot only: before this rule, a
  // blocking task was sent behind another one while a worker whose completion had not been
  // read yet went idle (this scheduler does not steal).
  const auto room = [](const Worker& w) { return std::pair(w.capacity - w.in_flight, w.limit() - w.in_flight); };
  const auto pick = [&](bool beyond_slots) {
    Worker* best = nullptr;
    for (auto& w : st.workers)
      if (w.in_flight < (beyond_slots ? w.limit() : w.capacity) && (!best || room(w) > room(*best))) best = &w;
    return best;
  };
  while (!st.ready.empty()) {
    // The group's run time matters (and is looked up) only when every slot is busy.
    Worker* best = pick(false);
    if (!best && st.durations.known_short(*st.ready.top().job->key)) best = pick(true);
    if (!best) break;
    JobPtr job = st.ready.top().job;
    st.ready.pop();
    if (job->phase.load(std::memory_order_acquire) == JobPhase::cancelled) continue;
    job->worker = static_cast<std::size_t>(best - st.workers.data());
    ++best->in_flight;
    best->outbox.push_back(std::move(job));
  }
  for (auto& w : st.workers)
    if (!w.outbox.empty()) self->send(w.actor, execute_atom::value, std::exchange(w.outbox, {}));
}

void answer_drain_waiters(self_ptr self) {
  auto& st = self->state;
  if (st.fire_and_forget_pending != 0) return;
  for (auto& rp : st.drain_waiters) rp.deliver(true);
  st.drain_waiters.clear();
}

bool unwanted(const Entry& e) { return e.holders.empty() && e.dependents == 0 && !e.fire_and_forget; }

void forget(self_ptr self, TaskIt it);

/// Drops one dependent-reference of `key`; forgets it when nobody wants it any more.
void drop_dependent(self_ptr self, std::string_view key) {
  auto it = self->state.tasks.find(key);
  if (it == self->state.tasks.end()) return;
  auto& e = it->second;
  if (e.dependents > 0) --e.dependents;
  if (unwanted(e)) forget(self, it);
}

/// Removes `key` from the table. Unfinished work is cancelled (its actor tells its
/// subscribers); a finished task's actor is left to CAF, which collects it as
/// unreachable once no handle points to it. Dependent-references on its inputs drop.
void forget(self_ptr self, TaskIt it) {
  Entry e = std::move(it->second);
  self->state.tasks.erase(it);
  if (e.status == Status::pending) {
    if (e.fire_and_forget) --self->state.fire_and_forget_pending;
    if (e.job) e.job->cancel();
    self->send(e.actor, cancel_atom::value);
  }
  for (const auto& d : e.deps) drop_dependent(self, *d);
  answer_drain_waiters(self);
}

/// Subscribes `l` to the entry's actor, first giving the actor the outcome it was
/// spared while nobody listened.
void subscribe(self_ptr self, Entry& e, Listener l) {
  if (e.status != Status::pending && !e.actor_informed) {
    self->send(e.actor, done_atom::value, e.job->outcome);
    e.actor_informed = true;
  }
  e.actor_listens = true;
  self->send(e.actor, subscribe_atom::value, std::move(l));
}

// A handle's release message always follows its submit, even when the handle is gone by
// the time the submit is read, so every submission counts as a holder until released.
void add_holder(self_ptr self, Entry& e, const std::weak_ptr<FutureCore>& handle, std::uintptr_t holder) {
  e.holders.push_back(holder);
  if (!handle.expired()) subscribe(self, e, Listener{handle, nullptr, 0});
}

/// The task reached finished or error: settle fire_and_forget, inputs and the table.
void settle(self_ptr self, TaskIt it, Status status) {
  Entry& e = it->second;
  e.status = status;
  if (e.fire_and_forget) {
    e.fire_and_forget = false;
    --self->state.fire_and_forget_pending;
  }
  auto deps = std::move(e.deps);
  e.deps.clear();
  if (unwanted(e)) forget(self, it);
  for (const auto& d : deps) drop_dependent(self, *d);
  answer_drain_waiters(self);
}

/// Tells the scheduler when an adopted input (an actor call's future) is final. Holds the
/// core until then: the dependent may have been given the only handle (a temporary).
class AdoptedInput : public Subscriber {
 public:
  AdoptedInput(scheduler_actor scheduler, CorePtr core) : scheduler_(std::move(scheduler)), core_(std::move(core)) {}
  void on_complete(std::size_t) override {
    const auto& c = *core_;
    caf::anon_send(scheduler_, adopted_atom::value, c.shared_key(), Outcome{c.status(), c.value(), c.exception()});
  }

 private:
  scheduler_actor scheduler_;
  CorePtr core_;  // a cycle through the core's listener list, broken when it completes
};

/// An actor call's future runs outside the task table (its actor runs it). Used as an
/// input, it gets an entry here that follows the call's outcome, so that dependents wait
/// for it like for any task.
void adopt(self_ptr self, const CorePtr& core) {
  Entry e;
  e.key = core->shared_key();
  FutureInit init;
  init.key = e.key;
  init.scheduler = self;
  e.actor = spawn_future(self->system(), std::move(init));
  const std::string_view view = *e.key;
  self->state.tasks.emplace(view, std::move(e));
  core->subscribe(std::make_shared<AdoptedInput>(self, core), 0);
}

void submit(self_ptr self, Submission& s) {
  auto& st = self->state;
  auto& spec = s.spec;
  for (const auto& dep : spec.deps)
    if (dep->is_direct() && !st.tasks.count(dep->key())) adopt(self, dep);
  auto [slot, fresh] = st.tasks.try_emplace(std::string_view(*s.key));
  if (!fresh) {
    add_holder(self, slot->second, s.handle, s.holder);  // same key: share the computation
    return;
  }
  slot->second.key = s.key;  // the table's key views this string
  auto refuse = [&](const std::string& why) {
    st.tasks.erase(slot);
    if (auto core = s.handle.lock())
      core->complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(why)));
  };
  if (spec.deadline && *spec.deadline <= std::chrono::steady_clock::now())
    return refuse(*s.key + " (deadline already passed)");
  // Inputs: each must still be in the table (a cancelled one makes this task cancelled).
  std::vector<Key> input_keys;
  input_keys.reserve(spec.deps.size());
  for (const auto& dep : spec.deps) {
    if (!st.tasks.count(dep->key())) return refuse(dep->key());  // an input was cancelled
    input_keys.push_back(dep->shared_key());
  }
  Entry& e = slot->second;
  FutureInit init;
  init.key = s.key;
  init.scheduler = self;
  init.seq = st.next_seq++;
  init.deadline = spec.deadline;
  if (spec.deadline) {
    // The timer is the scheduler's own delayed message: a delayed message pins its
    // receiver, and the scheduler, unlike a future actor, is stopped explicitly.
    auto left = *spec.deadline - std::chrono::steady_clock::now();
    self->delayed_send(self, std::max(left, decltype(left)::zero()), deadline_atom::value, s.key);
  }
  init.listeners.push_back(Listener{s.handle, nullptr, 0});
  e.holders.push_back(s.holder);
  if (input_keys.empty()) {
    auto job = std::make_shared<Job>();
    job->key = s.key;
    job->fn = std::move(spec.fn);
    job->priority = spec.priority;
    job->seq = init.seq;
    job->retries_left = spec.retries;
    job->deadline = spec.deadline;
    job->submitter = s.handle;
    init.job = job;
    e.job = job;
  } else {
    init.fn = std::move(spec.fn);
    init.inputs = input_keys.size();
    init.priority = spec.priority;
    init.retries = spec.retries;
  }
  e.actor = spawn_future(self->system(), std::move(init));
  if (e.job) {
    st.ready.emplace(e.job);
    request_dispatch(self);
  }
  for (std::size_t i = 0; i < input_keys.size(); ++i) {
    auto& input = st.tasks.at(*input_keys[i]);
    ++input.dependents;
    // Sent by the scheduler, so it reaches the input before any later cancel.
    subscribe(self, input, Listener{{}, caf::actor_cast<caf::strong_actor_ptr>(e.actor), i});
  }
  e.deps = std::move(input_keys);
}

/// Answers the cancelling handle at once with the truth: cancelled, or the outcome the
/// task already had (cancelling a finished task changes nothing).
void cancel_one(self_ptr self, const Cancellation& c) {
  auto core = c.canceller.lock();
  const std::string& key = *c.key;
  auto it = self->state.tasks.find(key);
  if (it == self->state.tasks.end()) {
    if (core) core->complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(key)));
    return;
  }
  auto& e = it->second;
  const bool ended = e.status != Status::pending || (e.job && e.job->published.load(std::memory_order_acquire));
  if (!ended) {
    if (core) core->complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(key)));
    forget(self, it);
  } else if (core && e.job) {
    core->complete(e.job->outcome.status, e.job->outcome.value, e.job->outcome.error);
  } else if (core) {
    subscribe(self, e, Listener{c.canceller, nullptr, 0});
  }
}

/// The entry for `key` if it still belongs to the actor that sent the current message.
Entry* entry_of_sender(self_ptr self, std::string_view key) {
  auto it = self->state.tasks.find(key);
  if (it == self->state.tasks.end()) return nullptr;
  if (caf::actor_cast<caf::strong_actor_ptr>(it->second.actor) != self->current_sender()) return nullptr;
  return &it->second;
}

scheduler_actor::behavior_type scheduler_main(self_ptr self, std::vector<WorkerInfo> infos) {
    for (const auto& w : infos)
      self->state.workers.push_back(Worker{w.actor, w.slots, static_cast<long>(w.slots), 0, -1, {}});
    return {
        [self](submit_atom, SubmissionBatch& batch) {
          for (auto& s : *batch) submit(self, s);
        },
        [self](scatter_atom, Key& key, Outcome& value, std::weak_ptr<FutureCore>& handle,
               std::uintptr_t holder) {
          auto& st = self->state;
          if (auto it = st.tasks.find(*key); it != st.tasks.end()) {
            add_holder(self, it->second, handle, holder);
            return;
          }
          FutureInit init;
          init.key = key;
          init.scheduler = self;
          init.outcome = std::move(value);
          init.listeners.push_back(Listener{handle, nullptr, 0});
          Entry e;
          e.status = Status::finished;
          e.actor_informed = true;
          e.holders.push_back(holder);
          e.actor = spawn_future(self->system(), std::move(init));
          e.key = std::move(key);
          const std::string_view view = *e.key;
          st.tasks.emplace(view, std::move(e));
        },
        [self](ready_atom, JobPtr& job) {
          auto* e = entry_of_sender(self, *job->key);
          if (!e) return;
          e->job = job;
          self->state.ready.emplace(std::move(job));
          request_dispatch(self);
        },
        [self](job_done_atom, JobPtr& job) {
          auto& st = self->state;
          if (job->worker < st.workers.size()) {
            auto& w = st.workers[job->worker];
            --w.in_flight;
            if (job->outcome.status != Status::cancelled) {
              w.observe(job->run_time);
              st.durations.observe(*job->key, job->run_time);
            }
            request_dispatch(self);
          }
          auto it = st.tasks.find(*job->key);
          if (it == st.tasks.end() || it->second.job != job) return;  // forgotten meanwhile
          auto& e = it->second;
          const Outcome& out = job->outcome;
          if (out.status == Status::cancelled) {  // did not start by its deadline
            forget(self, it);
            return;
          }
          if (out.status == Status::error && job->retries_left > 0) {
            --job->retries_left;
            job->worker = SIZE_MAX;
            job->outcome = Outcome{};
            job->phase.store(JobPhase::queued, std::memory_order_release);
            st.ready.emplace(job);
            request_dispatch(self);
            return;
          }
          if (e.actor_listens) {
            self->send(e.actor, done_atom::value, out);
            e.actor_informed = true;
          }
          settle(self, it, out.status);
        },
        [self](done_atom, std::string& key, Status status) {
          // From a future actor: an input failed, or the deadline passed before it ran.
          auto it = self->state.tasks.find(key);
          if (it == self->state.tasks.end() ||
              caf::actor_cast<caf::strong_actor_ptr>(it->second.actor) != self->current_sender())
            return;
          it->second.actor_informed = true;
          if (status == Status::cancelled)
            forget(self, it);
          else
            settle(self, it, status);
        },
        [self](deadline_atom, Key& key) {
          // Work that has not started by its deadline never starts; started work runs on.
          auto it = self->state.tasks.find(*key);
          if (it == self->state.tasks.end() || it->second.key != key) return;  // another task now
          auto& e = it->second;
          if (e.status != Status::pending) return;
          if (e.job) {
            auto expected = JobPhase::queued;
            if (!e.job->phase.compare_exchange_strong(expected, JobPhase::cancelled)) return;
          }
          forget(self, it);
        },
        [self](dispatch_atom) {
          self->state.dispatch_pending = false;
          dispatch(self);
        },
        [self](release_atom, Key& key, std::uintptr_t holder) {
          auto it = self->state.tasks.find(*key);
          if (it == self->state.tasks.end()) return;
          auto& e = it->second;
          auto h = std::find(e.holders.begin(), e.holders.end(), holder);
          if (h == e.holders.end()) return;  // a handle of an earlier, forgotten task
          e.holders.erase(h);
          if (unwanted(e)) forget(self, it);
        },
        [self](cancel_atom, CancelBatch& batch) {
          // First stop every job of the batch, so that a slot freed by cancelling one of
          // them cannot start the next (Dask cancels a list in one message, too).
          for (const auto& c : *batch) {
            auto it = self->state.tasks.find(*c.key);
            if (it != self->state.tasks.end() && it->second.status == Status::pending && it->second.job &&
                !it->second.job->published.load(std::memory_order_acquire)) {
              auto expected = JobPhase::queued;
              it->second.job->phase.compare_exchange_strong(expected, JobPhase::cancelled);
            }
          }
          for (const auto& c : *batch) cancel_one(self, c);
        },
        [self](forget_atom, std::vector<std::string>& keys) {
          auto& st = self->state;
          for (const auto& key : keys) {
            auto it = st.tasks.find(key);
            if (it == st.tasks.end() || it->second.fire_and_forget || it->second.status != Status::pending)
              continue;
            it->second.fire_and_forget = true;
            ++st.fire_and_forget_pending;
          }
        },
        [self](adopted_atom, Key& key, Outcome& out) {
          auto it = self->state.tasks.find(*key);
          if (it == self->state.tasks.end() || it->second.job || it->second.status != Status::pending) return;
          self->send(it->second.actor, done_atom::value, out);
          it->second.actor_informed = true;
          if (out.status == Status::cancelled)
            forget(self, it);
          else
            settle(self, it, out.status);
        },
        [self](open_atom, OpenRequest& req) {
          self->state.registry.open(self, caf::actor_cast<scheduler_actor>(self), req);
        },
        [self](retire_atom, CoordKind kind, std::string& name, std::uint64_t attaches) {
          self->state.registry.retire(kind, name, attaches, self->current_sender());
        },
        [self](name_atom, NameRequest& req) { self->state.registry.name(req); },
        [self](capacity_atom, std::size_t worker, int delta) {
          if (worker < self->state.workers.size()) self->state.workers[worker].capacity += delta;
          request_dispatch(self);
        },
        [self](stats_atom) {
          ClusterStats s;
          for (const auto& [key, e] : self->state.tasks) {
            if (e.status == Status::finished) ++s.finished;
            else if (e.status == Status::error) ++s.erred;
            else if (!e.job) ++s.waiting;
            else if (e.job->worker == SIZE_MAX) ++s.queued;
            else ++s.processing;
          }
          s.workers = self->state.workers.size();
          s.coordination_objects = self->state.registry.objects();
          for (const auto& w : self->state.workers) s.slots += w.slots;
          return s;
        },
        [self](drain_atom) {
          auto rp = self->make_response_promise<bool>();
          self->state.drain_waiters.push_back(rp);
          answer_drain_waiters(self);
          return rp;
        },
        [self](shutdown_atom) {
          auto& st = self->state;
          for (auto& [key, e] : st.tasks) {
            if (e.status != Status::pending) continue;  // its subscribers have their outcome
            if (e.job) e.job->cancel();
            self->send(e.actor, shutdown_atom::value);
          }
          st.tasks.clear();
          while (!st.ready.empty()) st.ready.pop();
          for (auto& w : st.workers) self->send(w.actor, shutdown_atom::value);
          st.registry.shutdown();
          for (auto& rp : st.drain_waiters) rp.deliver(false);
          st.drain_waiters.clear();
          self->quit();
          return true;
        },
    };
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& sys, std::vector<WorkerInfo> workers) {
  return sys.spawn(scheduler_main, std::move(workers));
}

}  // namespace cask::detail
