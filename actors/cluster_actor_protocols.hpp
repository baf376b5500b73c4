// actors/cluster_actor_protocols.hpp: the messages of actors in cluster mode.
//
//   client ──submit (constructor task)──▶ scheduler ──run──▶ worker: T(args...) hosted there
//   client's actor caller ──acall(WireActorCall)──▶ that worker ──outcome──▶ actor caller
//   client's actor caller ──ccancel(call key)──▶ worker: skip or stop that call
//   Actor::cancel ──▶ actor caller ──acancel(actor key)──▶ worker: destroy the instance now,
//     then answer (the caller holds the constructor's key until then)
//   last handle gone: the scheduler frees the constructor's key ──free──▶ worker: release
//
// Calls go straight to the worker hosting the instance, never through the scheduler; the
// result comes back with the outcome (values are pushed whatever their size).
// Every type here is registered with each node's actor system (runtime/cluster_node.cpp).
#pragma once

#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace cask::detail {

using acall_atom = caf::atom_constant<caf::atom("acall")>;
using acancel_atom = caf::atom_constant<caf::atom("acancel")>;
using ccancel_atom = caf::atom_constant<caf::atom("ccancel")>;

/// One method call on a hosted actor.
struct WireActorCall {
  std::string actor;      // the key of the task that constructed the instance
  std::string type;       // its C++ type ("Counter")
  std::string method;     // "increment"
  std::string signature;  // "int()": must match the worker's registration
  std::vector<char> args;  // MessagePack array (encode_args)
  std::string key;        // the call's own key: its outcome comes back under it
  caf::actor reply_to;    // the client's actor caller (an outcome listener)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireActorCall& x) {
  return f(caf::meta::type_name("cask.WireActorCall"), x.actor, x.type, x.method, x.signature,
           x.args, x.key, x.reply_to);
}

}  // namespace cask::detail
