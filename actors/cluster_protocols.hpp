// actors/cluster_protocols.hpp: the messages of cluster mode, between processes.
//
// Who talks to whom (every arrow is one CAF message over the io middleman; values travel
// as MessagePack bytes, code by registered name):
//
//   client proxy ──hello/submit/release/cancel/forget──▶ cluster scheduler
//   cluster scheduler ──outcomes (key, status, holder)──▶ client proxy
//   cluster worker ──outcomes with small values──▶ client proxy (the clients of a task)
//   cluster scheduler ──run (task + where its inputs are)──▶ cluster worker
//   cluster worker ──results (key, status, size)──▶ cluster scheduler
//   cluster worker / client proxy ──fetch(keys)──▶ cluster worker (the holder) ──▶ bytes
//     (a big value: the holder's bulk endpoint instead, and the bytes over a plain TCP
//     connection to it, see runtime/bulk_channel.hpp)
//
// The scheduler never sees result bytes: a result stays on the worker that computed it,
// and whoever needs it (a dependent task's worker, a client) fetches it from there; a
// small value is pushed by the worker to the clients already waiting for it, which saves
// them the fetch round trip.
// Every type here is inspectable and registered with each node's actor system
// (runtime/cluster_node.cpp) before the system starts (CAF_NOTES trap 8).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/cluster_objects.hpp"
#include "actors/cluster_actor_protocols.hpp"
#include "actors/protocols.hpp"
#include "cask/stats.hpp"

namespace cask::detail {

using hello_atom = caf::atom_constant<caf::atom("hello")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;
using free_atom = caf::atom_constant<caf::atom("free")>;
using outcome_atom = caf::atom_constant<caf::atom("outcome")>;
using goodbye_atom = caf::atom_constant<caf::atom("goodbye")>;
using functions_atom = caf::atom_constant<caf::atom("functions")>;
using wstats_atom = caf::atom_constant<caf::atom("wstats")>;
using slots_atom = caf::atom_constant<caf::atom("slots")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using fetched_atom = caf::atom_constant<caf::atom("fetched")>;
using hold_atom = caf::atom_constant<caf::atom("hold")>;
using unhold_atom = caf::atom_constant<caf::atom("unhold")>;
using share_atom = caf::atom_constant<caf::atom("share")>;
using steal_atom = caf::atom_constant<caf::atom("steal")>;
using peer_lost_atom = caf::atom_constant<caf::atom("peer_lost")>;
// A client proxy to itself: the actor futures a deferred task takes are all done.
using argsready_atom = caf::atom_constant<caf::atom("argsready")>;

/// Values up to this size go straight from the worker to the clients waiting for them,
/// with the outcome; larger ones are fetched by the clients from the worker.
constexpr std::uint64_t kPushLimit = 64 * 1024;

/// The "function" of a claim: a client that received a future (from a Queue, Variable or
/// Pub/Sub) submits its key with it to become one of the key's holders. A claim never
/// runs: an unknown key is answered as cancelled.
inline constexpr const char* kClaimFunction = "cask::claim";

/// Wire status codes (cask::Status values, plus "missing": an input could not be fetched).
enum class WireStatus : std::uint8_t { pending, finished, error, cancelled, lost, missing };

/// Where the values of a task's dependencies go in its argument array.
struct ArgRef {
  std::uint32_t position = 0;  // index in the argument array
  std::uint32_t first = 0;     // first dependency
  std::uint32_t count = 1;     // dependencies (a std::vector<Future<T>> argument: count)
  bool list = false;           // the argument is an array of the dependencies' values
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ArgRef& x) {
  return f(caf::meta::type_name("cask.ArgRef"), x.position, x.first, x.count, x.list);
}

/// A task as a client submits it: a registered function, its encoded arguments and the
/// keys of its dependencies, whose values the worker puts where `refs` says.
struct WireTask {
  std::string key;
  std::string function;
  std::string signature;
  std::vector<std::vector<char>> args;  // MessagePack, one per argument; empty at a dependency
  std::vector<std::string> deps;
  std::vector<ArgRef> refs;
  std::int32_t priority = 0;
  std::int32_t retries = 0;
  std::int64_t deadline_ns = 0;  // must start by then (system clock, ns since the epoch); 0: never
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireTask& x) {
  return f(caf::meta::type_name("cask.WireTask"), x.key, x.function, x.signature, x.args,
           x.deps, x.refs, x.priority, x.retries, x.deadline_ns);
}

/// A task assigned to a worker, with the worker holding each dependency's value.
struct WireRun {
  WireTask task;
  std::vector<caf::actor> holders;  // one per task.deps entry
  std::vector<caf::actor> push_to;  // clients to send a small value to directly
  // The scheduler numbers every run it sends. A key can be cancelled or released and
  // submitted again while the worker still reports on an earlier run of it: what the
  // worker says about a run (result, steal) and what the scheduler asks of it (cancel,
  // free) name the run, so that an old one is never taken for the new one.
  std::uint64_t run = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireRun& x) {
  return f(caf::meta::type_name("cask.WireRun"), x.task, x.holders, x.push_to, x.run);
}

/// One run of a key (WireRun::run) on a worker; run 0 names whatever run the worker has.
struct WireRunId {
  std::string key;
  std::uint64_t run = 0;
  friend bool operator==(const WireRunId&, const WireRunId&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireRunId& x) {
  return f(caf::meta::type_name("cask.WireRunId"), x.key, x.run);
}

/// What a worker reports after running (or not running) a task.
struct WireResult {
  std::string key;
  WireStatus status = WireStatus::finished;
  std::uint64_t nbytes = 0;
  std::vector<char> error;    // encode_error bytes, when status == error
  std::string missing;        // status == missing: the dependency that could not be fetched
  std::uint64_t run_ns = 0;
  std::uint64_t run = 0;      // WireRun::run of the run reported on
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireResult& x) {
  return f(caf::meta::type_name("cask.WireResult"), x.key, x.status, x.nbytes, x.error,
           x.missing, x.run_ns, x.run);
}

/// A value's bytes, shared within a process and copied only into and out of the network:
/// a worker answers a fetch, or pushes a value, straight from its store's buffer (CAF
/// serialises them from there), and what arrives becomes the receiver's buffer.
struct SharedBytes : std::shared_ptr<const std::vector<char>> {
  using shared_ptr::shared_ptr;
  SharedBytes(std::shared_ptr<const std::vector<char>> bytes) : shared_ptr(std::move(bytes)) {}
  /// The bytes (none when empty).
  const std::vector<char>& get_bytes() const {
    static const std::vector<char> none;
    return *this ? **this : none;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SharedBytes& x) {
  // On the wire a plain byte sequence (CAF copies it with one memcpy each way).
  if constexpr (Inspector::reads_state) {  // serialising or printing: never modifies
    return f(caf::meta::type_name("cask.SharedBytes"), const_cast<std::vector<char>&>(x.get_bytes()));
  } else {
    auto fresh = std::make_shared<std::vector<char>>();
    auto&& result = f(caf::meta::type_name("cask.SharedBytes"), *fresh);
    x = std::move(fresh);
    return result;
  }
}

/// What the scheduler tells a client about a key it wants.
struct WireOutcome {
  std::string key;
  WireStatus status = WireStatus::finished;
  caf::actor holder;        // finished: the worker to fetch the value from
  std::vector<char> error;  // error: encode_error bytes; cancelled/lost: empty
  std::string reason;       // cancelled/lost: why (shown in the exception)
  bool has_value = false;   // finished, pushed by the worker: `value` holds it
  SharedBytes value;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireOutcome& x) {
  return f(caf::meta::type_name("cask.WireOutcome"), x.key, x.status, x.holder, x.error,
           x.reason, x.has_value, x.value);
}

/// One fetched value: `found` is false when the holder no longer has it. A value above
/// kBulkThreshold comes without its bytes: `bulk_port` names the holder's bulk channel
/// (runtime/bulk_channel.hpp) at `bulk_host`, where the fetcher gets them.
struct WireData {
  std::string key;
  bool found = false;
  SharedBytes bytes;
  std::string bulk_host;
  std::uint16_t bulk_port = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireData& x) {
  return f(caf::meta::type_name("cask.WireData"), x.key, x.found, x.bytes, x.bulk_host,
           x.bulk_port);
}

/// A registered function as a worker advertises it.
struct WireFunction {
  std::string name;
  std::string signature;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireFunction& x) {
  return f(caf::meta::type_name("cask.WireFunction"), x.name, x.signature);
}

/// A worker joining: who it is, how many slots it has, what it can run.
struct WorkerHello {
  std::string name;
  std::uint32_t nthreads = 1;
  std::vector<WireFunction> functions;
  caf::actor self;
  std::string endpoint;  // "host:port" of its CAF port, for direct connections ("": none)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WorkerHello& x) {
  return f(caf::meta::type_name("cask.WorkerHello"), x.name, x.nthreads, x.functions, x.self,
           x.endpoint);
}

/// The scheduler's answer to a joining worker or client: the functions the cluster can
/// run (every worker that ever joined; tasks of a function whose workers are all gone wait).
struct ClusterInfo {
  std::vector<WireFunction> functions;
  std::uint32_t workers = 0;
  std::string refused;  // non-empty: the join was refused, and why
  // Where the workers' CAF ports are ("host:port"): the receiver connects to each before
  // it sends anything there (connect_peers in runtime/cluster_node.hpp).
  std::vector<std::string> peers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ClusterInfo& x) {
  return f(caf::meta::type_name("cask.ClusterInfo"), x.functions, x.workers, x.refused,
           x.peers);
}

/// Counters of the scheduler process itself, for tests: how many message bytes it
/// received (the scheduler must never relay values).
struct SchedulerCounters {
  std::uint64_t tasks_submitted = 0;
  std::uint64_t tasks_rescheduled = 0;  // put back after their worker was lost
  std::uint64_t tasks_recomputed = 0;   // results recomputed from lineage
  std::uint64_t workers_lost = 0;
  std::uint64_t result_bytes_seen = 0;  // value bytes in messages it received: stays 0
  std::uint64_t clients = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SchedulerCounters& x) {
  return f(caf::meta::type_name("cask.SchedulerCounters"), x.tasks_submitted,
           x.tasks_rescheduled, x.tasks_recomputed, x.workers_lost, x.result_bytes_seen,
           x.clients);
}

/// The scheduler of a cluster (cask-scheduler). Clients and workers reach it remotely.
using cluster_scheduler_actor = caf::typed_actor<
    // client: join (its proxy actor), answered with what the cluster can run
    caf::replies_to<hello_atom, caf::actor>::with<ClusterInfo>,
    caf::reacts_to<goodbye_atom, caf::actor>,                      // client leaves
    caf::reacts_to<std::vector<WireTask>>,                         // client: submit
    caf::reacts_to<release_atom, caf::actor, std::vector<std::string>>,  // client: drop keys
    caf::reacts_to<cancel_atom, caf::actor, std::vector<std::string>>,
    caf::reacts_to<forget_atom, std::vector<std::string>>,         // fire_and_forget
    caf::replies_to<functions_atom>::with<ClusterInfo>,
    caf::replies_to<stats_atom>::with<ClusterStats>,
    caf::replies_to<wstats_atom>::with<SchedulerCounters>,
    // worker: join, answered with the cluster's function table (or refused)
    caf::replies_to<register_atom, WorkerHello>::with<ClusterInfo>,
    caf::reacts_to<std::vector<WireResult>>,                       // worker: tasks ended
    caf::reacts_to<slots_atom, caf::actor, std::int32_t>,          // worker: +/- slots
    caf::reacts_to<deadline_atom, std::string>,  // to itself: the key's deadline passed
    // a coordination handle opens: handed to the objects gateway, which answers
    caf::replies_to<open_atom, WireCoordOpen>::with<WireOpened>,
    // the objects gateway: futures inside coordination objects (actors/cluster_objects.hpp)
    caf::reacts_to<hold_atom, std::vector<std::string>>,    // a value naming these keys went in
    caf::reacts_to<unhold_atom, std::vector<std::string>>,  // ... is gone from its object
    caf::reacts_to<share_atom, caf::actor, std::vector<std::string>>,  // ... was read by a client
    caf::reacts_to<stop_atom>>;                                    // stop serving

/// A worker process's actor: runs tasks, holds their results, serves them.
using cluster_worker_actor = caf::typed_actor<
    caf::reacts_to<std::vector<WireRun>>,                          // scheduler: run these
    caf::reacts_to<cancel_atom, std::vector<WireRunId>>,           // scheduler: stop these
    // scheduler: give back up to n runs that have not started; answers with them
    caf::replies_to<steal_atom, std::uint32_t>::with<std::vector<WireRunId>>,
    caf::reacts_to<free_atom, std::vector<WireRunId>>,             // scheduler: drop results
    caf::replies_to<fetch_atom, std::vector<std::string>>::with<std::vector<WireData>>,
    caf::reacts_to<flush_atom>,  // from its own slots: results are ready to report
    // from its bulk fetcher thread: the values of a fetch (by its number) arrived or failed
    caf::reacts_to<fetched_atom, std::uint64_t, std::vector<WireData>>,
    caf::reacts_to<stop_atom>,
    // scheduler: a worker on that node left; fetches from it fail now. CAF tells a
    // monitor of a node it reached through a third one of nothing, so the scheduler,
    // which saw the worker leave, is the one that says.
    caf::reacts_to<peer_lost_atom, caf::node_id>,
    // hosted actors (actors/cluster_actor_protocols.hpp)
    caf::reacts_to<acall_atom, WireActorCall>,
    caf::replies_to<acancel_atom, std::string>::with<bool>,  // true once the instance is gone
    caf::replies_to<ccancel_atom, std::string>::with<bool>>;  // answered once the call cannot start

/// A client's proxy actor: hears the outcomes of the keys it wants.
using outcome_listener_actor = caf::typed_actor<
    caf::reacts_to<outcome_atom, std::vector<WireOutcome>>>;

}  // namespace cask::detail
