// cask/remote_actor.hpp: actor types callable across processes (CASK_ACTOR, CASK_ACTOR_INIT).
//
// On a remote cluster an actor's instance lives in a worker process, so its type, its
// constructors and its methods cross by name, like CASK_REMOTE functions. Register them at
// namespace scope, in the program and in the workers (compiled in, or a --preload library):
//
//   struct Account {
//     long balance = 0;
//     Account() = default;
//     explicit Account(long start) : balance(start) {}
//     long deposit(long amount) { return balance += amount; }
//     long get() const { return balance; }
//   };
//   CASK_ACTOR(Account, deposit, get);   // the type, T() (when T has one) and the methods
//   CASK_ACTOR_INIT(Account, long);      // one more constructor: Account(long)
//
//   auto account = client.submit_actor<Account>(100L).result();   // on one worker
//   account.call(&Account::deposit, 5L).result();                  // 105, run on that worker
//
// A method's parameters and result must be Serializable (cask/remote.hpp), as must a
// registered constructor's parameters; that is a compile-time error at the registration.
// Overloaded methods cannot be listed (&T::m must name one function). Identity: the type
// by its C++ name (cask::detail::type_name), a method by its name in the list, a
// constructor by its parameter types. What is not registered fails at the call with
// cask::NotRegisteredError naming it; a worker that has another signature for a method
// fails that call with NotRegisteredError too.
// Thread-safety: registration happens during static initialisation; lookups may run on
// any number of threads at once.
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cask/detail/hashing.hpp"
#include "cask/remote.hpp"

namespace cask::detail {

/// One method of a registered actor type: `invoke` decodes the arguments, runs the method
/// on `self` (a T*) and returns the encoded result.
struct ActorMethod {
  std::string type;       // "Account"
  std::string name;       // "deposit"
  std::string signature;  // "long(long)"
  const void* identity = nullptr;  // see method_identity
  std::function<Bytes(void* self, const Bytes& args)> invoke;
};

/// The process-wide table of actor methods (runtime/actor_registry.cpp).
namespace actor_registry {
void add(ActorMethod method);
/// The method `name` of `type`, or nullptr.
const ActorMethod* find(std::string_view type, std::string_view name);
/// The method of `type` whose member pointer has this identity, or nullptr.
const ActorMethod* find(std::string_view type, const void* identity);
}  // namespace actor_registry

/// What tells one member function pointer from another within a process: its first word
/// (Itanium C++ ABI: the function's address, or 1 + its vtable offset when virtual).
template <class F>
const void* method_identity(F f) {
  static_assert(std::is_member_function_pointer_v<F> && sizeof(F) == 2 * sizeof(void*));
  const void* words[2];
  std::memcpy(words, &f, sizeof f);
  return words[0];
}

template <class F>
struct method_traits {
  static constexpr bool is_method = false;
};

template <class R, class C, class... A>
struct method_traits<R (C::*)(A...)> {
  static constexpr bool is_method = true;
  using result = std::decay_t<R>;
  using params = std::tuple<std::decay_t<A>...>;
  static constexpr bool serializable = Serializable<result> && (Serializable<std::decay_t<A>> && ...);
  static std::string signature() {
    std::string s = type_name(typeid(result)) + "(";
    bool first = true;
    ((s += (first ? "" : ", ") + type_name(typeid(std::decay_t<A>)), first = false), ...);
    return s + ")";
  }
  template <auto M, class T>
  static Bytes invoke(T& self, const Bytes& bytes, const std::string& label) {
    auto args = decode_args<std::decay_t<A>...>(bytes, label);
    return std::apply(
        [&](auto&... arg) -> Bytes {
          if constexpr (std::is_void_v<R>) {
            (self.*M)(static_cast<A&&>(arg)...);
            return encode_void();
          } else {
            return encode<result>((self.*M)(static_cast<A&&>(arg)...));
          }
        },
        args);
  }
};
template <class R, class C, class... A>
struct method_traits<R (C::*)(A...) const> : method_traits<R (C::*)(A...)> {};
template <class R, class C, class... A>
struct method_traits<R (C::*)(A...) noexcept> : method_traits<R (C::*)(A...)> {};
template <class R, class C, class... A>
struct method_traits<R (C::*)(A...) const noexcept> : method_traits<R (C::*)(A...)> {};

template <class T, auto M>
ActorMethod make_actor_method(const char* name) {
  using Traits = method_traits<decltype(M)>;
  static_assert(Traits::is_method, "cask: CASK_ACTOR lists methods of the type (non-overloaded)");
  static_assert(Traits::serializable,
                CASK_DETAIL_SERIALIZABLE_MESSAGE("CASK_ACTOR method parameter and result"));
  ActorMethod m;
  m.type = type_name(typeid(T));
  m.name = name;
  m.signature = Traits::signature();
  m.identity = method_identity(M);
  m.invoke = [label = m.type + "." + m.name](void* self, const Bytes& args) {
    return Traits::template invoke<M>(*static_cast<T*>(self), args, label);
  };
  return m;
}

/// The name and signature under which the constructor T(Args...) is registered as a
/// remote function: "cask.actor:Account(long)", "actor(std::string, long)". Its first
/// parameter is a token of the submit that made the instance (see submit_remote_actor).
struct ActorConstructor {
  std::string function;
  std::string signature;
};

template <class T, class... Args>
ActorConstructor actor_constructor() {
  std::string params;
  bool first = true;
  ((params += (first ? "" : ", ") + type_name(typeid(Args)), first = false), ...);
  return {std::string(kActorConstructorPrefix) + type_name(typeid(T)) + "(" + params + ")",
          "actor(" + std::string(params.empty() ? "std::string" : "std::string, ") + params + ")"};
}

/// Inside the constructor task on a worker: hosts `instance` there (an actor host, as in
/// embedded mode) under the task's key and returns what the client decodes into an
/// Actor (runtime/hosted_actors.cpp).
Bytes host_remote_instance(std::shared_ptr<void> instance, const std::string& type,
                           const std::string& token);

template <class T, class... Args>
RemoteFunction make_decayed_actor_constructor() {
  static_assert((Serializable<Args> && ...),
                CASK_DETAIL_SERIALIZABLE_MESSAGE("CASK_ACTOR_INIT parameter"));
  static_assert(std::is_constructible_v<T, Args&&...>,
                "cask: CASK_ACTOR_INIT: the type cannot be constructed from these arguments");
  const ActorConstructor ctor = actor_constructor<T, Args...>();
  RemoteFunction fn;
  fn.name = ctor.function;
  fn.signature = ctor.signature;
  fn.call = [type = type_name(typeid(T)), label = ctor.function](std::span<const ByteView> encoded) {
    auto args = decode_params<std::string, Args...>(encoded, label);
    auto instance = std::apply(
        [](std::string&, auto&... a) { return std::make_shared<T>(static_cast<Args&&>(a)...); }, args);
    return host_remote_instance(std::move(instance), type, std::get<0>(args));
  };
  return fn;
}

/// The registration of T(Args...) (parameters taken by value, whatever their spelling).
template <class T, class... Args>
RemoteFunction make_actor_constructor() {
  return make_decayed_actor_constructor<T, std::decay_t<Args>...>();
}

/// Registers the methods (and T() when T has one) during static initialisation.
struct ActorRegistrar {
  template <class... Methods>
  ActorRegistrar(RemoteFunction* ctor, Methods... methods) {
    if (ctor) remote_registry::add(*ctor);  // a copy: every CASK_ACTOR of T shares it
    (actor_registry::add(std::move(methods)), ...);
  }
};

template <class T>
RemoteFunction* default_actor_constructor() {
  if constexpr (std::is_default_constructible_v<T>) {
    static RemoteFunction fn = make_actor_constructor<T>();
    return &fn;
  } else {
    return nullptr;
  }
}

}  // namespace cask::detail

// CASK_DETAIL_ACTOR_METHODS(T, a, b, ...) -> make_actor_method<T, &T::a>("a"), ... (up to 16)
#define CASK_DETAIL_AM(T, m) ::cask::detail::make_actor_method<T, &T::m>(#m)
#define CASK_DETAIL_AM1(T, m) , CASK_DETAIL_AM(T, m)
#define CASK_DETAIL_AM2(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM1(T, __VA_ARGS__)
#define CASK_DETAIL_AM3(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM2(T, __VA_ARGS__)
#define CASK_DETAIL_AM4(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM3(T, __VA_ARGS__)
#define CASK_DETAIL_AM5(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM4(T, __VA_ARGS__)
#define CASK_DETAIL_AM6(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM5(T, __VA_ARGS__)
#define CASK_DETAIL_AM7(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM6(T, __VA_ARGS__)
#define CASK_DETAIL_AM8(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM7(T, __VA_ARGS__)
#define CASK_DETAIL_AM9(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM8(T, __VA_ARGS__)
#define CASK_DETAIL_AM10(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM9(T, __VA_ARGS__)
#define CASK_DETAIL_AM11(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM10(T, __VA_ARGS__)
#define CASK_DETAIL_AM12(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM11(T, __VA_ARGS__)
#define CASK_DETAIL_AM13(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM12(T, __VA_ARGS__)
#define CASK_DETAIL_AM14(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM13(T, __VA_ARGS__)
#define CASK_DETAIL_AM15(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM14(T, __VA_ARGS__)
#define CASK_DETAIL_AM16(T, m, ...) , CASK_DETAIL_AM(T, m) CASK_DETAIL_AM15(T, __VA_ARGS__)
#define CASK_DETAIL_AM_PICK(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, \
                            _16, NAME, ...)                                                  \
  NAME
#define CASK_DETAIL_ACTOR_METHODS(T, ...)                                                     \
  CASK_DETAIL_AM_PICK(__VA_ARGS__, CASK_DETAIL_AM16, CASK_DETAIL_AM15, CASK_DETAIL_AM14,     \
                      CASK_DETAIL_AM13, CASK_DETAIL_AM12, CASK_DETAIL_AM11, CASK_DETAIL_AM10, \
                      CASK_DETAIL_AM9, CASK_DETAIL_AM8, CASK_DETAIL_AM7, CASK_DETAIL_AM6,     \
                      CASK_DETAIL_AM5, CASK_DETAIL_AM4, CASK_DETAIL_AM3, CASK_DETAIL_AM2,     \
                      CASK_DETAIL_AM1)                                                        \
  (T, __VA_ARGS__)

/// Registers the actor type T, its default constructor (when it has one) and the listed
/// methods (1 to 16), at namespace scope: `CASK_ACTOR(Counter, increment, add);`.
#define CASK_ACTOR(T, ...)                                                                  \
  [[maybe_unused]] static const ::cask::detail::ActorRegistrar CASK_DETAIL_CONCAT(          \
      cask_actor_registrar_, __COUNTER__) {                                                 \
    ::cask::detail::default_actor_constructor<T>() CASK_DETAIL_ACTOR_METHODS(T, __VA_ARGS__) \
  }

/// Registers the constructor T(Args...) of an actor type, at namespace scope:
/// `CASK_ACTOR_INIT(Account, long);` makes `client.submit_actor<Account>(100L)` work on a
/// remote cluster. submit_actor picks the constructor by its argument types as given
/// (decayed), so pass exactly these types.
#define CASK_ACTOR_INIT(T, ...)                                                      \
  [[maybe_unused]] static const ::cask::detail::RemoteRegistrar CASK_DETAIL_CONCAT( \
      cask_actor_init_registrar_, __COUNTER__) {                                     \
    ::cask::detail::make_actor_constructor<T, __VA_ARGS__>()                         \
  }
