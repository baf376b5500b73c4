// cask/variable.hpp: Variable<T>, a named cluster-wide value (Dask: distributed.Variable).
//
//   cask::Variable<bool> stop{"stop"};
//   stop.set(true);                          // every task reading "stop" sees it
//   bool s = stop.get();                     // waits for the first set()
//   bool t = stop.get(10ms);                 // cask::TimeoutError when never set in time
//   stop.erase();                            // back to unset
//
// Owned by one actor, created on first use. A set variable lives on without handles (as in
// Dask) until erase(); an unset one is retired with its last handle. Holding a future keeps
// it (and its task) alive until the variable is set to something else or erased, in both
// modes (with a remote cluster values cross as MessagePack and futures as their keys, as
// for Queue; each get() gives a live future of the reader's client).
// Thread-safety: a Variable handle may be used from any number of threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cask/detail/coordination.hpp"
#include "cask/detail/hashing.hpp"

namespace cask {

template <class T>
class Variable {
 public:
  /// The variable `name` of the current client (inside a task: its cluster). Throws
  /// cask::Error when `name` is a variable of another type.
  explicit Variable(std::string name) : Variable(std::move(name), nullptr) {}
  Variable(std::string name, Client& client) : Variable(std::move(name), &client) {}

  void set(T value) const { ref_->call(detail::CoordOp::set, detail::wrap(*ref_, std::move(value))); }

  /// The value, waiting for the first set() when there is none yet.
  T get() const { return detail::unwrap<T>(*ref_, ref_->call(detail::CoordOp::get).value); }
  /// As get(); TimeoutError when still unset after `timeout`.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) const {
    return detail::unwrap<T>(*ref_, ref_->call(detail::CoordOp::get, nullptr, 0,
                                       std::chrono::duration_cast<std::chrono::nanoseconds>(timeout)).value);
  }

  /// Forgets the value (a future it held is released).
  void erase() const { ref_->call(detail::CoordOp::erase); }
  const std::string& name() const noexcept { return ref_->name(); }

 private:
  Variable(std::string name, Client* client)
      : ref_(std::make_shared<detail::CoordRef>(client, detail::CoordKind::variable, std::move(name),
                                                detail::type_name(typeid(T)), 0,
                                                detail::Serializable<T>)) {}
  std::shared_ptr<detail::CoordRef> ref_;
};

}  // namespace cask
