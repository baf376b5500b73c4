// actors/client_proxy.hpp: a remote client's stand-in for the scheduler.
//
// A Client connected to a cask-scheduler keeps the embedded client's machinery: handles
// (FutureCores), waiter actors, callbacks. What the embedded scheduler actor did for them,
// this actor does over the network. It speaks the local scheduler protocol to the handles
// (submit, release, cancel, forget, stats, drain, shutdown) and the cluster protocol to the
// scheduler (actors/cluster_protocols.hpp):
//
//   handle ──submit──▶ proxy ──WireTask──▶ cluster scheduler ──outcome──▶ proxy
//   proxy ──fetch──▶ the worker holding the value ──bytes──▶ proxy: decode, complete handles
//   (a big value: the worker names its bulk channel, the process's BulkFetcher gets the
//   bytes there and hands them to the proxy as a `fetched` message)
//
// It counts the live handles of each key and tells the scheduler once the last one is
// gone (release). It monitors the scheduler: when the connection is lost, every pending
// handle fails with CommError and `link_up` turns false, so that later calls fail at once.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/cluster_protocols.hpp"
#include "actors/protocols.hpp"

namespace cask::detail {

/// The local scheduler protocol plus the outcomes the cluster scheduler sends.
using client_proxy_actor = scheduler_actor::extend<
    caf::reacts_to<outcome_atom, std::vector<WireOutcome>>,
    caf::reacts_to<fetch_atom>,  // to itself: flush batched releases and fetches
    // from the bulk fetcher's thread: big values fetched from the worker holding them
    caf::reacts_to<fetched_atom, caf::actor, std::vector<WireData>>,
    // to itself: the actor futures a deferred submission takes are done (its id)
    caf::reacts_to<argsready_atom, std::uint64_t>>;

struct ProxyInit {
  cluster_scheduler_actor scheduler;
  std::string address;  // for messages: "127.0.0.1:8786"
  std::shared_ptr<std::atomic<bool>> link_up;
};

client_proxy_actor spawn_client_proxy(caf::actor_system& sys, ProxyInit init);

}  // namespace cask::detail
