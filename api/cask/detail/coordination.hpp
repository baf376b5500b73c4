// cask/detail/coordination.hpp: what every coordination handle (Queue, Variable, Lock,
// Semaphore, Event, Pub, Sub) is made of.
//
// Not part of the API a user calls. A CoordRef is one handle's link to the actor that owns
// a named object: opening it asks the scheduler's registry for the object's actor
// (created on first use) and checks the kind, value type and limit; every operation is
// one message to that actor, answered through a reply the caller blocks on (inside a
// task, the worker slot is handed back while it blocks). Copies of a handle share one
// CoordRef, which is also the *holder* identity of locks and semaphore leases: when the
// last copy is destroyed, whatever it still holds is released and the registry may retire
// the object once nothing refers to it and it holds nothing.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cask/detail/future_core.hpp"
#include "cask/detail/future_wire.hpp"
#include "cask/detail/hashing.hpp"
#include "cask/errors.hpp"
#include "cask/remote.hpp"

namespace cask {
class Client;
}

namespace cask::detail {

/// The kinds of named objects; each kind has its own namespace of names.
enum class CoordKind : std::uint8_t { queue, variable, lock, semaphore, event, topic };

/// "Queue", "Variable", ... for messages.
const char* kind_name(CoordKind kind) noexcept;

/// The operations the coordination actors understand. Which ones a kind accepts is
/// documented in actors/coordination.hpp.
enum class CoordOp : std::uint8_t {
  put,        // queue: append value
  get,        // queue, variable, topic subscriber: one value (blocks)
  get_batch,  // queue: `count` values (blocks until there are that many)
  get_all,    // queue: every value queued now (never blocks)
  size,       // queue: number of values
  set,        // variable: replace value; event: set the flag
  erase,      // variable: forget the value
  acquire,    // lock, semaphore: take a lease (blocks)
  release,    // lock, semaphore: give a lease back (an error when none is held)
  held,       // lock, semaphore: leases in use (number); lock: flag = locked
  clear,      // event: clear the flag
  wait,       // event: until set (blocks)
  is_set,     // event: the flag
  publish,    // topic: to every current subscriber
  subscribe,  // topic: this handle becomes a subscriber
};

/// What an operation answers.
struct CoordAnswer {
  Value value;                // get
  std::vector<Value> values;  // get_batch, get_all
  std::size_t number = 0;     // size, held
  bool flag = false;          // acquire / wait (false: timed out), held, is_set
};

struct CoordChannel;  // runtime: the object's actor and the client it lives in

class CoordRef {
 public:
  /// Opens (or creates) the object `name` of `kind` holding values of `type`. `limit` is a
  /// semaphore's maximum of leases (0 for other kinds). Throws cask::Error when an object
  /// of that kind and name exists with another type or limit, CommError when closed, and
  /// SerializationError when the client's cluster runs in other processes and the values
  /// cannot cross (`crossable` false: `type` has no to_json/from_json).
  CoordRef(Client* client, CoordKind kind, std::string name, std::string type, std::size_t limit,
           bool crossable = true);
  ~CoordRef();
  CoordRef(const CoordRef&) = delete;
  CoordRef& operator=(const CoordRef&) = delete;

  /// Sends `op` and waits for the answer. `timeout` bounds blocking operations: unset
  /// waits forever; when it runs out, gets throw TimeoutError and acquire/wait answer
  /// flag = false, having taken nothing. Errors of the operation are thrown here.
  CoordAnswer call(CoordOp op, Value value = nullptr, std::size_t count = 0,
                   std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  /// Sends `op` without waiting for an answer (publish).
  void tell(CoordOp op, Value value);

  const std::string& name() const noexcept { return name_; }
  CoordKind kind() const noexcept { return kind_; }
  /// The object lives in another process (the cluster's scheduler): values cross as bytes.
  bool remote() const noexcept { return remote_; }
  /// The client the handle belongs to (futures in its values are claimed there).
  const std::shared_ptr<ClientState>& client() const noexcept;

 private:
  /// Inside a task: counts the leases it took through this handle (+1 acquire, -1 release).
  void count_lease(int delta);

  const CoordKind kind_;
  const std::string name_;
  bool remote_ = false;
  std::shared_ptr<CoordChannel> channel_;
};

/// A value of type T stored for a coordination object.
template <class T>
Value box(T value) {
  return std::make_shared<const T>(std::move(value));
}
template <class T>
const T& unbox(const Value& v) {
  return *static_cast<const T*>(v.get());
}

/// A value for the object behind `ref`: by pointer in-process, as MessagePack bytes when
/// the object lives in another process (a T that cannot cross never gets a remote handle).
/// Futures in a remote value travel as their keys, which go with the bytes (FutureKeys).
template <class T>
Value wrap(const CoordRef& ref, T value) {
  if constexpr (Serializable<T>) {
    if (ref.remote()) {
      FutureWireScope scope(ref.client());
      Bytes bytes = encode(value);
      auto keys = scope.take_keys();
      if (keys.empty()) return std::make_shared<const Bytes>(std::move(bytes));
      return std::shared_ptr<const Bytes>(new Bytes(std::move(bytes)), FutureKeys{std::move(keys)});
    }
  }
  return box(std::move(value));
}
/// The T in a value the object answered; a remote one is decoded here, so bytes that do
/// not decode throw SerializationError at this call only.
template <class T>
T unwrap(const CoordRef& ref, const Value& v) {
  if constexpr (Serializable<T>) {
    if (ref.remote()) {
      FutureWireScope scope(ref.client());  // a future in it is claimed in the handle's client
      return decode<T>(*static_cast<const Bytes*>(v.get()));
    }
  }
  return unbox<T>(v);
}

}  // namespace cask::detail
