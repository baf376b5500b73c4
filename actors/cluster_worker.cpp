#include "actors/cluster_worker.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/bulk_fetch.hpp"
#include "actors/hosted_actors.hpp"
#include "cask/errors.hpp"
#include "runtime/execution_pool.hpp"
#include "runtime/log.hpp"

namespace cask::detail {

// --- WorkerStore ---------------------------------------------------------------------

void WorkerStore::put(const std::string& key, Data bytes, std::uint64_t run) {
  std::lock_guard lk(mu_);
  results_[key] = Stored{std::move(bytes), run};
}
WorkerStore::Data WorkerStore::get(const std::string& key) const {
  std::lock_guard lk(mu_);
  auto it = results_.find(key);
  return it == results_.end() ? nullptr : it->second.bytes;
}
bool WorkerStore::erase(const WireRunId& id) {
  std::lock_guard lk(mu_);
  auto it = results_.find(id.key);
  if (it == results_.end()) return true;
  if (id.run != 0 && it->second.run != id.run) return false;
  results_.erase(it);
  return true;
}
std::size_t WorkerStore::size() const {
  std::lock_guard lk(mu_);
  return results_.size();
}
void WorkerStore::clear() {
  std::lock_guard lk(mu_);
  results_.clear();
  for (auto& [key, job] : jobs_) job->cancel();
  jobs_.clear();
}
void WorkerStore::track(const std::string& key, const JobPtr& job) {
  std::lock_guard lk(mu_);
  jobs_[key] = job;
}
void WorkerStore::untrack(const JobPtr& job) {
  std::lock_guard lk(mu_);
  if (auto it = jobs_.find(*job->key); it != jobs_.end() && it->second == job) jobs_.erase(it);
}
void WorkerStore::cancel(const WireRunId& id) {
  std::lock_guard lk(mu_);
  if (auto it = jobs_.find(id.key); it != jobs_.end() && (id.run == 0 || it->second->run == id.run))
    it->second->cancel();
}
std::vector<WireRunId> WorkerStore::steal(std::size_t n) {
  std::lock_guard lk(mu_);
  std::vector<JobPtr> waiting;
  for (const auto& [key, job] : jobs_)
    if (job->phase.load(std::memory_order_acquire) == JobPhase::queued) waiting.push_back(job);
  std::sort(waiting.begin(), waiting.end(), [](const JobPtr& a, const JobPtr& b) {
    return a->priority != b->priority ? a->priority < b->priority : a->seq > b->seq;
  });
  std::vector<WireRunId> stolen;
  for (const auto& job : waiting) {
    if (stolen.size() >= n) break;
    JobPhase expected = JobPhase::queued;
    if (!job->phase.compare_exchange_strong(expected, JobPhase::stolen, std::memory_order_acq_rel))
      continue;  // a slot started it meanwhile
    stolen.push_back({*job->key, job->run});
    jobs_.erase(*job->key);
  }
  return stolen;
}
bool WorkerStore::post(JobPtr job) {
  std::lock_guard lk(mu_);
  // Only this run: a later run of the same key sent here since stays cancellable/stealable.
  if (auto it = jobs_.find(*job->key); it != jobs_.end() && it->second == job) jobs_.erase(it);
  posted_.push_back(std::move(job));
  return posted_.size() == 1;
}
std::vector<JobPtr> WorkerStore::take_posted() {
  std::lock_guard lk(mu_);
  return std::exchange(posted_, {});
}

// --- jobs ------------------------------------------------------------------------------

JobPtr make_remote_job(const WireTask& task) {
  auto job = std::make_shared<Job>();
  job->key = std::make_shared<const std::string>(task.key);
  job->priority = task.priority;
  job->inputs.resize(task.deps.size());
  if (task.deadline_ns != 0) {  // a run queued here past its deadline never starts
    const auto left = std::chrono::nanoseconds(task.deadline_ns) -
                      std::chrono::system_clock::now().time_since_epoch();
    job->deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
  }
  std::vector<DepRef> refs;
  refs.reserve(task.refs.size());
  for (const auto& r : task.refs) refs.push_back(DepRef{r.position, r.first, r.count, r.list});
  job->fn = [name = task.function, signature = task.signature, args = task.args,
             refs = std::move(refs)](std::span<const Value> deps) -> Value {
    const RemoteFunction* fn = remote_registry::find(name);
    if (!fn)
      throw NotRegisteredError("cask::NotRegisteredError: this worker cannot run " + name);
    if (fn->signature != signature)
      throw NotRegisteredError("cask::NotRegisteredError: " + name + " is " + fn->signature +
                               " on this worker but was submitted as " + signature);
    std::vector<const Bytes*> values;
    values.reserve(deps.size());
    for (const auto& d : deps) values.push_back(static_cast<const Bytes*>(d.get()));
    std::vector<Bytes> joined;  // list arguments (see task_args)
    return std::make_shared<const Bytes>(fn->call(task_args(args, refs, values, joined)));
  };
  return job;
}

WireResult report_of(const Job& job, WorkerStore& store) {
  WireResult r;
  r.key = *job.key;
  r.run = job.run;
  r.run_ns = std::uint64_t(job.run_time.count());
  switch (job.outcome.status) {
    case Status::finished: {
      auto bytes = std::static_pointer_cast<const Bytes>(job.outcome.value);
      r.status = WireStatus::finished;
      r.nbytes = bytes ? bytes->size() : 0;
      store.put(r.key, std::move(bytes), job.run);
      break;
    }
    case Status::error:
      r.status = WireStatus::error;
      r.error = encode_error(job.outcome.error);
      break;
    default:
      r.status = WireStatus::cancelled;
      break;
  }
  return r;
}

// --- the actor ---------------------------------------------------------------------------

namespace {

/// The inputs of one job still being fetched.
struct Gathering {
  JobPtr job;
  std::size_t outstanding = 0;  // holders not yet answered
  bool failed = false;
};

/// Inputs coming over the bulk channel: where they go in the job's inputs.
struct BulkWait {
  std::shared_ptr<Gathering> gathering;
  std::vector<std::size_t> indices;
  std::vector<std::string> keys;  // one per index
};

/// A fetch request to a holding worker not yet answered: failed at once if the holder dies
/// (CAF leaves a request to a lost node unanswered until its timeout), as told by CAF's
/// down message or, for a holder reached through the scheduler's node, by the scheduler.
struct HolderWait {
  std::shared_ptr<Gathering> gathering;
  std::string first_key;
  std::shared_ptr<bool> answered;
};

struct WorkerState {
  WorkerState() = default;  // not an aggregate: CAF would construct it from the actor pointer
  ClusterWorkerInit init;
  std::unordered_map<caf::actor_addr, std::vector<HolderWait>> fetching_from;  // monitored
  // Clients waiting for a running task's value: sent to them directly when it is small.
  std::unordered_map<std::string, std::vector<caf::actor>> push_to;
  std::unordered_map<std::uint64_t, BulkWait> bulk_waits;  // by fetch number
  std::uint64_t bulk_fetches = 0;
  std::uint64_t next_seq = 0;  // arrival order: equal priorities run in the order sent
};

using self_ptr = cluster_worker_actor::stateful_pointer<WorkerState>;

void report_missing(self_ptr self, const JobPtr& job, const std::string& dep) {
  if (job->phase.load() == JobPhase::stolen) return;  // the scheduler placed it elsewhere
  auto& st = self->state.init;
  st.store->untrack(job);
  self->state.push_to.erase(*job->key);
  WireResult r;
  r.key = *job->key;
  r.run = job->run;
  r.status = WireStatus::missing;
  r.missing = dep;
  self->send(st.scheduler, std::vector<WireResult>{std::move(r)});
}

void start(self_ptr self, const JobPtr& job) {
  if (job->phase.load() == JobPhase::stolen) return;  // taken while its inputs were fetched
  if (job->phase.load() == JobPhase::cancelled) {
    self->state.init.store->untrack(job);
    self->state.push_to.erase(*job->key);
    WireResult r;
    r.key = *job->key;
    r.run = job->run;
    r.status = WireStatus::cancelled;
    self->send(self->state.init.scheduler, std::vector<WireResult>{std::move(r)});
    return;
  }
  self->state.init.pool->push({job});
}

/// Fault injection for tests: with CASK_TEST_DROP_PUSHES=1 in its environment, a worker
/// sends no value straight to a client, as when CAF loses those messages; every value must
/// still arrive (the scheduler tells each client, which then fetches).
bool dropping_pushes() {
  static const bool drop = [] {
    const char* v = std::getenv("CASK_TEST_DROP_PUSHES");
    return v && std::string(v) == "1";
  }();
  return drop;
}

/// Fault injection for tests: with CASK_TEST_UNANSWERED_FETCHES=<file> in its environment,
/// a worker answers no fetch, as when CAF leaves a request to a lost node unanswered, and
/// appends a line to <file> for each one. Null when unset.
const char* unanswered_fetches_log() {
  static const char* const path = std::getenv("CASK_TEST_UNANSWERED_FETCHES");
  return path;
}

/// Reports the jobs the slots finished: one message to the scheduler, and small values
/// straight to the clients waiting for them.
void flush(self_ptr self) {
  auto& st = self->state;
  std::vector<WireResult> results;
  std::vector<std::pair<caf::actor, std::vector<WireOutcome>>> pushes;
  const auto me = caf::actor_cast<caf::actor>(self);
  for (auto& job : st.init.store->take_posted()) {
    results.push_back(report_of(*job, *st.init.store));
    auto it = st.push_to.find(*job->key);
    if (it == st.push_to.end()) continue;
    const WireResult& r = results.back();
    if (r.status == WireStatus::finished && r.nbytes <= kPushLimit) {
      auto data = st.init.store->get(r.key);
      for (const auto& client : it->second) {
        auto g = std::find_if(pushes.begin(), pushes.end(), [&](auto& p) { return p.first == client; });
        if (g == pushes.end()) g = pushes.insert(pushes.end(), {client, {}});
        WireOutcome o;
        o.key = r.key;
        o.status = WireStatus::finished;
        o.holder = me;
        o.has_value = data != nullptr;
        o.value = data;
        g->second.push_back(std::move(o));
      }
    }
    st.push_to.erase(it);
  }
  if (!dropping_pushes())
    for (auto& [client, outcomes] : pushes)
      self->send(caf::actor_cast<outcome_listener_actor>(client), outcome_atom::value, std::move(outcomes));
  if (!results.empty()) self->send(st.init.scheduler, std::move(results));
}

/// Fetches the big values a holder named its bulk endpoint for, on the process's fetcher
/// threads; the actor hears of them as a `fetched` message.
void fetch_in_bulk(self_ptr self, const std::shared_ptr<Gathering>& gathering,
                   const BulkEndpoint& from, std::vector<std::size_t> indices,
                   std::vector<std::string> keys) {
  const std::uint64_t id = ++self->state.bulk_fetches;
  self->state.bulk_waits.emplace(id, BulkWait{gathering, std::move(indices), keys});
  auto me = caf::actor_cast<cluster_worker_actor>(self);
  fetch_wire_data(from, std::move(keys), [me, id](std::vector<WireData> data) {
    caf::anon_send(me, fetched_atom::value, id, std::move(data));
  });
}

/// One holder's answer to a fetch: values go into the job's inputs, big ones are fetched
/// over the bulk channel first; a value the holder lost is reported missing (the scheduler
/// recomputes it). The job starts once every holder has delivered.
void take_inputs(self_ptr self, const std::shared_ptr<Gathering>& gathering,
                 const std::vector<std::size_t>& indices, const std::vector<std::string>& keys,
                 std::vector<WireData>& data) {
  if (gathering->failed) return;
  std::vector<std::size_t> bulk_indices;
  std::vector<std::string> bulk_keys;
  BulkEndpoint bulk_from;
  for (std::size_t n = 0; n < indices.size(); ++n) {
    if (n >= data.size() || !data[n].found) {
      gathering->failed = true;
      return report_missing(self, gathering->job, keys[n]);
    }
    if (data[n].bulk_port != 0) {  // one holder: one endpoint
      bulk_from = BulkEndpoint{data[n].bulk_host, data[n].bulk_port};
      bulk_indices.push_back(indices[n]);
      bulk_keys.push_back(keys[n]);
      continue;
    }
    gathering->job->inputs[indices[n]] = std::move(data[n].bytes);
  }
  if (!bulk_keys.empty())
    return fetch_in_bulk(self, gathering, bulk_from, std::move(bulk_indices), std::move(bulk_keys));
  if (--gathering->outstanding == 0) start(self, gathering->job);
}

/// Remembers a fetch from `holder` until it is answered, monitoring the holder.
void watch_holder(self_ptr self, const caf::actor& holder, HolderWait wait) {
  auto [it, fresh] = self->state.fetching_from.try_emplace(holder.address());
  if (fresh) self->monitor(holder);
  std::erase_if(it->second, [](const HolderWait& w) { return *w.answered || w.gathering->failed; });
  it->second.push_back(std::move(wait));
}

/// Holding workers died: their unanswered fetches fail now, so that the scheduler, told
/// their inputs are missing, recomputes them (a bulk transfer from one fails by itself:
/// its connection breaks).
void holders_lost(self_ptr self, const std::function<bool(const caf::actor_addr&)>& lost) {
  std::vector<HolderWait> waits;
  for (auto it = self->state.fetching_from.begin(); it != self->state.fetching_from.end();) {
    if (!lost(it->first)) {
      ++it;
      continue;
    }
    waits.insert(waits.end(), std::make_move_iterator(it->second.begin()), std::make_move_iterator(it->second.end()));
    it = self->state.fetching_from.erase(it);
  }
  for (auto& w : waits) {
    if (*w.answered || w.gathering->failed) continue;
    w.gathering->failed = true;
    report_missing(self, w.gathering->job, w.first_key);
  }
}

void run(self_ptr self, WireRun& run) {
  auto& st = self->state.init;
  JobPtr job = make_remote_job(run.task);
  job->run = run.run;
  job->seq = self->state.next_seq++;
  st.store->track(run.task.key, job);
  if (!run.push_to.empty()) self->state.push_to[run.task.key] = std::move(run.push_to);
  // Inputs held here are read from the store; the others are fetched, one request per
  // holding worker.
  std::vector<std::pair<caf::actor, std::vector<std::size_t>>> remote;
  const auto me = caf::actor_cast<caf::actor>(self);
  for (std::size_t i = 0; i < run.task.deps.size(); ++i) {
    const caf::actor& holder = i < run.holders.size() ? run.holders[i] : caf::actor{};
    if (!holder || holder == me) {
      auto data = st.store->get(run.task.deps[i]);
      if (!data) return report_missing(self, job, run.task.deps[i]);
      job->inputs[i] = std::move(data);
      continue;
    }
    auto g = std::find_if(remote.begin(), remote.end(), [&](auto& p) { return p.first == holder; });
    if (g == remote.end()) g = remote.insert(remote.end(), {holder, {}});
    g->second.push_back(i);
  }
  if (remote.empty()) return start(self, job);
  auto gathering = std::make_shared<Gathering>(Gathering{job, remote.size(), false});
  for (auto& [holder, indices] : remote) {
    std::vector<std::string> keys;
    for (auto i : indices) keys.push_back(run.task.deps[i]);
    auto first_key = keys.front();
    auto answered = std::make_shared<bool>(false);
    watch_holder(self, holder, HolderWait{gathering, first_key, answered});
    self->request(caf::actor_cast<cluster_worker_actor>(holder), std::chrono::seconds(120),
                  fetch_atom::value, keys)
        .then(
            [self, gathering, keys, indices = indices, answered](std::vector<WireData>& data) {
              *answered = true;
              take_inputs(self, gathering, indices, keys, data);
            },
            [self, gathering, first_key](caf::error&) {
              if (gathering->failed) return;
              gathering->failed = true;
              report_missing(self, gathering->job, first_key);
            });
  }
}

cluster_worker_actor::behavior_type worker_main(self_ptr self, ClusterWorkerInit init) {
  self->state.init = std::move(init);
  self->monitor(self->state.init.scheduler);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source != self->state.init.scheduler.address())
      return holders_lost(self, [&](const caf::actor_addr& a) { return a == msg.source; });
    log::warn("lost the scheduler (" + self->system().render(msg.reason) + ")");
    self->state.init.scheduler_lost->store(true);
    self->state.init.scheduler_lost->notify_all();
    self->quit();
  });
  return {
      [self](std::vector<WireRun>& runs) {
        for (auto& r : runs) run(self, r);
      },
      [self](cancel_atom, std::vector<WireRunId>& runs) {
        for (const auto& r : runs) self->state.init.store->cancel(r);
      },
      [self](steal_atom, std::uint32_t n) {
        auto runs = self->state.init.store->steal(n);
        for (const auto& r : runs) self->state.push_to.erase(r.key);
        return runs;
      },
      [self](free_atom, std::vector<WireRunId>& runs) {
        std::vector<std::string> keys;
        keys.reserve(runs.size());
        for (const auto& r : runs)
          if (self->state.init.store->erase(r)) keys.push_back(r.key);
        hosted_actors::release(keys);  // a freed constructor key: nobody holds the actor
      },
      [self](fetch_atom, std::vector<std::string>& keys) -> caf::result<std::vector<WireData>> {
        if (const char* log = unanswered_fetches_log()) {
          std::ofstream(log, std::ios::app) << "unanswered\n";
          return self->make_response_promise<std::vector<WireData>>();  // never delivered
        }
        const BulkEndpoint& bulk = self->state.init.bulk;
        std::vector<WireData> out;
        out.reserve(keys.size());
        for (auto& k : keys) {
          WireData d;
          auto data = self->state.init.store->get(k);
          d.found = data != nullptr;
          if (data && bulk && data->size() > kBulkThreshold) {
            d.bulk_host = bulk.host;  // the fetcher gets the bytes from there
            d.bulk_port = bulk.port;
          } else {
            d.bytes = std::move(data);
          }
          d.key = std::move(k);
          out.push_back(std::move(d));
        }
        return out;
      },
      [self](fetched_atom, std::uint64_t id, std::vector<WireData>& data) {
        auto it = self->state.bulk_waits.find(id);
        if (it == self->state.bulk_waits.end()) return;
        BulkWait wait = std::move(it->second);
        self->state.bulk_waits.erase(it);
        for (auto& d : data) d.bulk_port = 0;  // the bytes themselves now
        take_inputs(self, wait.gathering, wait.indices, wait.keys, data);
      },
      [self](flush_atom) { flush(self); },
      [self](stop_atom) { self->quit(); },
      [self](peer_lost_atom, const caf::node_id& node) {
        holders_lost(self, [&](const caf::actor_addr& a) { return a.node() == node; });
      },
      [](acall_atom, WireActorCall& call) { hosted_actors::call(call); },
      [](acancel_atom, std::string& actor_key) {
        hosted_actors::cancel(actor_key);
        return true;
      },
      [](ccancel_atom, std::string& call_key) {
        hosted_actors::cancel_call(call_key);
        return true;
      },
  };
}

}  // namespace

cluster_worker_actor spawn_cluster_worker(caf::actor_system& sys, ClusterWorkerInit init) {
  return sys.spawn(worker_main, std::move(init));
}

}  // namespace cask::detail
