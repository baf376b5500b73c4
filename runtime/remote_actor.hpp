// runtime/remote_actor.hpp: what a remote client keeps of an actor living on a worker.
//
// submit_actor on a remote client submits a constructor task (its key is the actor's key,
// "actor-name:<name>" for a named actor); the worker running it hosts the instance and
// answers with a RemoteActorInfo. The client keeps that task's future (the anchor) for as
// long as any handle of the actor lives: the scheduler counts it as any other future held,
// across clients, so the instance is freed once no client holds it (or its clients are
// gone). Calls go from an actor caller (actors/actor_caller.hpp) straight to the worker.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor.hpp>

#include "actors/actor_caller.hpp"
#include "cask/detail/future_core.hpp"

namespace cask::detail {

/// The function of get_actor's lookup task (actors/hosted_actors.cpp registers it in
/// every worker). The task has the name's key, so it meets the named actor's constructor
/// task when that is alive; it runs only when no actor has the name, and fails saying so.
inline constexpr const char* kLookupFunction = "cask.actor.lookup";
inline constexpr const char* kLookupSignature = "actor(std::string)";

/// The value of a constructor task, as the client decodes it.
struct RemoteActorInfo {
  std::string key;
  std::string type;
  std::string token;  // which submit made the instance (a named submit checks it is its own)
  caf::actor worker;  // where the value came from: the worker hosting the instance
};

/// Decodes a constructor task's bytes; the worker is the one the client proxy is decoding
/// a value from (HolderScope).
std::shared_ptr<const void> decode_actor_info(const Bytes& bytes);

/// Tells decode_actor_info, on this thread, which worker the bytes being decoded came
/// from (the client proxy sets it around each decode).
class HolderScope {
 public:
  explicit HolderScope(const caf::actor& holder);
  ~HolderScope();
  HolderScope(const HolderScope&) = delete;
  HolderScope& operator=(const HolderScope&) = delete;

 private:
  const caf::actor* previous_;
};

struct RemoteLink {
  std::shared_ptr<ClientState> client;
  std::string key, type, name;
  caf::actor worker;
  actor_caller_actor caller;
  std::atomic<bool> cancelled{false};
  std::mutex mu;
  CorePtr anchor;  // guarded by mu; dropped on cancel (the name is free again)
  ~RemoteLink();
};

/// Actor::cancel on a remote instance: the worker destroys it now (queued calls are
/// cancelled); later calls fail with cask::Error naming the actor.
void cancel_remote(RemoteLink& link);

}  // namespace cask::detail
