// actors/cluster_objects.hpp: coordination objects (Queue, Variable, Lock, Semaphore,
// Event, Pub/Sub) of a multi-process cluster.
//
// The scheduler's process owns every object: its *objects gateway* keeps a Registry and
// spawns the same object actors as embedded mode (actors/coordination.hpp), whose values
// there are opaque MessagePack bytes. A handle in another process talks to a local
// *stand-in* actor that speaks coordination_actor, so that the handles do not know where
// the object lives:
//
//   handle ──open──▶ client proxy ──spawn──▶ stand-in ──open──▶ scheduler ──delegate──▶ gateway
//   handle ──coord(op)──▶ stand-in ──WireCoord(handle, request id)──▶ gateway ──▶ object actor
//   object actor ──answers a Reply whose on_publish hook sends──▶ WireCoordAnswer ──▶ stand-in
//   stand-in ──fills the handle's Reply──▶ the blocked caller wakes up
//
// Each stand-in is one handle: the gateway gives it a handle id, which is the holder of
// its locks, leases and subscriptions on the object, and monitors it. When the stand-in
// goes (the handle was destroyed, its client closed, its process died or lost the
// connection) everything the handle held is released and its waiting requests dropped.
// A caller that gives up (its task was cancelled) makes the stand-in send a cancel, which
// abandons the server-side Reply so that the object takes nothing for nobody.
//
// Futures inside values: the handle sends the keys a value names with it (WireCoord::keys).
// The gateway stores such a value with a deleter that holds its keys on the scheduler
// until the object lets go of it (taken out of a queue, a variable overwritten or erased,
// read by every subscriber); a handle reading it makes its client a holder of the keys
// first, so that they stay alive across the hand-over.
//
// Every Wire* type here is inspectable and registered on every node
// (runtime/cluster_node.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/coordination.hpp"
#include "actors/protocols.hpp"

namespace cask::detail {

/// A handle opening the object `name` of `kind` (a CoordKind) holding `type`.
struct WireCoordOpen {
  std::uint8_t kind = 0;
  std::string name;
  std::string type;
  std::uint64_t limit = 0;
  caf::actor client;  // the handle's client proxy: made a holder of the futures it reads
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireCoordOpen& x) {
  return f(caf::meta::type_name("cask.WireCoordOpen"), x.kind, x.name, x.type, x.limit, x.client);
}

/// The gateway's answer to an open: the handle's id and where to send its operations, or
/// why it was refused (a kind/type/limit mismatch).
struct WireOpened {
  std::uint64_t handle = 0;
  caf::actor gateway;
  std::string error;  // non-empty: refused, with cask::Error's message
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireOpened& x) {
  return f(caf::meta::type_name("cask.WireOpened"), x.handle, x.gateway, x.error);
}

/// One operation of a handle (a CoordRequest on the wire). `request` 0: one-way.
struct WireCoord {
  std::uint64_t handle = 0;
  std::uint64_t request = 0;
  std::uint8_t op = 0;  // a CoordOp
  bool has_value = false;
  std::vector<char> value;  // MessagePack
  std::uint64_t count = 0;
  std::int64_t timeout_ns = -1;  // < 0: wait forever
  std::vector<std::string> keys;  // the futures `value` names (kept alive while it is stored)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireCoord& x) {
  return f(caf::meta::type_name("cask.WireCoord"), x.handle, x.request, x.op, x.has_value,
           x.value, x.count, x.timeout_ns, x.keys);
}

/// How an operation failed, so that the caller gets the same exception type as embedded.
enum class WireCoordError : std::uint8_t { none, error, timeout, comm, serialization, cancelled };

/// The answer to one request (a CoordAnswer or an error on the wire).
struct WireCoordAnswer {
  std::uint64_t request = 0;
  std::uint8_t error_kind = 0;  // a WireCoordError; cancelled: the cancel took effect
  std::string error;
  bool has_value = false;
  std::vector<char> value;
  std::vector<std::vector<char>> values;
  std::uint64_t number = 0;
  bool flag = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, WireCoordAnswer& x) {
  return f(caf::meta::type_name("cask.WireCoordAnswer"), x.request, x.error_kind, x.error,
           x.has_value, x.value, x.values, x.number, x.flag);
}

/// The error of a Reply on the wire, and back: cask::Error, TimeoutError, CommError and
/// SerializationError keep their type (anything else arrives as cask::Error).
void put_error(WireCoordAnswer& answer, const std::exception_ptr& error);
std::exception_ptr error_of(const WireCoordAnswer& answer);

/// The scheduler process's owner of every coordination object.
using cluster_objects_actor = caf::typed_actor<
    caf::replies_to<open_atom, WireCoordOpen>::with<WireOpened>,  // via the scheduler
    caf::reacts_to<coord_atom, WireCoord>,                        // stand-in: an operation
    caf::reacts_to<cancel_atom, std::uint64_t, std::uint64_t>,    // stand-in: handle, request
    caf::reacts_to<detach_atom, std::uint64_t>,                   // stand-in: handle is gone
    caf::reacts_to<retire_atom, CoordKind, std::string, std::uint64_t>,   // object: may I quit?
    caf::replies_to<stats_atom>::with<std::uint64_t>>;  // scheduler: live objects, for stats()

/// Spawns the gateway; it ends (stopping every object) when `scheduler` does.
cluster_objects_actor spawn_cluster_objects(caf::actor_system& sys, caf::actor scheduler);

/// Client side: opens the object `req` asks for through the cluster scheduler and answers
/// `req.reply` with a stand-in actor (or the error). The stand-in ends with `proxy` (the
/// client closed) or the scheduler (lost): its waiting callers get CommError. `address`
/// names the scheduler in messages.
void open_remote_object(caf::actor_system& sys, caf::actor scheduler, caf::actor proxy,
                        std::string address, OpenRequest req);

}  // namespace cask::detail
