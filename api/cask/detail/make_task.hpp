// cask/detail/make_task.hpp: turns `f, args...` into a TaskSpec.
//
// Futures among the arguments become dependencies: the task runs once they finish and
// receives their values. A `Future<T>` argument is passed as `const T&`, a
// `std::vector<Future<T>>` as `std::vector<T>`; every other argument is copied into the
// task (decayed) and passed as an lvalue, so a retried task sees the same inputs.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cask/detail/actor_holds.hpp"
#include "cask/detail/hashing.hpp"
#include "cask/detail/task_spec.hpp"
#include "cask/options.hpp"
#include "cask/remote.hpp"

namespace cask {
template <class T>
class Future;
}

namespace cask::detail {

template <class A>
struct Arg {  // a plain argument: stored by value, passed as an lvalue
  using stored = A;
  using passed = const A&;
  static stored store(A a, std::vector<CorePtr>&) { return a; }
  static const A& resolve(const stored& s, std::span<const Value>) { return s; }
};

template <class T>
struct Arg<Future<T>> {  // a future: one dependency, passed as its value
  static_assert(!std::is_void_v<T>, "a Future<void> has no value to pass to a task");
  using stored = std::size_t;  // index into the dependency values
  using passed = const T&;
  static stored store(const Future<T>& f, std::vector<CorePtr>& deps) {
    deps.push_back(f.core());
    return deps.size() - 1;
  }
  static const T& resolve(stored i, std::span<const Value> deps) {
    return *static_cast<const T*>(deps[i].get());
  }
};

template <class T>
struct Arg<std::vector<Future<T>>> {  // futures in a vector: passed as a vector of values
  using stored = std::pair<std::size_t, std::size_t>;  // first dependency, count
  using passed = std::vector<T>;
  static stored store(const std::vector<Future<T>>& fs, std::vector<CorePtr>& deps) {
    stored s{deps.size(), fs.size()};
    for (const auto& f : fs) deps.push_back(f.core());
    return s;
  }
  static std::vector<T> resolve(const stored& s, std::span<const Value> deps) {
    std::vector<T> out;
    out.reserve(s.second);
    for (std::size_t i = 0; i < s.second; ++i)
      out.push_back(*static_cast<const T*>(deps[s.first + i].get()));
    return out;
  }
};

template <class A>
using passed_t = typename Arg<std::decay_t<A>>::passed;

/// What a task of `f(args...)` returns, after futures are replaced by their values.
template <class F, class... Args>
using task_result_t = std::invoke_result_t<const std::decay_t<F>&, passed_t<Args>...>;

template <class F, class... Args>
constexpr bool task_invocable =
    std::is_invocable_v<const std::decay_t<F>&, passed_t<Args>...>;

/// The callable's name and token, computed once per submit or map call.
struct CallableId {
  std::string name;
  std::uint64_t token = 0;
  bool hashable = false;
};

template <class F>
CallableId identify(const F& f) {
  CallableId id{callable_name(f)};
  if constexpr (has_identity<F>) {
    id.token = callable_token(f);
    id.hashable = true;
  }
  return id;
}

/// How one argument travels to a remote worker: its value, or a placeholder plus the
/// position of the dependencies whose values the worker puts there.
template <class A>
struct RemoteArg {  // encoded here; decoded on the worker as the parameter's type
  static constexpr bool serializable = std::is_constructible_v<nlohmann::json, const A&>;
  static void add(std::vector<Bytes>& args, const A& a, std::uint32_t&, std::vector<DepRef>&) {
    encode_to(args.emplace_back(), a);
  }
};

template <class T>
struct RemoteArg<Future<T>> {  // the worker puts the dependency's bytes here
  static constexpr bool serializable = true;
  static void add(std::vector<Bytes>& args, const Future<T>&, std::uint32_t& dep,
                  std::vector<DepRef>& refs) {
    refs.push_back(DepRef{std::uint32_t(args.size()), dep++, 1, false, erased_encoder<T>()});
    args.emplace_back();
  }
};

template <class T>
struct RemoteArg<std::vector<Future<T>>> {
  static constexpr bool serializable = true;
  static void add(std::vector<Bytes>& args, const std::vector<Future<T>>& fs, std::uint32_t& dep,
                  std::vector<DepRef>& refs) {
    refs.push_back(DepRef{std::uint32_t(args.size()), dep, std::uint32_t(fs.size()), true, erased_encoder<T>()});
    dep += std::uint32_t(fs.size());
    args.emplace_back();
  }
};

/// The call f(args...) as a remote cluster runs it. Throws NotRegisteredError when f is
/// not a free function registered with CASK_REMOTE in this program, SerializationError
/// when an argument or the result cannot cross processes.
template <class R, class F, class... Args>
std::shared_ptr<const RemoteCall> make_remote_call(const CallableId& id, const F& f,
                                                   const Args&... args) {
  if constexpr (!(std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>)) {
    throw NotRegisteredError("cask::NotRegisteredError: " + id.name +
                             " is not a free function and cannot run on a remote cluster: "
                             "submit a function registered with CASK_REMOTE");
  } else if constexpr (!(Serializable<R> && (RemoteArg<Args>::serializable && ...))) {
    throw SerializationError("cask::SerializationError: " + id.name +
                             " cannot run on a remote cluster: its result or an argument "
                             "has no to_json/from_json");
  } else {
    const RemoteFunction* fn = remote_registry::find(reinterpret_cast<const void*>(f));
    if (!fn)
      throw NotRegisteredError("cask::NotRegisteredError: function " + id.name +
                               " is not registered: add CASK_REMOTE(" + id.name +
                               ") to run it on a remote cluster");
    auto call = std::make_shared<RemoteCall>();
    call->function = fn->name;
    call->signature = fn->signature;
    call->decode = &decode_value<R>;
    std::uint32_t dep = 0;
    call->args.reserve(sizeof...(Args));
    try {
      (RemoteArg<Args>::add(call->args, args, dep, call->refs), ...);
    } catch (const std::exception& e) {
      throw SerializationError("cask::SerializationError: cannot encode the arguments of " +
                               id.name + ": " + e.what());
    }
    return call;
  }
}

/// A remote client's scatter: the task of cask's built-in identity function
/// (kScatterFunction, registered in every process) on `value`, whose result is the value.
template <class V>
TaskSpec make_scatter_task(std::string key, const V& value) {
  TaskSpec spec;
  spec.key = std::move(key);
  spec.name = type_name(typeid(V));
  spec.type = &typeid(V);
  auto call = std::make_shared<RemoteCall>();
  call->function = kScatterFunction;
  call->signature = kScatterSignature;
  encode_to(call->args.emplace_back(), value);
  call->decode = &decode_value<V>;
  spec.remote = std::move(call);
  return spec;
}

/// Builds the spec of one task. `index` numbers the elements of a map (for explicit keys).
/// With `remote`, the spec also carries the call in the form a remote cluster runs it.
template <class F, class... Args>
TaskSpec make_task(bool remote, const options& opts, const CallableId& id, F f, Args&&... args) {
  using R = std::decay_t<task_result_t<F, Args...>>;
  TaskSpec spec;
  spec.name = id.name;
  spec.priority = opts.priority;
  spec.retries = opts.retries;
  spec.deadline = opts.deadline;
  spec.type = &typeid(R);

  constexpr bool args_hashable = (Tokenizable<std::decay_t<Args>> && ...);
  if (opts.key.empty()) {
    const bool pure = opts.pure.value_or(true) && id.hashable && args_hashable;
    if constexpr (args_hashable) {
      if (pure) {
        std::uint64_t h = id.token;
        (Hasher<std::decay_t<Args>>::add(h, args), ...);
        spec.key = make_key(id.name, h);
      }
    }
    if (spec.key.empty()) spec.key = fresh_key(id.name);
  } else {
    spec.key = opts.key;
  }

  std::vector<CorePtr> actor_anchors;  // remote only (cask/detail/actor_holds.hpp)
  if (remote) {
    ActorHoldScope actor_holds;
    spec.remote = make_remote_call<R>(id, f, static_cast<const std::decay_t<Args>&>(args)...);
    actor_anchors = actor_holds.take();
  }
  // Braced, so that the arguments are stored (and their dependencies numbered) left to
  // right, the order in which make_remote_call numbered them; a function call's arguments
  // are evaluated in unspecified order (g++: right to left).
  std::tuple<typename Arg<std::decay_t<Args>>::stored...> stored{
      Arg<std::decay_t<Args>>::store(std::forward<Args>(args), spec.deps)...};
  // After the numbered ones: no argument refers to these (cask/detail/actor_holds.hpp).
  for (auto& anchor : actor_anchors) spec.deps.push_back(std::move(anchor));
  spec.fn = [f = std::move(f), stored = std::move(stored)](std::span<const Value> deps) -> Value {
    auto call = [&](const auto&... s) -> decltype(auto) {
      return std::invoke(f, Arg<std::decay_t<Args>>::resolve(s, deps)...);
    };
    if constexpr (std::is_void_v<R>) {
      std::apply(call, stored);
      return nullptr;
    } else {
      return std::make_shared<const R>(std::apply(call, stored));
    }
  };
  return spec;
}

}  // namespace cask::detail
