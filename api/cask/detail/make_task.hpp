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

#include "cask/detail/hashing.hpp"
#include "cask/detail/task_spec.hpp"
#include "cask/options.hpp"

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

/// Builds the spec of one task. `index` numbers the elements of a map (for explicit keys).
template <class F, class... Args>
TaskSpec make_task(const options& opts, const CallableId& id, F f, Args&&... args) {
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

  auto stored = std::make_tuple(Arg<std::decay_t<Args>>::store(std::forward<Args>(args), spec.deps)...);
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
