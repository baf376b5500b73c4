// cask/queue.hpp: Queue<T>, a named cluster-wide FIFO (Dask: distributed.Queue).
//
//   cask::Queue<int> q{"jobs"};            // the same name anywhere in the cluster is the same queue
//   q.put(1);
//   int x = q.get();                       // blocks until an item is there
//   int y = q.get(100ms);                  // cask::TimeoutError if none comes; nothing is taken
//   std::vector<int> xs = q.get_batch(3);  // waits for three items
//
// The queue is owned by one actor, created on first use and retired once no handle refers
// to it and it is empty. In an embedded cluster items are moved by pointer, never copied;
// a queue of futures keeps each future (and its task) alive until it is taken out. With a
// remote cluster the queue lives in the scheduler's process and items cross as MessagePack:
// T must convert to and from nlohmann::json (else SerializationError when the handle is
// made); an item that does not decode fails the get that took it with SerializationError.
// A Future<U> (U json-convertible), alone or inside T, crosses as its key: the scheduler
// keeps the key alive while the item is queued, and the taker gets a live future of its
// own client, released when the taker drops it (Dask's semantics); a key cancelled
// meanwhile gives CancelledError at result(). A task blocked in get() gives its worker slot back
// while it waits; cancelling the task wakes it with CancelledError and takes nothing.
// Thread-safety: a Queue handle may be used from any number of threads at once.
// Lifetime: copies share one handle; the object outlives handles while it holds items.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cask/detail/coordination.hpp"
#include "cask/detail/hashing.hpp"

namespace cask {

template <class T>
class Queue {
 public:
  /// The queue `name` of the current client (inside a task: its cluster). Throws
  /// cask::Error when `name` is a queue of another type.
  explicit Queue(std::string name) : Queue(std::move(name), nullptr) {}
  Queue(std::string name, Client& client) : Queue(std::move(name), &client) {}

  void put(T value) const { ref_->call(detail::CoordOp::put, detail::wrap(*ref_, std::move(value))); }

  /// Takes the oldest item, waiting for one.
  T get() const { return detail::unwrap<T>(*ref_, ref_->call(detail::CoordOp::get).value); }
  /// As get(); TimeoutError when nothing arrives in time (nothing is taken then).
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) const {
    return detail::unwrap<T>(*ref_, ref_->call(detail::CoordOp::get, nullptr, 0, ns(timeout)).value);
  }

  /// Takes the `n` oldest items, waiting until there are that many (all or nothing).
  std::vector<T> get_batch(std::size_t n) const { return unbox_all(ref_->call(detail::CoordOp::get_batch, nullptr, n).values); }
  template <class Rep, class Period>
  std::vector<T> get_batch(std::size_t n, std::chrono::duration<Rep, Period> timeout) const {
    return unbox_all(ref_->call(detail::CoordOp::get_batch, nullptr, n, ns(timeout)).values);
  }
  /// Takes every item queued now; never waits (Dask: get(batch=True)).
  std::vector<T> get_all() const { return unbox_all(ref_->call(detail::CoordOp::get_all).values); }

  /// Items queued now.
  std::size_t size() const { return ref_->call(detail::CoordOp::size).number; }
  const std::string& name() const noexcept { return ref_->name(); }

 private:
  Queue(std::string name, Client* client)
      : ref_(std::make_shared<detail::CoordRef>(client, detail::CoordKind::queue, std::move(name),
                                                detail::type_name(typeid(T)), 0,
                                                detail::Serializable<T>)) {}
  template <class D>
  static std::chrono::nanoseconds ns(D d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d); }
  std::vector<T> unbox_all(const std::vector<detail::Value>& vs) const {
    std::vector<T> out;
    out.reserve(vs.size());
    for (const auto& v : vs) out.push_back(detail::unwrap<T>(*ref_, v));
    return out;
  }

  std::shared_ptr<detail::CoordRef> ref_;
};

}  // namespace cask
