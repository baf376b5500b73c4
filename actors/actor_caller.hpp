// actors/actor_caller.hpp: a remote client's link to one actor instance on a worker.
//
//   Actor::call ──call(CallRequest)──▶ caller ──acall──▶ the worker hosting the instance
//   worker ──outcome(call key, value or error)──▶ caller: decode, complete the call's future
//   call future cancelled ──ccancel──▶ caller ──ccancel──▶ worker
//   Actor::cancel ──acancel(anchor)──▶ caller ──acancel──▶ worker ──done──▶ caller: drop anchor
//   last handle gone ──release──▶ caller: quits once no call is pending
//
// One caller per ActorRef (per Actor<T> and its copies). It monitors the worker: when the
// worker is lost, every pending call fails with CommError naming the actor, and so does
// every later call, at once. When the client closes (its supervisor ends), pending calls
// are cancelled.
//
// Actor::cancel goes through the caller too, so that it reaches the worker behind the
// calls sent before it. The caller keeps the constructor task's future (the anchor) until
// the worker has destroyed the instance: letting go of it releases the key, and the
// scheduler's free message, on another path, would otherwise reach the worker first and
// end the instance as released (queued calls run on) instead of cancelled.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/cluster_protocols.hpp"
#include "actors/protocols.hpp"
#include "cask/remote.hpp"

namespace cask::detail {

/// One call, from the calling thread to the caller actor (local only).
struct CallRequest {
  std::weak_ptr<FutureCore> core;
  std::shared_ptr<const void> (*decode)(const Bytes&) = nullptr;
  JobPtr job;  // the call's stand-in job: cancelling the future cancels it (direct core)
  std::optional<std::stop_callback<std::function<void()>>> on_cancel;  // tells the worker
  WireActorCall wire;
};
using CallRequestPtr = std::shared_ptr<CallRequest>;
/// Kept (or dropped, which breaks it) once a call's cancel is settled on its worker.
using CancelAck = std::shared_ptr<std::promise<void>>;

using actor_caller_actor = caf::typed_actor<
    caf::reacts_to<call_atom, CallRequestPtr>,
    caf::reacts_to<outcome_atom, std::vector<WireOutcome>>,  // from the worker
    // a call's future was cancelled: the promise is kept once the worker confirmed it
    caf::reacts_to<ccancel_atom, std::string, CancelAck>,
    caf::reacts_to<acancel_atom, CorePtr>,                   // Actor::cancel, with the anchor
    caf::reacts_to<release_atom>>;                           // no handle is left

struct CallerInit {
  caf::actor worker;      // hosts the instance
  std::string actor_key;  // for messages
  caf::actor supervisor;  // the caller ends with the client
};

actor_caller_actor spawn_actor_caller(caf::actor_system& sys, CallerInit init);

}  // namespace cask::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::CallRequestPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::CorePtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::CancelAck)
