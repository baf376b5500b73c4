// cask/pubsub.hpp: Pub<T> and Sub<T>, named publish/subscribe (Dask: distributed.Pub/Sub).
//
//   cask::Sub<std::string> sub{"logs"};      // subscribed from here on
//   cask::Pub<std::string> pub{"logs"};
//   pub.put("hello");                        // to every current subscriber; never blocks
//   std::string s = sub.get();               // the next message (blocks)
//   std::string t = sub.get(1s);             // cask::TimeoutError when none comes
//   for (const std::string& m : sub) ...     // endless: each message as it arrives
//
// A message reaches the subscribers that exist when it is published, each of which gets
// its own copy of the handle to the (shared, immutable) value, in publication order per
// publisher. A Sub stops receiving when its last copy is destroyed. With a remote cluster
// values cross as MessagePack, as for Queue; a message naming futures keeps their keys
// alive until every subscriber took it, and put() then waits until the scheduler's process
// holds them (one round trip).
// Thread-safety: any member from any thread; one Sub's messages go to whichever get()
// asks first.
#pragma once

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "cask/detail/coordination.hpp"
#include "cask/detail/hashing.hpp"

namespace cask {

template <class T>
class Pub {
 public:
  explicit Pub(std::string name) : Pub(std::move(name), nullptr) {}
  Pub(std::string name, Client& client) : Pub(std::move(name), &client) {}

  /// Publishes `value` to every current subscriber (none: it is dropped, as in Dask).
  void put(T value) const { ref_->tell(detail::CoordOp::publish, detail::wrap(*ref_, std::move(value))); }
  const std::string& name() const noexcept { return ref_->name(); }

 private:
  Pub(std::string name, Client* client)
      : ref_(std::make_shared<detail::CoordRef>(client, detail::CoordKind::topic, std::move(name),
                                                detail::type_name(typeid(T)), 0,
                                                detail::Serializable<T>)) {}
  std::shared_ptr<detail::CoordRef> ref_;
};

template <class T>
class Sub {
 public:
  explicit Sub(std::string name) : Sub(std::move(name), nullptr) {}
  Sub(std::string name, Client& client) : Sub(std::move(name), &client) {}

  /// The next message, waiting for one.
  T get() const { return detail::unwrap<T>(*ref_, ref_->call(detail::CoordOp::get).value); }
  /// As get(); TimeoutError when none arrives in time.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) const {
    return detail::unwrap<T>(*ref_, ref_->call(detail::CoordOp::get, nullptr, 0,
                                       std::chrono::duration_cast<std::chrono::nanoseconds>(timeout)).value);
  }
  const std::string& name() const noexcept { return ref_->name(); }

  /// An endless input range over the messages: each increment waits for the next one.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const Sub* sub) : sub_(sub) { ++*this; }
    const T& operator*() const { return *current_; }
    const T* operator->() const { return &*current_; }
    iterator& operator++() {
      current_ = sub_->get();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return false; }

   private:
    const Sub* sub_ = nullptr;
    std::optional<T> current_;
  };
  iterator begin() const { return iterator(this); }
  std::default_sentinel_t end() const { return {}; }

 private:
  Sub(std::string name, Client* client)
      : ref_(std::make_shared<detail::CoordRef>(client, detail::CoordKind::topic, std::move(name),
                                                detail::type_name(typeid(T)), 0,
                                                detail::Serializable<T>)) {
    ref_->call(detail::CoordOp::subscribe);
  }
  std::shared_ptr<detail::CoordRef> ref_;
};

}  // namespace cask
