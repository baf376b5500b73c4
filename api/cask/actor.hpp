// cask/actor.hpp: Actor<T>, a stateful object living on one worker whose method calls
// return futures (Dask: client.submit(Class, actor=True)).
//
//   struct Counter { int n = 0; int increment() { return ++n; } };
//   cask::Actor<Counter> counter = client.submit_actor<Counter>().result();
//   cask::Future<int> r = counter.call(&Counter::increment);      // r.result() == 1
//   auto named = client.submit_actor<Counter>(cask::actor_options{.name = "hits"}).result();
//   cask::Actor<Counter> same = client.get_actor<Counter>("hits");
//
// The instance is constructed on a worker by a task and hosted there by one CAF actor,
// which runs its calls one at a time, in the order they reach it, on that worker's
// execution slots (never on CAF's threads). A call's Future is like any task's: result()
// with timeouts, wait, as_completed, cancel, and an argument to other tasks. An exception
// in a method fails that call only; the actor lives on. Calls take plain values (a
// future's value must be fetched first). A call runs even when its future is dropped
// (as in Dask: it may change the actor's state); cancel the future to skip it.
// Lifetime: copies share one reference. The instance is destroyed (on its worker) after
// its queued calls when the last copy, and the Future it came from, are gone, or at once
// on cancel(); a later call fails with cask::Error naming the actor.
// Thread-safety: an Actor handle may be used from any thread and passed into tasks, which
// may call it too.
// On a remote cluster the type must be registered with CASK_ACTOR (and CASK_ACTOR_INIT for
// constructors with arguments, see cask/remote_actor.hpp); calls take the listed methods
// only, with Serializable arguments, and go straight to the worker hosting the instance.
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cask/detail/actor_holds.hpp"
#include "cask/detail/hashing.hpp"
#include "cask/detail/task_spec.hpp"
#include "cask/errors.hpp"
#include "cask/future.hpp"
#include "cask/remote_actor.hpp"

namespace cask {

/// Options of Client::submit_actor.
struct actor_options {
  /// Registers the actor under this name, for Client::get_actor. Empty: anonymous.
  /// Creating a second live actor with the same name fails that submit.
  std::string name;
};

namespace detail {

struct HostLink;    // runtime: the host actor and the client it lives in
struct RemoteLink;  // runtime/remote_actor.hpp: an instance on a worker of a remote cluster

/// What all copies of one Actor<T> share. Its destructor releases the actor.
class ActorRef : public std::enable_shared_from_this<ActorRef> {
 public:
  /// Hosts `instance` on the worker running the current task (only valid inside a task,
  /// which is how submit_actor constructs actors). Registers `name` when not empty.
  ActorRef(std::shared_ptr<void> instance, std::string type, std::string name);
  /// An instance on a worker of a remote cluster (runtime/remote_actor_client.cpp).
  explicit ActorRef(std::shared_ptr<RemoteLink> remote);
  ~ActorRef();
  ActorRef(const ActorRef&) = delete;
  ActorRef& operator=(const ActorRef&) = delete;

  /// Queues one call; `fn` receives the instance as its only input.
  CorePtr call(std::string call_name, const std::type_info& result, TaskFn fn) const;
  void cancel() const;

  bool remote() const noexcept { return remote_ != nullptr; }
  /// Queues one call on a remote instance: the registered method with this identity
  /// (method_identity), its arguments as encode_args bytes, `decode` for its result.
  /// NotRegisteredError when the method is not in the type's CASK_ACTOR; `label` names it.
  CorePtr call_remote(const void* method, const std::string& label, const std::type_info& result,
                      Bytes args, std::shared_ptr<const void> (*decode)(const Bytes&)) const;

  /// A remote instance's constructor task (null embedded, or once cancelled): the instance
  /// lives while it is held (see cask/detail/actor_holds.hpp).
  CorePtr remote_anchor() const;

  const std::string& key() const noexcept { return key_; }
  const std::string& type() const noexcept { return type_; }
  const std::string& name() const noexcept { return name_; }

 private:
  std::string key_, type_, name_;
  std::shared_ptr<HostLink> host_;      // embedded
  std::shared_ptr<RemoteLink> remote_;  // remote cluster
};

/// A remote client's submit_actor: submits the constructor task (NotRegisteredError when
/// it is not registered here or no worker runs it) and returns the core of the
/// Future<Actor<T>>, which `wrap` completes with the handle once the instance exists.
CorePtr submit_remote_actor(const std::shared_ptr<ClientState>& client, const std::string& type,
                            const ActorConstructor& ctor, std::vector<Bytes> args,
                            const std::string& name, const std::type_info& result,
                            std::shared_ptr<const void> (*wrap)(std::shared_ptr<ActorRef>));

/// A remote client's get_actor: the live actor named `name`, or cask::Error.
std::shared_ptr<ActorRef> find_remote_actor(const std::shared_ptr<ClientState>& client,
                                            const std::string& name, const std::string& type);

/// An Actor handle arriving in another process (a task's argument): the live actor whose
/// constructor task has `key`, through the current task's client (or the default client).
/// cask::Error when it is gone.
std::shared_ptr<ActorRef> remote_actor_by_key(const std::string& key, const std::string& name,
                                              const std::string& type);

/// Registers a named actor (ref->name()); cask::Error when a live actor has that name.
void name_actor(const std::shared_ptr<ActorRef>& ref);

/// The named actor of that type, or cask::Error.
std::shared_ptr<ActorRef> find_actor(const std::shared_ptr<ClientState>& client, const std::string& name,
                                     const std::string& type);

template <class A>
constexpr bool is_future = false;
template <class U>
constexpr bool is_future<Future<U>> = true;

/// "increment" for &Counter::increment (a non-virtual member function, by its symbol),
/// the callable's type name otherwise.
template <class F>
std::string method_name(const F& f) {
  if constexpr (std::is_member_function_pointer_v<F>) {
    // Itanium C++ ABI: a non-virtual member function pointer's first word is the
    // function's address (even); a virtual one's is 1 + vtable offset (odd).
    static_assert(sizeof(F) == 2 * sizeof(void*));
    void* words[2];
    std::memcpy(words, &f, sizeof f);
    if ((reinterpret_cast<std::uintptr_t>(words[0]) & 1) == 0) return symbol_name(words[0]);
    return "method";
  } else {
    return callable_name(f);
  }
}

}  // namespace detail

template <class T>
class Actor;
template <class T>
void to_json(nlohmann::json& j, const Actor<T>& actor);

template <class T>
class Actor {
 public:
  using value_type = T;
  /// An empty handle; valid() is false.
  Actor() = default;
  explicit Actor(std::shared_ptr<detail::ActorRef> ref) : ref_(std::move(ref)) {}

  bool valid() const noexcept { return ref_ != nullptr; }
  /// The key of the task that created it ("Counter-3a1f...").
  const std::string& key() const { return ref_->key(); }
  const std::string& name() const { return ref_->name(); }

  /// Calls `std::invoke(f, instance, args...)` on the actor's worker, after every call
  /// sent before it; `f` is usually a member function pointer (&T::method).
  template <class F, class... Args>
  auto call(F f, Args... args) const {
    static_assert(std::is_invocable_v<const F&, T&, Args&...>,
                  "cask::Actor::call: the method cannot be called with these arguments");
    static_assert((!detail::is_future<Args> && ...),
                  "cask::Actor::call: calls take plain values; pass f.result() instead of a Future");
    using R = std::decay_t<std::invoke_result_t<const F&, T&, Args&...>>;
    if (ref_->remote()) return call_remote<R>(f, args...);
    std::string call_name = ref_->type() + "." + detail::method_name(f);
    detail::TaskFn fn = [f, stored = std::make_tuple(std::move(args)...)](
                            std::span<const detail::Value> in) mutable -> detail::Value {
      T& self = *static_cast<T*>(const_cast<void*>(in[0].get()));
      auto invoke = [&](auto&... a) -> decltype(auto) { return std::invoke(f, self, a...); };
      if constexpr (std::is_void_v<R>) {
        std::apply(invoke, stored);
        return nullptr;
      } else {
        return std::make_shared<const R>(std::apply(invoke, stored));
      }
    };
    return Future<R>(ref_->call(std::move(call_name), typeid(R), std::move(fn)));
  }

  /// Releases the actor now: queued calls are cancelled, a running one is asked to stop,
  /// the instance is destroyed, and later calls fail with cask::Error.
  void cancel() const { ref_->cancel(); }

  friend bool operator==(const Actor& a, const Actor& b) { return a.ref_ == b.ref_; }

 private:
  /// On a remote cluster: a CASK_ACTOR method with Serializable arguments, converted to
  /// the method's parameter types and encoded here.
  template <class R, class F, class... Args>
  Future<R> call_remote(const F& f, const Args&... args) const {
    using Traits = detail::method_traits<F>;
    if constexpr (Traits::is_method) {
      if constexpr (Traits::serializable && sizeof...(Args) == std::tuple_size_v<typename Traits::params>) {
        auto bytes = [&]<std::size_t... I>(std::index_sequence<I...>) {
          return detail::encode_args(static_cast<std::tuple_element_t<I, typename Traits::params>>(args)...);
        }(std::index_sequence_for<Args...>{});
        return Future<R>(ref_->call_remote(detail::method_identity(f), detail::method_name(f), typeid(R),
                                           std::move(bytes), &detail::decode_value<R>));
      }
    }
    throw NotRegisteredError("cask::NotRegisteredError: " + ref_->type() + "." + detail::method_name(f) +
                             " cannot run on a remote cluster: only methods listed in CASK_ACTOR, "
                             "with Serializable arguments and result, can");
  }


  friend void to_json<T>(nlohmann::json& j, const Actor& actor);
  std::shared_ptr<detail::ActorRef> ref_;
};

/// An Actor crosses processes (as a task's argument, say) as its key: the receiving side
/// finds the live instance by it and holds it while its handle lives. Embedded clients
/// never serialise it.
template <class T>
void to_json(nlohmann::json& j, const Actor<T>& actor) {
  if (!actor.valid()) throw Error("cask::Error: an empty Actor cannot cross processes");
  detail::ActorHoldScope::note(*actor.ref_);
  j = nlohmann::json{{"actor", actor.key()}, {"name", actor.name()}};
}
template <class T>
void from_json(const nlohmann::json& j, Actor<T>& actor) {
  actor = Actor<T>(detail::remote_actor_by_key(j.at("actor").get<std::string>(), j.at("name").get<std::string>(),
                                               detail::type_name(typeid(T))));
}

namespace detail {
/// The value of a Future<Actor<T>>: the handle itself.
template <class T>
std::shared_ptr<const void> wrap_actor(std::shared_ptr<ActorRef> ref) {
  return std::make_shared<const Actor<T>>(std::move(ref));
}
}  // namespace detail

}  // namespace cask
