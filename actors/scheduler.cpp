#include "actors/scheduler.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/future_actor.hpp"
#include "cask/errors.hpp"

namespace cask::detail {
namespace {

// Jobs a worker may hold beyond its slots, so that a slot finishing a job finds the next
// one already queued instead of waiting a scheduler round trip.
constexpr long kPrefetchPerSlot = 2;

enum class TaskState { waiting, queued, processing, finished, erred };

struct Entry {
  future_actor actor;
  TaskState state = TaskState::waiting;
  std::vector<std::uintptr_t> holders;  // client handles that reference this key
  std::size_t dependents = 0;           // unfinished tasks that need this key's value
  bool fire_and_forget = false;         // wanted until final, whoever holds it
  std::vector<std::string> deps;        // keys this one counts as a dependent of
};

struct Worker {
  worker_actor actor;
  std::size_t slots = 1;
  long capacity = 0;  // jobs it may hold: slots * (1 + prefetch) + seceded slots
  long in_flight = 0;
};

struct SchedulerState {
  std::unordered_map<std::string, Entry> tasks;
  std::priority_queue<JobPtr, std::vector<JobPtr>, JobOrder> ready;
  std::vector<Worker> workers;
  std::uint64_t next_seq = 0;
  std::size_t fire_and_forget_pending = 0;
  std::vector<caf::typed_response_promise<bool>> drain_waiters;
};

using self_ptr = scheduler_actor::stateful_pointer<SchedulerState>;

bool is_final_state(TaskState s) { return s == TaskState::finished || s == TaskState::erred; }

void forget(self_ptr self, const std::string& key, bool cancel);

/// Drops one dependent-reference of `key`; forgets it when nobody wants it any more.
void drop_dependent(self_ptr self, const std::string& key) {
  auto it = self->state.tasks.find(key);
  if (it == self->state.tasks.end()) return;
  auto& e = it->second;
  if (e.dependents > 0) --e.dependents;
  if (e.holders.empty() && e.dependents == 0 && !e.fire_and_forget) forget(self, key, false);
}

/// Removes `key` from the table. Its actor cancels unfinished work and quits; the
/// dependent-references it held on its own inputs are dropped.
void forget(self_ptr self, const std::string& key, bool cancel) {
  auto it = self->state.tasks.find(key);
  if (it == self->state.tasks.end()) return;
  Entry e = std::move(it->second);
  self->state.tasks.erase(it);
  if (e.fire_and_forget && !is_final_state(e.state)) --self->state.fire_and_forget_pending;
  if (cancel)
    self->send(e.actor, cancel_atom::value);
  else
    self->send(e.actor, release_atom::value);
  for (const auto& d : e.deps) drop_dependent(self, d);
}

void answer_drain_waiters(self_ptr self) {
  auto& st = self->state;
  if (st.fire_and_forget_pending != 0) return;
  for (auto& rp : st.drain_waiters) rp.deliver(true);
  st.drain_waiters.clear();
}

/// Hands ready jobs to the workers with the most spare capacity.
void dispatch(self_ptr self) {
  auto& st = self->state;
  while (!st.ready.empty()) {
    Worker* best = nullptr;
    for (auto& w : st.workers)
      if (w.in_flight < w.capacity && (!best || w.capacity - w.in_flight > best->capacity - best->in_flight))
        best = &w;
    if (!best) return;
    JobPtr job = st.ready.top();
    st.ready.pop();
    if (job->phase.load(std::memory_order_acquire) == JobPhase::cancelled) {
      // Cancelled while queued here: it goes straight back to its future actor.
      caf::anon_send(job->owner, job_done_atom::value, job, Outcome{Status::cancelled, nullptr, nullptr});
      continue;
    }
    job->worker = static_cast<std::size_t>(best - st.workers.data());
    ++best->in_flight;
    if (auto it = st.tasks.find(job->key); it != st.tasks.end()) it->second.state = TaskState::processing;
    self->send(best->actor, execute_atom::value, std::move(job));
  }
}

void add_holder(self_ptr self, Entry& e, const std::weak_ptr<FutureCore>& handle, std::uintptr_t holder) {
  if (handle.expired()) return;  // already dropped; its release message follows
  e.holders.push_back(holder);
  self->send(e.actor, subscribe_atom::value, Listener{handle, nullptr, 0});
}

void submit(self_ptr self, Submission& s) {
  auto& st = self->state;
  auto& spec = s.spec;
  if (auto it = st.tasks.find(spec.key); it != st.tasks.end()) {
    add_holder(self, it->second, s.handle, s.holder);  // same key: share the computation
    return;
  }
  // Inputs: each must still be in the table (a cancelled one makes this task cancelled).
  std::vector<Entry*> inputs;
  inputs.reserve(spec.deps.size());
  for (const auto& dep : spec.deps) {
    auto it = st.tasks.find(dep->key());
    if (it == st.tasks.end()) {
      if (auto core = s.handle.lock())
        core->complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(dep->key())));
      return;
    }
    inputs.push_back(&it->second);
  }
  Entry e;
  FutureInit init;
  init.key = spec.key;
  init.scheduler = self;
  init.seq = st.next_seq++;
  init.deadline = spec.deadline;
  if (auto core = s.handle.lock()) {
    init.listeners.push_back(Listener{s.handle, nullptr, 0});
    e.holders.push_back(s.holder);
  }
  JobPtr job;
  if (inputs.empty()) {
    job = std::make_shared<Job>();
    job->key = spec.key;
    job->fn = std::move(spec.fn);
    job->priority = spec.priority;
    job->seq = init.seq;
    job->retries_left = spec.retries;
    job->deadline = spec.deadline;
    init.job = job;
    e.state = TaskState::queued;
  } else {
    init.fn = std::move(spec.fn);
    init.inputs = inputs.size();
    init.priority = spec.priority;
    init.retries = spec.retries;
    e.state = TaskState::waiting;
  }
  e.actor = spawn_future(self->system(), std::move(init));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    ++inputs[i]->dependents;
    e.deps.push_back(spec.deps[i]->key());
    // Sent by the scheduler, so it reaches the input before any later cancel/release.
    self->send(inputs[i]->actor, subscribe_atom::value,
               Listener{{}, caf::actor_cast<caf::strong_actor_ptr>(e.actor), i});
  }
  if (job) {
    job->owner = e.actor;
    st.ready.push(std::move(job));
  }
  const bool unwanted = e.holders.empty();
  auto key = spec.key;
  st.tasks.emplace(key, std::move(e));
  if (unwanted) forget(self, key, true);  // its only handle is already gone
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& sys, std::vector<WorkerInfo> infos) {
  return sys.spawn([infos = std::move(infos)](self_ptr self) -> scheduler_actor::behavior_type {
    for (const auto& w : infos)
      self->state.workers.push_back(Worker{w.actor, w.slots,
                                           static_cast<long>(w.slots) * (1 + kPrefetchPerSlot), 0});
    return {
        [self](submit_atom, SubmissionBatch& batch) {
          for (auto& s : *batch) submit(self, s);
          dispatch(self);
        },
        [self](scatter_atom, std::string& key, Outcome& value, std::weak_ptr<FutureCore>& handle,
               std::uintptr_t holder) {
          auto& st = self->state;
          if (auto it = st.tasks.find(key); it != st.tasks.end()) {
            add_holder(self, it->second, handle, holder);
            return;
          }
          if (handle.expired()) return;
          FutureInit init;
          init.key = key;
          init.scheduler = self;
          init.outcome = std::move(value);
          init.listeners.push_back(Listener{handle, nullptr, 0});
          Entry e;
          e.state = TaskState::finished;
          e.holders.push_back(holder);
          e.actor = spawn_future(self->system(), std::move(init));
          st.tasks.emplace(std::move(key), std::move(e));
        },
        [self](ready_atom, JobPtr& job) {
          if (auto it = self->state.tasks.find(job->key); it != self->state.tasks.end())
            it->second.state = TaskState::queued;
          self->state.ready.push(std::move(job));
          dispatch(self);
        },
        [self](done_atom, std::string& key, std::size_t worker, Status status) {
          auto& st = self->state;
          if (worker < st.workers.size()) --st.workers[worker].in_flight;
          if (is_final(status)) {
            auto it = st.tasks.find(key);
            // The key may have been forgotten, or even resubmitted to a new actor.
            if (it != st.tasks.end() &&
                caf::actor_cast<caf::strong_actor_ptr>(it->second.actor) == self->current_sender()) {
              auto& e = it->second;
              if (e.fire_and_forget) {
                e.fire_and_forget = false;
                --st.fire_and_forget_pending;
              }
              e.state = status == Status::finished ? TaskState::finished : TaskState::erred;
              auto deps = std::move(e.deps);
              e.deps.clear();
              const bool unwanted = e.holders.empty() && e.dependents == 0;
              if (status == Status::cancelled || unwanted) forget(self, key, false);
              for (const auto& d : deps) drop_dependent(self, d);
              answer_drain_waiters(self);
            }
          }
          dispatch(self);
        },
        [self](release_atom, std::string& key, std::uintptr_t holder) {
          auto it = self->state.tasks.find(key);
          if (it == self->state.tasks.end()) return;
          auto& e = it->second;
          auto h = std::find(e.holders.begin(), e.holders.end(), holder);
          if (h == e.holders.end()) return;  // a handle of an earlier, forgotten task
          e.holders.erase(h);
          if (e.holders.empty() && e.dependents == 0 && !e.fire_and_forget) {
            forget(self, key, !is_final_state(e.state));
            answer_drain_waiters(self);
          }
        },
        [self](cancel_atom, std::string& key) {
          auto it = self->state.tasks.find(key);
          if (it == self->state.tasks.end() || is_final_state(it->second.state)) return;
          forget(self, key, true);
          answer_drain_waiters(self);
        },
        [self](forget_atom, std::vector<std::string>& keys) {
          auto& st = self->state;
          for (const auto& key : keys) {
            auto it = st.tasks.find(key);
            if (it == st.tasks.end() || it->second.fire_and_forget || is_final_state(it->second.state))
              continue;
            it->second.fire_and_forget = true;
            ++st.fire_and_forget_pending;
          }
        },
        [self](capacity_atom, std::size_t worker, int delta) {
          if (worker < self->state.workers.size()) self->state.workers[worker].capacity += delta;
          dispatch(self);
        },
        [self](stats_atom) {
          ClusterStats s;
          for (const auto& [key, e] : self->state.tasks) {
            switch (e.state) {
              case TaskState::waiting: ++s.waiting; break;
              case TaskState::queued: ++s.queued; break;
              case TaskState::processing: ++s.processing; break;
              case TaskState::finished: ++s.finished; break;
              case TaskState::erred: ++s.erred; break;
            }
          }
          s.workers = self->state.workers.size();
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
          for (auto& [key, e] : st.tasks) self->send(e.actor, shutdown_atom::value);
          st.tasks.clear();
          while (!st.ready.empty()) st.ready.pop();
          for (auto& w : st.workers) self->send(w.actor, shutdown_atom::value);
          for (auto& rp : st.drain_waiters) rp.deliver(false);
          st.drain_waiters.clear();
          self->quit();
          return true;
        },
    };
  });
}

}  // namespace cask::detail
