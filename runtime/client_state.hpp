// runtime/client_state.hpp: what a Client and all its handles share.
//
// Owns the embedded cluster (CAF actor system, scheduler, workers, execution pools) and
// the callback thread, and is the one way handles talk to the scheduler. Handles
// (FutureCores) keep it alive, so a future may outlive its Client: once closed, messages
// are dropped and nothing touches the destroyed actor system.
//
// Thread-safety: all members may be called from any thread; close() is idempotent.
#pragma once

#include <atomic>
#include <functional>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/send.hpp>

#include "actors/actor_caller.hpp"
#include "actors/actor_host.hpp"
#include "actors/cluster_protocols.hpp"
#include "actors/protocols.hpp"
#include "actors/waiter.hpp"
#include "cask/options.hpp"
#include "cask/stats.hpp"
#include "runtime/callback_thread.hpp"

namespace cask::detail {

class ExecutionPool;

class ClientState : public std::enable_shared_from_this<ClientState> {
 public:
  /// Starts an embedded cluster: a scheduler and `opts.workers` workers; or, when
  /// `opts.address` is set, connects to that cask-scheduler (CommError when it cannot).
  explicit ClientState(const ClientOptions& opts);
  ~ClientState();
  ClientState(const ClientState&) = delete;
  ClientState& operator=(const ClientState&) = delete;

  /// Waits for fire_and_forget work, cancels the rest, stops every actor and thread.
  void close();
  /// Blocks until a close() (under way in another thread) has finished: every future of
  /// this client is final then. Must not be called from a task of this client.
  void await_closed() const {
    while (!closed_.load(std::memory_order_acquire)) closed_.wait(false, std::memory_order_acquire);
  }

  /// Throws CommError when the client is closed or has lost its scheduler, and, for a
  /// remote cluster, NotRegisteredError when no worker runs a task's function.
  void submit(SubmissionBatch batch);

  /// The cluster runs in other processes (cask-scheduler); tasks travel as RemoteCalls.
  bool remote() const noexcept { return remote_; }
  void scatter(const CorePtr& handle, Value value);
  // The following drop their message silently once the client is closed.
  void release(const Key& key, std::uintptr_t holder);
  /// Asks the scheduler to cancel these tasks, in one message; it completes each handle
  /// with the result. False when the client is closed.
  bool cancel(const std::vector<CorePtr>& handles);
  void fire_and_forget(std::vector<std::string> keys);

  ClusterStats stats();

  bool is_open() const {
    std::shared_lock lk(mu_);
    return open_;
  }

  /// Starts a waiter actor over `cores` (see actors/waiter.hpp). Null once closed.
  std::shared_ptr<WaitLatch> wait(std::vector<CorePtr> cores, WaitMode mode,
                                  std::optional<std::chrono::nanoseconds> timeout);

  /// Calls `fire` after `delay` (a timer actor's delayed message) unless the returned
  /// function is called first. Null once closed.
  std::function<void()> start_timer(std::chrono::nanoseconds delay, std::function<void()> fire);

  CallbackThread& callbacks() noexcept { return callbacks_; }

  /// Sends a message to the scheduler; false (nothing sent) once the client is closed.
  template <class... Ts>
  bool send(Ts&&... xs) {
    std::shared_lock lk(mu_);
    if (!open_) return false;
    caf::anon_send(scheduler_, std::forward<Ts>(xs)...);
    return true;
  }
  /// Sends a message to another actor of this cluster; false once the client is closed.
  template <class Dest, class... Ts>
  bool send_to(const Dest& dest, Ts&&... xs) {
    std::shared_lock lk(mu_);
    if (!open_) return false;
    caf::anon_send(dest, std::forward<Ts>(xs)...);
    return true;
  }

  /// Spawns an actor host (actors/actor_host.hpp) for an instance living on `pool`,
  /// linked to the supervisor so that it ends with the client. Throws CommError once closed.
  actor_host spawn_host(ExecutionPool* pool, std::string key, Value instance);
  /// Spawns the caller of a remote actor instance (actors/actor_caller.hpp), linked to the
  /// supervisor. Throws CommError once closed. Defined in runtime/remote_actor_client.cpp.
  actor_caller_actor spawn_caller(CallerInit init);

 private:
  void connect(const ClientOptions& opts);
  /// Throws NotRegisteredError unless the cluster runs `call.function` with its signature
  /// (asks the scheduler again before saying no: a worker may have joined since).
  void check_runnable(const RemoteCall& call);

  mutable std::shared_mutex mu_;  // shared: using the actor system; unique: tearing it down
  bool open_ = false;             // guarded by mu_
  std::atomic<bool> closing_{false};
  std::atomic<bool> closed_{false};  // close() has finished
  std::unique_ptr<caf::actor_system_config> config_;  // embedded only
  // Embedded: this client's own. Remote: the process's network node (node_system()).
  std::shared_ptr<caf::actor_system> system_;
  scheduler_actor scheduler_;
  // Waiters and timers link to it; killing it at close() ends them all, so no helper
  // actor can keep the actor system (and the closing thread) waiting.
  caf::actor supervisor_;
  std::vector<std::unique_ptr<ExecutionPool>> pools_;
  CallbackThread callbacks_;

  // Remote clients only.
  bool remote_ = false;
  std::string address_;
  cluster_scheduler_actor remote_scheduler_;
  std::shared_ptr<std::atomic<bool>> link_up_;
  std::mutex functions_mu_;
  std::map<std::string, std::string> functions_;  // name -> signature; guarded by functions_mu_
};

/// The client get_client() returns outside tasks: the latest owning Client still alive.
void set_default_client(const std::shared_ptr<ClientState>& state);
std::shared_ptr<ClientState> default_client();

}  // namespace cask::detail
