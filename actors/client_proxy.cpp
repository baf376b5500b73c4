#include "actors/client_proxy.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/bulk_fetch.hpp"
#include "actors/reply.hpp"
#include "cask/detail/actor_holds.hpp"
#include "cask/errors.hpp"
#include "cask/remote.hpp"
#include "runtime/cluster_node.hpp"
#include "runtime/log.hpp"
#include "runtime/remote_actor.hpp"

namespace cask::detail {
namespace {

// How long the first attempt of a fetch from a worker may take (each next one waits twice
// as long; 5 attempts: 155 s in all). Values cross loopback in well under a second; big
// ones come over the bulk channel, which this request only has to name.
constexpr auto kFetchTimeout = std::chrono::seconds(5);
constexpr int kFetchAttempts = 5;

struct KeyState {
  std::vector<std::weak_ptr<FutureCore>> handles;  // every handle not yet destroyed
  std::size_t holders = 0;  // handles whose release has not arrived yet
  std::shared_ptr<const void> (*decode)(const Bytes&) = nullptr;
  // The holder a fetch of the value was sent to (null: none). An outcome naming another
  // holder (the value was lost there and computed again) is fetched from that one too:
  // CAF may leave a fetch from a dead holder unanswered until its timeout.
  caf::actor_addr fetching_from;
  // Not on the cluster: its submission waits for actor futures, or failed before it got
  // there (see defer_for_actor_futures). Its dependents wait for it here too.
  bool held_back = false;
};

/// A submission waiting for the actor futures (and held-back tasks) it takes.
struct Deferred {
  Submission submission;
  std::vector<std::size_t> waits;  // indexes in submission.spec.deps
};

struct ProxyState {
  ProxyState() = default;  // not an aggregate: CAF would construct it from the actor pointer
  cluster_scheduler_actor scheduler;
  std::string address;
  std::shared_ptr<std::atomic<bool>> link_up;
  std::unordered_map<std::string, KeyState> keys;
  std::vector<std::string> releases;  // sent as one message by flush
  // Releases still to come from handles of a key that was submitted again after all of
  // them died (see submitted_key): they must not count against the new handles.
  std::unordered_map<std::string, std::size_t> stale_releases;
  bool flush_pending = false;
  bool lost = false;
  // Submissions waiting for the actor futures they take (see defer_for_actor_futures).
  std::unordered_map<std::uint64_t, Deferred> deferred;
  std::uint64_t next_deferred = 0;
};

using self_ptr = client_proxy_actor::stateful_pointer<ProxyState>;

/// Completes every pending handle of the key with the outcome.
void complete(KeyState& ks, Status status, const Value& value, const std::exception_ptr& error) {
  for (const auto& w : ks.handles)
    if (auto core = w.lock(); core && !core->done()) core->complete(status, value, error);
  std::erase_if(ks.handles, [](const auto& w) { return w.expired(); });
}

/// The state of a key being submitted. A key submitted again while its earlier handles
/// are all gone, though their releases have not arrived, starts afresh: a handle whose
/// last reference died on this actor's thread (in complete(), while its waiter was
/// already running on) sends its release to this actor's mailbox *behind* a submit the
/// waiter made meanwhile. Counted against the new handles, that release would keep the
/// old task (say, a failed get_actor) on the scheduler, and the new submit would meet its
/// outcome. So the old task is released first, and the releases still to come are set
/// aside.
KeyState& submitted_key(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto [it, fresh] = st.keys.try_emplace(key);
  if (!fresh && std::all_of(it->second.handles.begin(), it->second.handles.end(),
                            [](const auto& w) { return w.expired(); })) {
    st.stale_releases[key] += it->second.holders;
    st.releases.push_back(key);
    it->second = KeyState{};
  }
  return it->second;
}

bool any_pending(const KeyState& ks) {
  for (const auto& w : ks.handles)
    if (auto core = w.lock(); core && !core->done()) return true;
  return false;
}

std::exception_ptr error_of(const std::vector<char>& bytes) {
  try {
    rethrow_remote(bytes);
  } catch (...) {
    return std::current_exception();
  }
}

void request_flush(self_ptr self) {
  if (self->state.flush_pending) return;
  self->state.flush_pending = true;
  self->send(self, fetch_atom::value);
}

/// Big values named by their holder's bulk endpoint are fetched from there, on the
/// process's fetcher threads; the proxy hears of them as a `fetched` message.
void fetch_in_bulk(self_ptr self, const caf::actor& holder, std::vector<WireData>& data) {
  std::vector<std::string> keys;
  BulkEndpoint from;
  for (const auto& d : data) {
    if (!d.found || d.bulk_port == 0) continue;
    from = BulkEndpoint{d.bulk_host, d.bulk_port};  // one holder: one endpoint
    keys.push_back(d.key);
  }
  if (keys.empty()) return;
  auto me = caf::actor_cast<client_proxy_actor>(self);
  fetch_wire_data(from, std::move(keys), [me, holder](std::vector<WireData> values) {
    caf::anon_send(me, fetched_atom::value, holder, std::move(values));
  });
}

/// Completes the handles of fetched values (those with their bytes here).
void take_values(self_ptr self, const caf::actor& holder, std::vector<WireData>& data) {
  HolderScope from(holder);  // an actor's handle needs to know its worker
  for (auto& d : data) {
    if (d.found && d.bulk_port != 0) continue;  // still coming, over the bulk channel
    auto it = self->state.keys.find(d.key);
    if (it == self->state.keys.end()) continue;
    auto& ks = it->second;
    if (ks.fetching_from == holder.address()) ks.fetching_from = nullptr;
    if (!d.found) continue;  // freed or lost meanwhile: an outcome follows
    try {
      Value v = ks.decode(d.bytes.get_bytes());
      complete(ks, Status::finished, v, nullptr);
    } catch (...) {
      complete(ks, Status::error, nullptr, std::current_exception());
    }
  }
}

/// Fetches values from the worker holding them and completes their handles. A failed
/// fetch (the worker died) leaves them pending: the scheduler recomputes lost values and
/// sends a new outcome. A fetch that times out is asked again, with twice the patience,
/// while its handles still wait: a reply lost on the way must not leave them waiting for
/// ever, and a holder that is only slow is asked a few times at most.
void fetch(self_ptr self, const caf::actor& holder, std::vector<std::string> keys, int attempt = 0) {
  auto worker = caf::actor_cast<cluster_worker_actor>(holder);
  self->request(worker, kFetchTimeout * (1 << attempt), fetch_atom::value, keys)
      .then(
          [self, holder](std::vector<WireData>& data) {
            fetch_in_bulk(self, holder, data);
            take_values(self, holder, data);
          },
          [self, holder, keys, attempt](caf::error& e) {
            std::vector<std::string> again;
            for (const auto& k : keys) {
              auto it = self->state.keys.find(k);
              if (it == self->state.keys.end() || it->second.fetching_from != holder.address())
                continue;  // superseded by a fetch from its new holder
              it->second.fetching_from = nullptr;
              if (e == caf::sec::request_timeout && attempt + 1 < kFetchAttempts && any_pending(it->second)) {
                it->second.fetching_from = holder.address();
                again.push_back(k);
              }
            }
            if (!again.empty()) fetch(self, holder, std::move(again), attempt + 1);
          });
}

void on_outcomes(self_ptr self, std::vector<WireOutcome>& outcomes) {
  std::vector<std::pair<caf::actor, std::vector<std::string>>> fetches;
  for (auto& o : outcomes) {
    auto it = self->state.keys.find(o.key);
    if (it == self->state.keys.end()) continue;  // every handle is gone
    auto& ks = it->second;
    switch (o.status) {
      case WireStatus::finished: {
        if (o.has_value) {  // pushed by the worker with the outcome: no fetch needed
          if (!any_pending(ks)) break;
          try {
            HolderScope from(o.holder);  // an actor's handle needs to know its worker
            complete(ks, Status::finished, ks.decode(o.value.get_bytes()), nullptr);
          } catch (...) {
            complete(ks, Status::error, nullptr, std::current_exception());
          }
          break;
        }
        if (!any_pending(ks) || !o.holder || ks.fetching_from == o.holder.address()) break;
        ks.fetching_from = o.holder.address();
        auto g = std::find_if(fetches.begin(), fetches.end(), [&](auto& p) { return p.first == o.holder; });
        if (g == fetches.end()) g = fetches.insert(fetches.end(), {o.holder, {}});
        g->second.push_back(o.key);
        break;
      }
      case WireStatus::error:
        complete(ks, Status::error, nullptr, error_of(o.error));
        break;
      case WireStatus::lost:
        complete(ks, Status::lost, nullptr,
                 std::make_exception_ptr(CommError("cask::CommError: " + o.key + " was lost: " + o.reason)));
        break;
      default:  // cancelled
        complete(ks, Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(o.key)));
        break;
    }
  }
  for (auto& [holder, keys] : fetches) fetch(self, holder, std::move(keys));
}

/// The connection to the scheduler is gone: nothing pending will ever be answered.
void lose_scheduler(self_ptr self) {
  auto& st = self->state;
  if (st.lost) return;
  st.lost = true;
  st.link_up->store(false);
  forget_scheduler(st.address);
  log::warn("lost the connection to the scheduler at " + st.address);
  const auto error = std::make_exception_ptr(
      CommError("cask::CommError: lost the connection to the scheduler at " + st.address));
  for (auto& [key, ks] : st.keys) complete(ks, Status::error, nullptr, error);
}

void refuse(const ReplyPtr& reply) {
  if (reply)
    (*reply)->fail(std::make_exception_ptr(
        Error("cask::Error: coordination objects and named actors are not available on a "
              "remote cluster yet")));
}

/// The key an actor future's value is scattered under (see "actor futures as task
/// arguments" below). Not the future's own key: the future of submit_actor has its
/// constructor task's key, which the scheduler knows as that task.
std::string direct_value_key(const std::string& key) { return "value:" + key; }

/// The task as the scheduler takes it.
WireTask wire_task(const Submission& s) {
  const RemoteCall& call = *s.spec.remote;
  WireTask t;
  t.key = *s.key;
  t.function = call.function;
  t.signature = call.signature;
  t.args = call.args;
  t.deps.reserve(s.spec.deps.size());
  for (const auto& d : s.spec.deps) t.deps.push_back(d->is_direct() ? direct_value_key(d->key()) : d->key());
  t.refs.reserve(call.refs.size());
  for (const auto& r : call.refs) t.refs.push_back(ArgRef{r.position, r.first, r.count, r.list});
  t.priority = s.spec.priority;
  t.retries = s.spec.retries;
  if (s.spec.deadline) {  // processes share the system clock, not the steady one
    const auto at = std::chrono::system_clock::now() +
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(
                        *s.spec.deadline - std::chrono::steady_clock::now());
    t.deadline_ns = std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count());
  }
  return t;
}

// --- actor futures as task arguments --------------------------------------------------
// The future of submit_actor and the future of an actor call are not tasks of the
// scheduler: the handle is made here, from the constructor task's outcome, and a call's
// outcome comes straight from the hosting worker to this process with its value (as in
// Dask, where an actor call's result travels back to the caller). Their values are here
// already, so this proxy resolves such a dependency itself: it holds the dependent back
// until those futures are done (callbacks, never a blocked thread), then puts each value on
// the cluster as a scattered task under a key of its own, submitted together with the
// dependent. The scheduler then knows the key like any other input: placement, fetching,
// failure and release need nothing new, and the dependent holds the scattered input only
// while it needs it (this proxy lets go of the key at once). A handle travels as its key,
// which the task turns back into a handle of the live instance; a call's result is a few
// bytes that came to this process anyway. The alternative, the scheduler tracking calls on
// hosted actors, would add a second kind of task to its table for no gain in locality.
// A dependency that failed, was cancelled or lost fails the dependent the same way, here.

/// Whether the dependency is not on the cluster yet: an actor future, or a task held back.
bool held_here(self_ptr self, const CorePtr& dep) {
  if (dep->is_direct()) return true;
  auto it = self->state.keys.find(dep->key());
  return it != self->state.keys.end() && it->second.held_back;
}

bool takes_actor_futures(self_ptr self, const Submission& s) {
  return std::any_of(s.spec.deps.begin(), s.spec.deps.end(), [&](const CorePtr& d) { return held_here(self, d); });
}

void defer_for_actor_futures(self_ptr self, KeyState& ks, Submission s) {
  const std::uint64_t id = self->state.next_deferred++;
  Deferred deferred;
  for (std::size_t i = 0; i < s.spec.deps.size(); ++i)
    if (held_here(self, s.spec.deps[i])) deferred.waits.push_back(i);
  std::vector<CorePtr> waits;
  for (auto i : deferred.waits) waits.push_back(s.spec.deps[i]);
  deferred.submission = std::move(s);
  self->state.deferred.emplace(id, std::move(deferred));
  ks.held_back = true;
  // The callbacks hold neither the submission nor the futures: a future that never
  // completes keeps nothing alive beyond this proxy's table.
  auto left = std::make_shared<std::atomic<std::size_t>>(waits.size());
  auto me = caf::actor_cast<client_proxy_actor>(self);
  for (const auto& d : waits)
    d->add_callback([left, me, id] {
      if (left->fetch_sub(1) == 1) caf::anon_send(me, argsready_atom::value, id);
    });
}

/// The scattered task standing for an actor future's value, or the error to fail with.
/// The constructor tasks of the Actor handles in the value go to `holds`: the dependent
/// depends on them too, so the instances live until it ends (cask/detail/actor_holds.hpp).
std::exception_ptr scatter_actor_future(const Submission& s, std::size_t dep, std::vector<WireTask>& out,
                                        std::vector<std::string>& holds) {
  const CorePtr& d = s.spec.deps[dep];
  const auto& refs = s.spec.remote->refs;
  auto ref = std::find_if(refs.begin(), refs.end(),
                          [&](const DepRef& r) { return dep >= r.first && dep < r.first + r.count; });
  if (ref == refs.end() || !ref->encode)
    return std::make_exception_ptr(SerializationError("cask::SerializationError: the value of " + d->key() +
                                                      " cannot cross to the cluster"));
  WireTask t;
  t.key = direct_value_key(d->key());
  t.function = kScatterFunction;
  t.signature = kScatterSignature;
  try {
    ActorHoldScope actors;
    t.args.push_back(ref->encode(d->value().get()));
    for (const auto& anchor : actors.take()) holds.push_back(anchor->key());
  } catch (...) {
    return std::current_exception();
  }
  out.push_back(std::move(t));
  return nullptr;
}

void on_args_ready(self_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto node = st.deferred.extract(id);
  if (node.empty()) return;
  const Submission& s = node.mapped().submission;
  auto it = st.keys.find(*s.key);
  // Released, cancelled, or failed with the scheduler meanwhile: nothing to submit.
  if (it == st.keys.end() || !any_pending(it->second) || st.lost) return;
  KeyState& ks = it->second;
  std::vector<WireTask> tasks;
  std::vector<std::string> holds;
  for (auto i : node.mapped().waits) {
    const CorePtr& d = s.spec.deps[i];
    std::exception_ptr error;
    if (d->status() != Status::finished)
      error = d->exception();
    else if (d->is_direct())
      error = scatter_actor_future(s, i, tasks, holds);
    if (error) {  // the dependent fails (or is cancelled) as its dependency did
      complete(ks, d->status() == Status::cancelled ? Status::cancelled : Status::error, nullptr, error);
      return;
    }
  }
  ks.held_back = false;
  std::vector<std::string> scattered;
  for (const auto& t : tasks) scattered.push_back(t.key);
  tasks.push_back(wire_task(s));
  // After the numbered inputs: no argument refers to these. The handles holding them live
  // in the submission's dependencies until this message is sent.
  auto& deps = tasks.back().deps;
  for (auto& key : holds)
    if (std::find(deps.begin(), deps.end(), key) == deps.end()) deps.push_back(std::move(key));
  auto me = caf::actor_cast<caf::actor>(self);
  if (!st.releases.empty()) self->send(st.scheduler, release_atom::value, me, std::exchange(st.releases, {}));
  self->send(st.scheduler, std::move(tasks));
  if (!scattered.empty()) self->send(st.scheduler, release_atom::value, me, std::move(scattered));
}

client_proxy_actor::behavior_type proxy_main(self_ptr self, ProxyInit init) {
  self->state.scheduler = std::move(init.scheduler);
  self->state.address = std::move(init.address);
  self->state.link_up = std::move(init.link_up);
  self->monitor(self->state.scheduler);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source == self->state.scheduler.address()) lose_scheduler(self);
  });
  auto me = [self] { return caf::actor_cast<caf::actor>(self); };
  return {
      [self, me](submit_atom, SubmissionBatch& batch) {
        auto& st = self->state;
        std::vector<WireTask> tasks;
        tasks.reserve(batch->size());
        for (auto& s : *batch) {
          auto& ks = submitted_key(self, *s.key);
          ++ks.holders;
          ks.handles.push_back(s.handle);
          if (st.lost) {
            complete(ks, Status::error, nullptr, std::make_exception_ptr(CommError(
                "cask::CommError: lost the connection to the scheduler at " + st.address)));
            continue;
          }
          ks.decode = s.spec.remote->decode;
          if (takes_actor_futures(self, s)) {
            defer_for_actor_futures(self, ks, std::move(s));
            continue;
          }
          WireTask t = wire_task(s);
          tasks.push_back(std::move(t));
        }
        if (tasks.empty()) return;
        // Releases still batched go first. A key whose last handle died and that is
        // submitted again must reach the scheduler in that order: a release arriving after
        // the new submit would free the value the new future is about to fetch (the fetch
        // then finds nothing, and no outcome follows).
        if (!st.releases.empty())
          self->send(st.scheduler, release_atom::value, me(), std::exchange(st.releases, {}));
        self->send(st.scheduler, std::move(tasks));
      },
      [](scatter_atom, Key&, Outcome&, std::weak_ptr<FutureCore>&, std::uintptr_t) {},
      [](ready_atom, JobPtr&) {},
      [](job_done_atom, JobPtr&) {},
      [](done_atom, std::string&, Status) {},
      [](dispatch_atom) {},
      [](deadline_atom, Key&) {},
      [self](release_atom, Key& key, std::uintptr_t) {
        auto& stale = self->state.stale_releases;
        if (auto it = stale.empty() ? stale.end() : stale.find(*key); it != stale.end()) {
          if (--it->second == 0) stale.erase(it);
          return;
        }
        auto it = self->state.keys.find(*key);
        if (it == self->state.keys.end()) return;
        if (--it->second.holders > 0) return;
        self->state.keys.erase(it);
        self->state.releases.push_back(*key);
        request_flush(self);
      },
      [self, me](cancel_atom, CancelBatch& batch) {
        std::vector<std::string> keys;
        for (auto& c : *batch) {
          if (self->state.lost) {
            if (auto core = c.canceller.lock())
              core->complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(*c.key)));
            continue;
          }
          keys.push_back(*c.key);
        }
        // The scheduler answers every key with an outcome: cancelled, or the result the
        // task already had.
        if (!keys.empty()) self->send(self->state.scheduler, cancel_atom::value, me(), std::move(keys));
      },
      [self](forget_atom, std::vector<std::string>& keys) {
        self->send(self->state.scheduler, forget_atom::value, std::move(keys));
      },
      [](capacity_atom, std::size_t, int) {},
      [](adopted_atom, Key&, Outcome&) {},
      [self, me](open_atom, OpenRequest& req) {
        if (self->state.lost) {
          (*req.reply)->fail(std::make_exception_ptr(
              CommError("cask::CommError: lost the connection to the scheduler at " + self->state.address)));
          return;
        }
        open_remote_object(self->system(), caf::actor_cast<caf::actor>(self->state.scheduler), me(),
                           self->state.address, std::move(req));
      },
      [](retire_atom, CoordKind, std::string&, std::uint64_t) {},
      [](name_atom, NameRequest& req) { refuse(req.reply); },
      [self](stats_atom) -> caf::typed_response_promise<ClusterStats> {
        auto rp = self->make_response_promise<ClusterStats>();
        self->request(self->state.scheduler, std::chrono::seconds(10), stats_atom::value)
            .then([rp](ClusterStats& s) mutable { rp.deliver(s); },
                  [rp](caf::error& e) mutable { rp.deliver(e); });
        return rp;
      },
      [](drain_atom) {
        // fire_and_forget work keeps running on the cluster after this client leaves.
        return true;
      },
      [self, me](shutdown_atom) {
        auto& st = self->state;
        if (!st.lost) {
          if (!st.releases.empty())
            self->send(st.scheduler, release_atom::value, me(), std::exchange(st.releases, {}));
          self->send(st.scheduler, goodbye_atom::value, me());
        }
        for (auto& [key, ks] : st.keys)
          complete(ks, Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(key)));
        st.keys.clear();
        self->quit();
        return true;
      },
      [self](outcome_atom, std::vector<WireOutcome>& outcomes) { on_outcomes(self, outcomes); },
      [self](fetched_atom, caf::actor& holder, std::vector<WireData>& data) {
        take_values(self, holder, data);
      },
      [self](argsready_atom, std::uint64_t id) { on_args_ready(self, id); },
      [self, me](fetch_atom) {
        auto& st = self->state;
        st.flush_pending = false;
        if (!st.releases.empty() && !st.lost)
          self->send(st.scheduler, release_atom::value, me(), std::exchange(st.releases, {}));
      },
  };
}

}  // namespace

client_proxy_actor spawn_client_proxy(caf::actor_system& sys, ProxyInit init) {
  return sys.spawn(proxy_main, std::move(init));
}

}  // namespace cask::detail
