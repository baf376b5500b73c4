// cask/detail/actor_holds.hpp: a remote Actor handle inside a task's arguments.
//
// Not part of the API a user calls. A handle crosses processes as its key, and the worker
// looks the live instance up by it when the task starts. The instance lives while its
// constructor task is held, so a task given a handle depends on that task too (an input
// no argument refers to): the scheduler then keeps the instance until the task ends, even
// when the client drops its own handles meanwhile (Dask: an actor passed to a task stays
// alive for it). Embedded clients never serialise a handle, so nothing is collected there.
//
// Thread-safety: a scope belongs to the thread that made it; scopes nest.
#pragma once

#include <vector>

#include "cask/detail/task_spec.hpp"

namespace cask::detail {

class ActorRef;

/// While it lives, the constructor tasks of the remote handles encoded on this thread are
/// collected.
class ActorHoldScope {
 public:
  ActorHoldScope() noexcept;
  ~ActorHoldScope();
  ActorHoldScope(const ActorHoldScope&) = delete;
  ActorHoldScope& operator=(const ActorHoldScope&) = delete;

  /// The constructor tasks collected so far, each once.
  std::vector<CorePtr> take();

  /// Records the constructor task of `ref` in this thread's innermost scope, if any.
  static void note(const ActorRef& ref);

 private:
  std::vector<CorePtr> anchors_;
  ActorHoldScope* previous_;
};

}  // namespace cask::detail
