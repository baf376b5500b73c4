// actors/coordination.hpp: the protocol of the actors that own coordination objects
// (Queue, Variable, Lock, Semaphore, Event, Pub/Sub topics).
//
//   handle ──open──▶ scheduler (registry) ──attach──▶ object actor (spawned on first use)
//   handle ──coord(op)──▶ object actor ── answers the handle's Reply directly
//   handle ──detach──▶ object actor: releases what the handle holds; once no handle
//          refers to it and it holds nothing ──retire?──▶ registry ──retire──▶ it quits
//
// Every object kind speaks the same protocol; which operations a kind accepts is listed
// at its spawn function below. Blocking operations (get, get_batch, acquire, wait) wait
// in the actor, in arrival order; a timeout is the actor's own delayed message. A caller
// that gives up (its task was cancelled) abandons its Reply and then sends `cancel`, so
// that the requests waiting behind its own are served without waiting for the next put.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "actors/protocols.hpp"
#include "cask/detail/coordination.hpp"

namespace cask::detail {

/// One operation of one handle on an object.
struct CoordRequest {
  CoordOp op = CoordOp::size;
  Value value;
  std::size_t count = 0;
  std::uintptr_t holder = 0;  // the handle: who holds a lock or lease, who subscribes
  std::optional<std::chrono::nanoseconds> timeout;  // blocking operations; unset: forever
  ReplyPtr reply;                                   // null for one-way operations
};

using coordination_actor = caf::typed_actor<
    caf::reacts_to<coord_atom, CoordRequest>,
    caf::reacts_to<attach_atom>,                  // registry: one more handle opened it
    caf::reacts_to<detach_atom, std::uintptr_t>,  // a handle is gone: release its holdings
    caf::reacts_to<timeout_atom, std::uint64_t>,  // a waiting request's time ran out
    caf::reacts_to<cancel_atom>,                  // a waiting caller gave up: serve those behind it
    caf::reacts_to<retire_atom>,                  // registry: nobody can reach it, quit
    caf::reacts_to<shutdown_atom>>;           // cluster stops: fail waiters, quit

}  // namespace cask::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::CoordRequest)

namespace cask::detail {

/// What an object actor is created with.
struct CoordInit {
  CoordKind kind = CoordKind::queue;
  std::string name;
  std::size_t limit = 0;     // semaphore: leases; lock: 1
  scheduler_actor registry;  // asked before the object retires
};

/// Spawns the actor owning one object. Operations each kind accepts:
///   queue:     put, get, get_batch, get_all, size
///   variable:  set, get, erase
///   lock, semaphore: acquire, release, held
///   event:     set, clear, wait, is_set
///   topic:     publish, subscribe, get (a subscriber's next message)
coordination_actor spawn_coordination(caf::actor_system& sys, CoordInit init);

}  // namespace cask::detail
