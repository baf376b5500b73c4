// cask/delayed.hpp: lazy task descriptions (Dask: dask.delayed, compute, persist).
//
//   auto d = cask::delayed(slow)(1);                 // nothing runs yet
//   auto e = cask::delayed(add)(d, 2);               // delayed calls compose
//   int v = cask::compute(e);                        // runs now, blocks, returns 5
//   auto p = client.persist(e);                      // starts now, returns at once
//   std::vector<cask::Future<int>> fs = cask::futures_of(p);
//
// The lazy counterpart that chapter 6 contrasts with futures (example 6-9): a future
// starts when submitted, a delayed call only when computed.
// Thread-safety: a Delayed is an immutable value; copy it freely.
#pragma once

#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cask/client.hpp"
#include "cask/future.hpp"
#include "cask/nested.hpp"

namespace cask {

template <class R>
class Delayed;

namespace detail {
template <class T>
struct is_delayed : std::false_type {};
template <class R>
struct is_delayed<Delayed<R>> : std::true_type {};

/// A delayed argument becomes the future of its computation; anything else stays.
template <class A>
decltype(auto) start_arg(A&& a, Client& c) {
  if constexpr (is_delayed<std::decay_t<A>>::value)
    return a.submit(c);
  else
    return std::forward<A>(a);
}

template <class A>
struct started {
  using type = A;
};
template <class R>
struct started<Delayed<R>> {
  using type = Future<R>;
};
template <class A>
using started_t = typename started<std::decay_t<A>>::type;
}  // namespace detail

template <class R>
class Delayed {
 public:
  using value_type = R;

  /// A description of work: `start(client)` submits it.
  explicit Delayed(std::function<Future<R>(Client&)> start)
      : start_(std::make_shared<const std::function<Future<R>(Client&)>>(std::move(start))) {}
  /// Work already started (what persist returns).
  explicit Delayed(Future<R> started) : started_(std::move(started)) {}

  /// Submits this call, and the delayed calls it takes as arguments, to `client`.
  Future<R> submit(Client& client) const { return started_.valid() ? started_ : (*start_)(client); }

  /// The future behind a persisted Delayed; empty when it was not persisted.
  const Future<R>& future() const noexcept { return started_; }

 private:
  std::shared_ptr<const std::function<Future<R>(Client&)>> start_;
  Future<R> started_;
};

/// Wraps a callable so that calling it describes a task instead of running it. As in
/// Dask, each call gets a fresh key when it is made: computing it twice while its first
/// future lives shares that future, and a delayed call is never merged with a submit.
template <class F>
auto delayed(F f) {
  return [f]<class... Args>(Args&&... args) {
    using R = std::decay_t<detail::task_result_t<F, detail::started_t<Args>...>>;
    options opts;
    opts.key = detail::fresh_key(detail::identify(f).name);
    return Delayed<R>([f, opts, ... args = std::forward<Args>(args)](Client& c) {
      return c.submit(opts, f, detail::start_arg(args, c)...);
    });
  };
}

/// Runs delayed calls on the current client (see get_client) and returns their values:
/// one value for one argument, a tuple for several.
template <class... R>
auto compute(const Delayed<R>&... ds) {
  Client client = get_client();
  auto futures = std::make_tuple(ds.submit(client)...);
  if constexpr (sizeof...(R) == 1)
    return std::get<0>(futures).result();
  else
    return std::apply([](const auto&... f) { return std::make_tuple(f.result()...); }, futures);
}

/// The futures behind a persisted collection (Dask: futures_of).
template <class R>
std::vector<Future<R>> futures_of(const Delayed<R>& d) {
  if (d.future().valid()) return {d.future()};
  return {};
}

template <class R>
std::vector<Future<R>> futures_of(const std::vector<Delayed<R>>& ds) {
  std::vector<Future<R>> out;
  for (const auto& d : ds)
    if (d.future().valid()) out.push_back(d.future());
  return out;
}

template <class T>
std::vector<Future<T>> futures_of(const Future<T>& f) {
  return {f};
}

template <class T>
std::vector<Future<T>> futures_of(const std::vector<Future<T>>& fs) {
  return fs;
}

}  // namespace cask
