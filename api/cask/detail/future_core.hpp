// cask/detail/future_core.hpp: the client-side state shared by all copies of a Future.
//
// Not part of the API a user calls; Future<T> is a typed view of one FutureCore. A core is
// this client's *reference* to a task key: while it lives, the scheduler keeps the task
// (and, once done, its result); its destructor releases the key, as dropping the last
// Python reference to a Dask future does. The future actor that owns the key pushes the
// outcome here once, so reading a finished future never leaves this thread.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

#include "cask/status.hpp"

namespace cask::detail {

/// A value produced by a task, type-erased. Immutable once published; shared, never copied.
using Value = std::shared_ptr<const void>;

/// A task key, allocated once and shared by the handle, the job, the scheduler's table and
/// the future actor (a pending future would otherwise carry four copies of it).
using Key = std::shared_ptr<const std::string>;

class ClientState;  // runtime/client_state.hpp
struct Job;         // actors/protocols.hpp

/// Something that wants to hear when a core reaches a final status (a waiter actor).
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  /// Called once, on whichever thread completed the core; must not block.
  virtual void on_complete(std::size_t token) = 0;
};

class FutureCore : public std::enable_shared_from_this<FutureCore> {
 public:
  FutureCore(std::shared_ptr<ClientState> client, std::string key, std::string name,
             const std::type_info& type);
  ~FutureCore();
  FutureCore(const FutureCore&) = delete;
  FutureCore& operator=(const FutureCore&) = delete;

  const std::string& key() const noexcept { return *key_; }
  const Key& shared_key() const noexcept { return key_; }
  /// The function's name, for display ("slow").
  const std::string& name() const noexcept { return name_; }
  const std::type_info& type() const noexcept { return *type_; }
  const std::shared_ptr<ClientState>& client() const noexcept { return client_; }

  Status status() const noexcept { return status_.load(std::memory_order_acquire); }
  bool done() const noexcept { return is_final(status()); }

  /// Blocks until done. Inside a task, the task's worker slot is handed back meanwhile.
  void wait() const;
  /// Like wait() with a bound; false when the time ran out first. Timed through a
  /// waiter actor's delayed message, not a polling loop.
  bool wait_for(std::chrono::nanoseconds timeout) const;

  /// The value; only meaningful when status() == finished.
  const Value& value() const noexcept { return value_; }
  /// The task's exception (error), a CancelledError (cancelled), null otherwise.
  std::exception_ptr exception() const;
  /// Waits, then throws exception() if there is one.
  void get() const;

  /// Publishes the final outcome. The first call wins; later calls return false.
  bool complete(Status status, Value value, std::exception_ptr error);
  /// Cancels the task and returns once this core is final: cancelled, or finished/erred
  /// when the task had already ended (cancelling a finished task changes nothing).
  void cancel();

  /// A *direct* core belongs to a job that runs outside the scheduler's task table (an
  /// actor call): cancel goes to the job, and the scheduler adopts the key only when the
  /// future is passed to a task.
  void set_direct(const std::shared_ptr<Job>& job);
  bool is_direct() const noexcept { return direct_; }
  std::weak_ptr<Job> direct_job() const;

  /// Runs fn once the core is done, on the client's callback thread (never a CAF thread).
  void add_callback(std::function<void()> fn);
  /// sub->on_complete(token) once the core is done (at once when it already is).
  void subscribe(std::shared_ptr<Subscriber> sub, std::size_t token);

 private:
  struct Listener {
    std::shared_ptr<Subscriber> sub;
    std::size_t token;
  };

  const std::shared_ptr<ClientState> client_;
  const Key key_;
  const std::string name_;
  const std::type_info* type_;

  std::atomic<Status> status_{Status::pending};
  // Written once by complete() before status_ is published with release ordering.
  Value value_;
  std::exception_ptr error_;
  // Bumped when status_ becomes final; blocked readers wait on it (futex).
  mutable std::atomic<std::uint32_t> done_flag_{0};

  bool direct_ = false;         // set once, before the core is shared
  std::weak_ptr<Job> direct_job_;

  std::mutex mu_;  // guards the two lists below
  std::vector<std::function<void()>> callbacks_;
  std::vector<Listener> listeners_;
};

using CorePtr = std::shared_ptr<FutureCore>;

/// Cancels all of them as one batch (see FutureCore::cancel); returns once each is final.
void cancel_all(const std::vector<CorePtr>& cores);

}  // namespace cask::detail
