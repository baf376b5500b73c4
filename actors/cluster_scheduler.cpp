#include "actors/cluster_scheduler.hpp"

#include <algorithm>
#include <map>
#include <queue>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cask/errors.hpp"
#include "cask/remote.hpp"
#include "runtime/log.hpp"

namespace cask::detail {
namespace {

// A worker whose tasks are short holds queued runs beyond its free slots, so that a slot
// that finishes finds the next task there instead of waiting a network round trip: as
// many as take about this long to run (at most kMaxPrefetchPerSlot per slot). A task
// queued behind them waits at most that long while another worker may be idle.
constexpr double kPrefetchWindowNs = 2e6;
constexpr long kMaxPrefetchPerSlot = 256;

enum class TState { waiting, ready, processing, memory, erred, released };

struct Task {
  WireTask spec;
  TState state = TState::waiting;
  std::size_t missing = 0;              // waiting: inputs not in memory
  std::vector<std::string> dependents;  // tasks in the table that take this one's value
  std::size_t pending_dependents = 0;   // ... of which still need it (not yet run)
  bool counted = false;                 // counts in its inputs' pending_dependents
  std::vector<caf::actor> clients;      // clients holding the key
  std::uint32_t object_holds = 0;       // values naming the key inside coordination objects
  bool fire_and_forget = false;
  caf::actor worker;  // processing: where it runs; memory: where the value is
  std::uint64_t run = 0;  // processing: the run sent to `worker`; memory: the run that made the value
  std::uint64_t nbytes = 0;
  std::vector<char> error;  // erred: encode_error bytes
  int failures = 0;         // workers that died while running it
  int retries_left = 0;
  std::uint64_t seq = 0;  // bumped per queueing: stale ready-queue entries are skipped
};

struct Ready {
  std::int32_t priority;
  std::uint64_t seq;
  std::string key;
  bool operator<(const Ready& o) const {  // max-heap: higher priority, then older first
    return priority != o.priority ? priority < o.priority : seq > o.seq;
  }
};

struct WorkerEntry {
  caf::actor handle;
  std::string name;
  std::string endpoint;  // its CAF port, "host:port"
  long slots = 1;
  long capacity = 1;  // slots plus those given back by tasks blocked on cask calls
  long in_flight = 0;
  double mean_run_ns = -1;
  std::unordered_set<std::string> functions;
  std::vector<WireRun> outbox;
  bool steal_pending = false;  // a steal request to it is unanswered
  long promised = 0;           // slots kept free for runs being stolen for it

  std::chrono::steady_clock::time_point last_result{};

  long limit() const {
    if (mean_run_ns < 0) return capacity;  // nothing known yet
    // Busy and silent for longer than the window: what it runs now is long; a task queued
    // behind it would wait while another worker may be free.
    if (in_flight >= capacity &&
        std::chrono::steady_clock::now() - last_result > std::chrono::nanoseconds(long(kPrefetchWindowNs)))
      return capacity;
    const double fits = kPrefetchWindowNs / std::max(mean_run_ns, 1.0);
    return capacity + slots * std::min<long>(kMaxPrefetchPerSlot, static_cast<long>(fits));
  }
};

struct SchedulerState {
  ClusterSchedulerInit init;
  std::unordered_map<std::string, Task> tasks;
  std::priority_queue<Ready> ready;
  std::uint64_t next_seq = 0;
  std::uint64_t next_run = 0;  // WireRun::run of the last run sent
  std::vector<WorkerEntry> workers;
  std::map<std::string, std::string> functions;  // name -> signature, over live workers
  std::vector<caf::actor> clients;
  // Cancelled keys whose futures clients still hold (until they release them): a task
  // submitted later with one as input is cancelled too, as in embedded mode.
  std::unordered_map<std::string, std::vector<caf::actor>> cancelled;
  std::vector<std::pair<caf::actor, std::vector<WireOutcome>>> outbox;
  SchedulerCounters counters;
  cluster_objects_actor objects;  // coordination objects (actors/cluster_objects.hpp)
  // Holds that came before the key's submit (the putter's client sends the submit on
  // another path than its put): applied when the task is created.
  std::unordered_map<std::string, std::uint32_t> early_holds;
};

using self_ptr = cluster_scheduler_actor::stateful_pointer<SchedulerState>;


template <class E>
std::vector<char> error_bytes_of(const std::string& message) {
  return encode_error(std::make_exception_ptr(E(message)));
}

Task* find(self_ptr self, const std::string& key) {
  auto it = self->state.tasks.find(key);
  return it == self->state.tasks.end() ? nullptr : &it->second;
}

WorkerEntry* find_worker(self_ptr self, const caf::actor_addr& addr) {
  for (auto& w : self->state.workers)
    if (w.handle.address() == addr) return &w;
  return nullptr;
}

bool wanted(const Task& t) {
  return !t.clients.empty() || t.fire_and_forget || t.pending_dependents > 0 || t.object_holds > 0;
}

// --- telling clients ---------------------------------------------------------------

void tell(self_ptr self, const caf::actor& client, WireOutcome o) {
  auto& box = self->state.outbox;
  auto it = std::find_if(box.begin(), box.end(), [&](auto& p) { return p.first == client; });
  if (it == box.end()) it = box.insert(box.end(), {client, {}});
  it->second.push_back(std::move(o));
}

WireOutcome outcome_of(const std::string& key, const Task& t) {
  WireOutcome o;
  o.key = key;
  if (t.state == TState::memory) {
    o.status = WireStatus::finished;
    o.holder = t.worker;
  } else {
    o.status = WireStatus::error;
    o.error = t.error;
  }
  return o;
}

void tell_clients(self_ptr self, const std::string& key, const Task& t) {
  for (const auto& c : t.clients) tell(self, c, outcome_of(key, t));
}

void tell_cancelled(self_ptr self, const caf::actor& client, const std::string& key) {
  WireOutcome o;
  o.key = key;
  o.status = WireStatus::cancelled;
  tell(self, client, std::move(o));
}

// --- the table ---------------------------------------------------------------------

void make_ready(self_ptr self, const std::string& key, Task& t);
void maybe_release(self_ptr self, const std::string& key);
void fail(self_ptr self, const std::string& key, const std::vector<char>& error);
void ensure_computed(self_ptr self, const std::string& key);

/// Makes `t` count (or stop counting) as a dependent that still needs its inputs.
void count_on_inputs(self_ptr self, Task& t, bool count) {
  if (t.counted == count) return;
  t.counted = count;
  for (const auto& d : t.spec.deps) {
    Task* dep = find(self, d);
    if (!dep) continue;
    if (count)
      ++dep->pending_dependents;
    else if (dep->pending_dependents > 0)
      --dep->pending_dependents;
  }
}

/// Looks at t's inputs: fails it when one erred, queues it when all are in memory,
/// otherwise waits for them (recomputing those whose values were released or lost).
void resolve(self_ptr self, const std::string& key) {
  Task* t = find(self, key);
  if (!t) return;
  count_on_inputs(self, *t, true);
  t->missing = 0;
  t->state = TState::waiting;
  std::vector<std::string> to_compute;
  for (const auto& d : t->spec.deps) {
    Task* dep = find(self, d);
    if (dep->state == TState::erred) {
      fail(self, key, dep->error);
      return;
    }
    if (dep->state != TState::memory) ++t->missing;
    if (dep->state == TState::released) to_compute.push_back(d);
  }
  for (const auto& d : to_compute) ensure_computed(self, d);
  t = find(self, key);
  if (t && t->state == TState::waiting && t->missing == 0) make_ready(self, key, *t);
}

/// A task whose value was released (or lost) is needed again: run it from its lineage.
void ensure_computed(self_ptr self, const std::string& key) {
  Task* t = find(self, key);
  if (!t || t->state != TState::released) return;
  ++self->state.counters.tasks_recomputed;
  resolve(self, key);
}

void make_ready(self_ptr self, const std::string& key, Task& t) {
  t.state = TState::ready;
  t.seq = self->state.next_seq++;
  self->state.ready.push(Ready{t.spec.priority, t.seq, key});
}

/// Removes a task nobody refers to; its inputs may become removable in turn.
void remove(self_ptr self, const std::string& key) {
  Task* t = find(self, key);
  if (!t) return;
  count_on_inputs(self, *t, false);
  auto deps = t->spec.deps;
  self->state.tasks.erase(key);
  for (const auto& d : deps) {
    if (Task* dep = find(self, d)) {
      std::erase(dep->dependents, key);
      maybe_release(self, d);
    }
  }
}

void cancel_run(self_ptr self, const std::string& key, Task& t) {
  if (t.state == TState::processing && t.worker)
    self->send(caf::actor_cast<cluster_worker_actor>(t.worker), cancel_atom::value,
               std::vector<WireRunId>{{key, t.run}});
}

/// Lets go of what nobody wants any more: pending work is cancelled, a value is freed on
/// its worker (the task stays, released, while dependents may need it recomputed).
void maybe_release(self_ptr self, const std::string& key) {
  Task* t = find(self, key);
  if (!t || wanted(*t)) return;
  switch (t->state) {
    case TState::waiting:
    case TState::ready:
    case TState::processing:
      cancel_run(self, key, *t);
      count_on_inputs(self, *t, false);
      t->state = TState::released;
      break;
    case TState::memory:
      self->send(caf::actor_cast<cluster_worker_actor>(t->worker), free_atom::value,
                 std::vector<WireRunId>{{key, t->run}});
      t->worker = nullptr;
      t->state = TState::released;
      break;
    default:
      break;
  }
  if (t->dependents.empty()) remove(self, key);
}

/// t erred: its clients hear it, and every dependent still waiting fails the same way.
void fail(self_ptr self, const std::string& key, const std::vector<char>& error) {
  Task* t = find(self, key);
  if (!t) return;
  if (t->state == TState::processing) cancel_run(self, key, *t);
  t->state = TState::erred;
  t->error = error;
  t->worker = nullptr;
  t->fire_and_forget = false;
  count_on_inputs(self, *t, false);
  tell_clients(self, key, *t);
  for (const auto& d : std::vector<std::string>(t->dependents))
    if (Task* dep = find(self, d); dep && dep->state != TState::memory && dep->state != TState::erred)
      fail(self, d, error);
  maybe_release(self, key);
}

/// Cancels t and everything that depends on it; every client holding them hears it.
void cancel_task(self_ptr self, const std::string& key) {
  Task* t = find(self, key);
  if (!t) return;
  for (const auto& d : std::vector<std::string>(t->dependents)) cancel_task(self, d);
  t = find(self, key);
  if (!t) return;
  for (const auto& c : t->clients) tell_cancelled(self, c, key);
  if (!t->clients.empty()) self->state.cancelled[key] = t->clients;
  cancel_run(self, key, *t);
  if (t->state == TState::memory)
    self->send(caf::actor_cast<cluster_worker_actor>(t->worker), free_atom::value,
               std::vector<WireRunId>{{key, t->run}});
  t->dependents.clear();
  remove(self, key);
}

/// `client` let go of `key`: once no client holds a cancelled key, it is forgotten.
void forget_cancelled(self_ptr self, const std::string& key, const caf::actor& client) {
  auto& cancelled = self->state.cancelled;
  auto it = cancelled.find(key);
  if (it == cancelled.end()) return;
  std::erase(it->second, client);
  if (it->second.empty()) cancelled.erase(it);
}

/// The value of t is gone (its worker died, or a fetch found nothing): dependents that
/// were about to run wait again, and it is recomputed if still needed.
void lose_value(self_ptr self, const std::string& key) {
  Task* t = find(self, key);
  if (!t || t->state != TState::memory) return;
  t->state = TState::released;
  t->worker = nullptr;
  for (const auto& d : t->dependents) {
    Task* dep = find(self, d);
    if (!dep) continue;
    if (dep->state == TState::waiting) ++dep->missing;
    if (dep->state == TState::ready) {  // its queue entry goes stale
      dep->state = TState::waiting;
      dep->missing = 1;
    }
  }
  if (wanted(*t)) ensure_computed(self, key);
}

// --- placement ---------------------------------------------------------------------

/// Among the workers that can run `t` and have room, the one holding most of its input
/// bytes; then one with a free slot (an idle worker before a queue behind busy slots);
/// then the one with most room.
WorkerEntry* place(self_ptr self, const Task& t) {
  WorkerEntry* best = nullptr;
  std::uint64_t best_bytes = 0;
  auto rank = [](const WorkerEntry& w, std::uint64_t bytes) {
    return std::make_tuple(bytes, w.in_flight < w.capacity, w.limit() - w.in_flight);
  };
  for (auto& w : self->state.workers) {
    if (w.in_flight >= w.limit() || !w.functions.contains(t.spec.function)) continue;
    std::uint64_t bytes = 0;
    for (const auto& d : t.spec.deps)
      if (const Task* dep = find(self, d); dep && dep->worker == w.handle) bytes += dep->nbytes;
    if (!best || rank(w, bytes) > rank(*best, best_bytes)) {
      best = &w;
      best_bytes = bytes;
    }
  }
  return best;
}

std::chrono::nanoseconds until_deadline(const Task& t) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::nanoseconds(t.spec.deadline_ns) - std::chrono::duration_cast<std::chrono::nanoseconds>(now);
}

bool missed_deadline(const Task& t) {
  return t.spec.deadline_ns != 0 && until_deadline(t) <= std::chrono::nanoseconds::zero();
}

void cancel_task(self_ptr self, const std::string& key);

void flush(self_ptr self);

/// Sends `t` to run on `w` (with the next batch to that worker).
void assign(self_ptr self, Task& t, WorkerEntry& w) {
  WireRun run;
  run.task = t.spec;
  run.holders.reserve(t.spec.deps.size());
  for (const auto& d : t.spec.deps) run.holders.push_back(find(self, d)->worker);
  run.push_to = t.clients;
  run.run = t.run = ++self->state.next_run;
  t.state = TState::processing;
  t.worker = w.handle;
  ++w.in_flight;
  w.outbox.push_back(std::move(run));
}

/// The victim gave back `keys` (runs it had not started): they go to the thief when it
/// still has a free slot, else back to the ready queue.
void on_stolen(self_ptr self, const caf::actor& victim_handle, const caf::actor& thief_handle, long asked,
               const std::vector<WireRunId>& runs) {
  WorkerEntry* victim = find_worker(self, victim_handle.address());
  if (victim) victim->steal_pending = false;
  if (WorkerEntry* thief = find_worker(self, thief_handle.address())) thief->promised -= asked;
  for (const auto& [key, run] : runs) {
    // The victim never reports a stolen run: it no longer counts there.
    if (victim && victim->in_flight > 0) --victim->in_flight;
    Task* t = find(self, key);
    if (!t || t->state != TState::processing || t->run != run) continue;  // cancelled or sent again meanwhile
    WorkerEntry* thief = find_worker(self, thief_handle.address());  // assign() may not move workers
    if (thief && thief->in_flight < thief->capacity && thief->functions.contains(t->spec.function))
      assign(self, *t, *thief);
    else
      make_ready(self, key, *t);
  }
}

/// Work stealing, as in Dask: prefetch may queue a run behind a slot that turns out to
/// be busy for long (or blocked on something that waits for that very run) while another
/// worker goes idle. A worker with a free slot that the ready queue did not fill asks a
/// worker with runs queued beyond its slots to give back some that have not started.
void request_steals(self_ptr self) {
  auto& workers = self->state.workers;
  for (auto& thief : workers) {
    long free = thief.capacity - thief.in_flight - thief.promised;
    for (auto& victim : workers) {
      if (free <= 0) break;
      if (&victim == &thief || victim.steal_pending || victim.in_flight <= victim.capacity) continue;
      // Only from a worker whose functions the thief runs: what comes back must fit it.
      if (!std::all_of(victim.functions.begin(), victim.functions.end(),
                       [&](const std::string& f) { return thief.functions.contains(f); }))
        continue;
      const long n = std::min(free, victim.in_flight - victim.capacity);
      free -= n;
      thief.promised += n;
      victim.steal_pending = true;
      auto on_answer = [self, v = victim.handle, th = thief.handle, n](const std::vector<WireRunId>& runs) {
        on_stolen(self, v, th, n, runs);
        flush(self);
      };
      self->request(caf::actor_cast<cluster_worker_actor>(victim.handle), std::chrono::seconds(30),
                    steal_atom::value, std::uint32_t(n))
          .then([on_answer](std::vector<WireRunId>& runs) { on_answer(runs); },
                [on_answer](caf::error&) { on_answer({}); });  // gone or silent: it keeps them
    }
  }
}

void dispatch(self_ptr self) {
  auto& st = self->state;
  std::vector<Ready> unplaced;  // no worker can take them now
  while (!st.ready.empty()) {
    Ready r = st.ready.top();
    st.ready.pop();
    Task* t = find(self, r.key);
    if (!t || t->state != TState::ready || t->seq != r.seq) continue;
    if (missed_deadline(*t)) {  // work that has not started by its deadline never starts
      cancel_task(self, r.key);
      continue;
    }
    WorkerEntry* w = place(self, *t);
    if (!w) {
      unplaced.push_back(std::move(r));
      // Without a free slot anywhere the rest cannot be placed either.
      if (std::none_of(st.workers.begin(), st.workers.end(),
                       [](const WorkerEntry& x) { return x.in_flight < x.limit(); }))
        break;
      continue;
    }
    assign(self, *t, *w);
  }
  for (auto& r : unplaced) st.ready.push(std::move(r));
  request_steals(self);
  for (auto& w : st.workers)
    if (!w.outbox.empty())
      self->send(caf::actor_cast<cluster_worker_actor>(w.handle), std::exchange(w.outbox, {}));
}

/// Ends a handler: places ready work and sends the clients what they are waiting for.
void flush(self_ptr self) {
  dispatch(self);
  for (auto& [client, outcomes] : std::exchange(self->state.outbox, {}))
    self->send(caf::actor_cast<outcome_listener_actor>(client), outcome_atom::value, std::move(outcomes));
}

// --- futures inside coordination objects ------------------------------------------
// The objects gateway holds a key while a value naming it sits in a Queue, Variable or
// topic (Dask: "futures are kept alive while in the queue/variable"), and makes the
// client that reads such a value a holder before its own hold can end, so that the key
// outlives the hand-over. The reader then claims the key (kClaimFunction) to hear its
// outcome.

void hold_keys(self_ptr self, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    if (Task* t = find(self, key))
      ++t->object_holds;
    else if (!self->state.cancelled.contains(key))
      ++self->state.early_holds[key];
  }
}

void unhold_keys(self_ptr self, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    if (Task* t = find(self, key); t && t->object_holds > 0) {
      --t->object_holds;
      maybe_release(self, key);
    } else if (auto e = self->state.early_holds.find(key); e != self->state.early_holds.end() && --e->second == 0) {
      self->state.early_holds.erase(e);
    }
  }
}

void share_keys(self_ptr self, const caf::actor& client, const std::vector<std::string>& keys) {
  auto& clients = self->state.clients;
  if (std::find(clients.begin(), clients.end(), client) == clients.end()) return;  // gone already
  for (const auto& key : keys)
    if (Task* t = find(self, key); t && std::find(t->clients.begin(), t->clients.end(), client) == t->clients.end())
      t->clients.push_back(client);
}

/// A claim of a key the scheduler does not know (cancelled, or released by every holder).
void claim_unknown(self_ptr self, const caf::actor& client, const std::string& key) {
  WireOutcome o;
  o.key = key;
  o.status = WireStatus::cancelled;
  o.reason = self->state.cancelled.contains(key) ? "cancelled" : "no longer on the cluster (released)";
  tell(self, client, std::move(o));
}

// --- events ------------------------------------------------------------------------

void submit(self_ptr self, const caf::actor& client, WireTask& spec) {
  auto& st = self->state;
  ++st.counters.tasks_submitted;
  const std::string key = spec.key;
  if (spec.function == kClaimFunction && !find(self, key)) return claim_unknown(self, client, key);
  if (!st.cancelled.empty()) st.cancelled.erase(key);  // submitted again: a new computation
  if (Task* t = find(self, key)) {  // same key: one computation
    if (client && std::find(t->clients.begin(), t->clients.end(), client) == t->clients.end())
      t->clients.push_back(client);
    if (t->state == TState::memory || t->state == TState::erred)
      tell(self, client, outcome_of(key, *t));
    else if (t->state == TState::released)
      ensure_computed(self, key);
    return;
  }
  Task& t = st.tasks[key];
  t.spec = std::move(spec);
  t.retries_left = t.spec.retries;
  if (auto early = st.early_holds.find(key); early != st.early_holds.end()) {
    t.object_holds = early->second;
    st.early_holds.erase(early);
  }
  if (client) t.clients.push_back(client);
  if (t.spec.deadline_ns != 0) {
    if (missed_deadline(t)) return cancel_task(self, key);
    self->delayed_send(self, until_deadline(t), deadline_atom::value, key);
  }
  auto fn = st.functions.find(t.spec.function);
  if (fn == st.functions.end() || fn->second != t.spec.signature) {
    fail(self, key, error_bytes_of<NotRegisteredError>(
                        fn == st.functions.end()
                            ? "cask::NotRegisteredError: no worker can run " + t.spec.function
                            : "cask::NotRegisteredError: " + t.spec.function + " is " +
                                  t.spec.signature + " here but " + fn->second +
                                  " on the cluster's workers"));
    return;
  }
  for (const auto& d : t.spec.deps) {
    Task* dep = find(self, d);
    if (!dep && st.cancelled.contains(d)) return cancel_task(self, key);
    if (!dep) {
      fail(self, key, error_bytes_of<Error>("cask::Error: input " + d + " of " + key +
                                            " is not on the cluster (was it released?)"));
      return;
    }
    dep->dependents.push_back(key);
  }
  resolve(self, key);
}

void on_result(self_ptr self, WorkerEntry* w, WireResult& r) {
  if (w && w->in_flight > 0) --w->in_flight;
  Task* t = find(self, r.key);
  const bool current = t && t->state == TState::processing && w && t->worker == w->handle && t->run == r.run;
  if (!current) {
    // Stale (cancelled, released or sent again meanwhile): drop a value nobody tracks. The
    // free names the run, so a value a later run of the key made there stays.
    const bool reported_twice = t && t->state == TState::memory && t->worker == w->handle && t->run == r.run;
    if (w && r.status == WireStatus::finished && !reported_twice)
      self->send(caf::actor_cast<cluster_worker_actor>(w->handle), free_atom::value,
                 std::vector<WireRunId>{{r.key, r.run}});
    return;
  }
  if (w && r.run_ns > 0)
    w->mean_run_ns = w->mean_run_ns < 0 ? double(r.run_ns) : 0.8 * w->mean_run_ns + 0.2 * double(r.run_ns);
  switch (r.status) {
    case WireStatus::finished: {
      t->state = TState::memory;
      t->nbytes = r.nbytes;
      t->fire_and_forget = false;
      count_on_inputs(self, *t, false);
      // Every client is told, also those the worker pushed a small value to: the push is
      // the fast path, this the guarantee. Under load, CAF lost a worker's direct messages
      // to a client for a while (seen: 78 of 200 values never arrived, while the client's
      // link to the scheduler kept working). A client that has the value ignores this; one
      // still waiting fetches it from the holder.
      tell_clients(self, r.key, *t);
      for (const auto& d : t->dependents)
        if (Task* dep = find(self, d); dep && dep->state == TState::waiting && dep->missing > 0 &&
                                       --dep->missing == 0)
          make_ready(self, d, *dep);
      for (const auto& d : std::vector<std::string>(t->spec.deps)) maybe_release(self, d);
      maybe_release(self, r.key);
      break;
    }
    case WireStatus::error:
      if (t->retries_left > 0) {
        --t->retries_left;
        make_ready(self, r.key, *t);
      } else {
        fail(self, r.key, r.error);
      }
      break;
    case WireStatus::missing:
      // An input was not where the scheduler said: treat its value as lost, wait again.
      lose_value(self, r.missing);
      resolve(self, r.key);
      break;
    default:  // cancelled or lost by the worker itself (it is stopping): run it elsewhere
      make_ready(self, r.key, *t);
      break;
  }
}

void on_worker_down(self_ptr self, const caf::actor_addr& addr, const std::string& why) {
  auto& st = self->state;
  auto it = std::find_if(st.workers.begin(), st.workers.end(),
                         [&](const WorkerEntry& w) { return w.handle.address() == addr; });
  if (it == st.workers.end()) return;
  const caf::actor lost = it->handle;
  const std::string lost_name = it->name;
  log::warn("worker " + it->name + " left (" + why + ")");
  st.workers.erase(it);
  ++st.counters.workers_lost;
  // Fetches from it fail at once (CAF may never tell a worker that reached it through
  // this node); sent before any run that replaces what it held.
  for (const auto& w : st.workers)
    self->send(caf::actor_cast<cluster_worker_actor>(w.handle), peer_lost_atom::value, lost.node());
  // Its functions stay in the table: tasks of them wait for a worker that runs them (as
  // in Dask), instead of failing while the cluster has no such worker for a moment.

  std::vector<std::string> were_running, were_held;
  for (auto& [key, t] : st.tasks) {
    if (t.worker != lost) continue;
    if (t.state == TState::processing) were_running.push_back(key);
    if (t.state == TState::memory) were_held.push_back(key);
  }
  for (const auto& key : were_held) {
    // A hosted actor's state died with its worker: constructing it again elsewhere would
    // hand its name and handles a fresh instance (cask/remote_actor.hpp). It fails instead.
    if (Task* t = find(self, key); t && is_actor_constructor(t->spec.function))
      fail(self, key, error_bytes_of<CommError>("cask::CommError: actor " + key + " was lost with worker " +
                                                lost_name + " (" + why + ")"));
    else
      lose_value(self, key);
  }
  for (const auto& key : were_running) {
    Task* t = find(self, key);
    if (!t || t->state != TState::processing) continue;
    t->worker = nullptr;
    if (++t->failures > st.init.allowed_failures) {
      fail(self, key, error_bytes_of<Error>(
                          "cask::Error: KilledWorker: " + key + " was running on " +
                          std::to_string(t->failures) + " workers that died"));
      continue;
    }
    ++st.counters.tasks_rescheduled;
    resolve(self, key);
  }
}

void on_client_gone(self_ptr self, const caf::actor_addr& addr) {
  auto& st = self->state;
  auto it = std::find_if(st.clients.begin(), st.clients.end(),
                         [&](const caf::actor& c) { return c.address() == addr; });
  if (it == st.clients.end()) return;
  const caf::actor client = *it;
  st.clients.erase(it);
  for (auto it = st.cancelled.begin(); it != st.cancelled.end();) {
    std::erase(it->second, client);
    it = it->second.empty() ? st.cancelled.erase(it) : std::next(it);
  }
  std::vector<std::string> held;
  for (auto& [key, t] : st.tasks)
    if (std::erase(t.clients, client) > 0) held.push_back(key);
  for (const auto& key : held) maybe_release(self, key);
}

ClusterInfo cluster_info(self_ptr self) {
  ClusterInfo info;
  for (const auto& [name, sig] : self->state.functions) info.functions.push_back({name, sig});
  info.workers = std::uint32_t(self->state.workers.size());
  for (const auto& w : self->state.workers)
    if (!w.endpoint.empty()) info.peers.push_back(w.endpoint);
  return info;
}

cluster_scheduler_actor::behavior_type scheduler_main(self_ptr self, ClusterSchedulerInit init) {
  self->state.init = init;
  self->state.objects = spawn_cluster_objects(self->system(), caf::actor_cast<caf::actor>(self));
  self->set_down_handler([self](caf::down_msg& msg) {
    if (find_worker(self, msg.source))
      on_worker_down(self, msg.source, self->system().render(msg.reason));
    else
      on_client_gone(self, msg.source);
    flush(self);
  });
  return {
      [self](hello_atom, caf::actor& client) {
        // A client repeats its hello when the answer is slow to come (see connect_node).
        auto& clients = self->state.clients;
        if (std::find(clients.begin(), clients.end(), client) == clients.end()) {
          self->monitor(client);
          clients.push_back(client);
          ++self->state.counters.clients;
        }
        return cluster_info(self);
      },
      [self](goodbye_atom, caf::actor& client) {
        self->demonitor(client);
        on_client_gone(self, client.address());
        flush(self);
      },
      [self](std::vector<WireTask>& tasks) {
        auto client = caf::actor_cast<caf::actor>(self->current_sender());
        for (auto& t : tasks) submit(self, client, t);
        flush(self);
      },
      [self](release_atom, caf::actor& client, std::vector<std::string>& keys) {
        for (const auto& key : keys) {
          if (Task* t = find(self, key); t && std::erase(t->clients, client) > 0) maybe_release(self, key);
          forget_cancelled(self, key, client);
        }
        flush(self);
      },
      [self](cancel_atom, caf::actor& client, std::vector<std::string>& keys) {
        for (const auto& key : keys) {
          Task* t = find(self, key);
          if (!t)
            tell_cancelled(self, client, key);
          else if (t->state == TState::memory || t->state == TState::erred)
            tell(self, client, outcome_of(key, *t));  // done already: nothing changes
          else
            cancel_task(self, key);
        }
        flush(self);
      },
      [self](forget_atom, std::vector<std::string>& keys) {
        for (const auto& key : keys)
          if (Task* t = find(self, key); t && t->state != TState::memory && t->state != TState::erred)
            t->fire_and_forget = true;
      },
      [self](functions_atom) { return cluster_info(self); },
      [self](stats_atom) -> caf::typed_response_promise<ClusterStats> {
        ClusterStats s;
        for (const auto& [key, t] : self->state.tasks) {
          switch (t.state) {
            case TState::waiting: ++s.waiting; break;
            case TState::ready: ++s.queued; break;
            case TState::processing: ++s.processing; break;
            case TState::memory:
              ++s.finished;
              // A constructor task held in memory is a live hosted actor (cask/remote_actor.hpp).
              if (is_actor_constructor(t.spec.function)) ++s.actors;
              break;
            case TState::erred: ++s.erred; break;
            default: break;
          }
        }
        s.workers = self->state.workers.size();
        for (const auto& w : self->state.workers) {
          s.slots += std::size_t(w.slots);
          s.slots_busy += std::size_t(std::min(w.in_flight, w.capacity));
        }
        // The coordination objects live in the gateway (actors/cluster_objects.hpp): ask it,
        // without blocking, rather than leave the count at 0.
        auto rp = self->make_response_promise<ClusterStats>();
        self->request(self->state.objects, std::chrono::seconds(10), stats_atom::value)
            .then([rp, s](std::uint64_t objects) mutable {
                    s.coordination_objects = std::size_t(objects);
                    rp.deliver(s);
                  },
                  [rp](caf::error& e) mutable { rp.deliver(e); });
        return rp;
      },
      [self](wstats_atom) { return self->state.counters; },
      [self](register_atom, WorkerHello& hello) {
        ClusterInfo info;
        for (const auto& f : hello.functions) {
          auto it = self->state.functions.find(f.name);
          const bool live = std::any_of(self->state.workers.begin(), self->state.workers.end(),
                                        [&](const WorkerEntry& w) { return w.functions.contains(f.name); });
          if (live && it != self->state.functions.end() && it->second != f.signature) {
            info.refused = "function " + f.name + " is " + f.signature + " on worker " +
                           hello.name + " but " + it->second + " on the cluster";
            log::warn("refused worker " + hello.name + ": " + info.refused);
            return info;
          }
        }
        if (find_worker(self, hello.self.address())) return cluster_info(self);  // a repeated join
        WorkerEntry w;
        w.handle = hello.self;
        w.name = hello.name;
        w.endpoint = hello.endpoint;
        w.slots = w.capacity = std::max<long>(1, hello.nthreads);
        for (const auto& f : hello.functions) {
          w.functions.insert(f.name);
          self->state.functions[f.name] = f.signature;
        }
        self->monitor(hello.self);
        self->state.workers.push_back(std::move(w));
        log::info("worker " + hello.name + " joined (" + std::to_string(hello.nthreads) +
                  " threads, " + std::to_string(hello.functions.size()) + " functions)");
        info = cluster_info(self);
        flush(self);
        return info;
      },
      [self](std::vector<WireResult>& results) {
        WorkerEntry* w = find_worker(self, self->current_sender() ? self->current_sender()->address() : caf::actor_addr{});
        if (w) w->last_result = std::chrono::steady_clock::now();
        for (auto& r : results) on_result(self, w, r);
        flush(self);
      },
      [self](slots_atom, caf::actor& worker, std::int32_t delta) {
        if (WorkerEntry* w = find_worker(self, worker.address())) w->capacity += delta;
        flush(self);
      },
      [self](deadline_atom, std::string& key) {
        // Not started by its deadline: cancelled. Running (or done) work is left alone.
        if (Task* t = find(self, key); t && (t->state == TState::waiting || t->state == TState::ready))
          cancel_task(self, key);
        flush(self);
      },
      [self](open_atom, WireCoordOpen& o) {
        return self->delegate(self->state.objects, open_atom::value, std::move(o));
      },
      [self](hold_atom, std::vector<std::string>& keys) { hold_keys(self, keys); },
      [self](unhold_atom, std::vector<std::string>& keys) {
        unhold_keys(self, keys);
        flush(self);
      },
      [self](share_atom, caf::actor& client, std::vector<std::string>& keys) { share_keys(self, client, keys); },
      [self](stop_atom) { self->quit(); },
  };
}

}  // namespace

cluster_scheduler_actor spawn_cluster_scheduler(caf::actor_system& sys, ClusterSchedulerInit init) {
  return sys.spawn(scheduler_main, init);
}

}  // namespace cask::detail
