// cask/client.hpp: Client, the entry point (Dask: distributed.Client).
//
//   cask::Client client;                                   // in-process cluster
//   cask::Client small{{.workers = 2, .threads_per_worker = 1}};
//   auto f  = client.submit(slow, 1);                      // Future<int>, starts now
//   auto fs = client.map(slow, std::vector{1, 2, 3, 4});   // one Future per element
//   auto g  = client.submit(add, f, fs[0]);                // runs after both, gets values
//   std::vector<int> vs = client.gather(fs);
//
// Submitting, waiting and iterating work the same from inside tasks (see cask/nested.hpp).
// `cask::Client client;` starts an embedded cluster: a scheduler actor, worker actors
// each with their own execution slots, and one actor per future, all in this process.
// Lifetime: the destructor waits for fire_and_forget work, cancels everything else,
// asks running tasks to stop (see cask::this_task), waits for them to return and stops
// the cluster. Futures may outlive their client; pending ones are then cancelled.
// Thread-safety: all members may be called concurrently from any thread.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cask/actor.hpp"
#include "cask/detail/make_task.hpp"
#include "cask/errors.hpp"
#include "cask/future.hpp"
#include "cask/options.hpp"
#include "cask/stats.hpp"

namespace cask {

class LocalCluster;

namespace detail {
bool is_remote(const ClientState& state) noexcept;
}

class Client {
 public:
  /// An embedded cluster with one worker per hardware thread, one slot each; or, when the
  /// environment variable CASK_SCHEDULER_ADDRESS names one ("host:port"), that cluster
  /// (Dask: DASK_SCHEDULER_ADDRESS).
  Client();
  /// An embedded cluster, or the remote cluster at opts.address when it is set.
  explicit Client(ClientOptions opts);
  /// The cluster whose cask-scheduler listens at "host:port". Throws CommError when it
  /// cannot be reached within ClientOptions::connect_timeout or is not a cask scheduler.
  /// (A template, like the LocalCluster one, so that `Client{{.workers = 2}}` stays
  /// unambiguous.)
  template <class Address>
    requires std::is_convertible_v<const Address&, std::string_view>
  explicit Client(const Address& address)
      : Client(ClientOptions{.address = std::string(std::string_view(address))}) {}
  /// The cluster of a LocalCluster (cask/local_cluster.hpp). A template so that
  /// `Client{{.workers = 2}}` is not ambiguous with LocalClusterOptions' fields.
  template <class Cluster>
    requires std::same_as<Cluster, LocalCluster>
  explicit Client(const Cluster& cluster) : Client(cluster.address()) {}
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) noexcept = default;
  Client& operator=(Client&&) noexcept = delete;

  /// Starts f(args...) on the cluster and returns its future at once. Future arguments
  /// are waited for and replaced by their values; an error in one fails this task too.
  template <class F, class... Args>
    requires(!std::is_same_v<std::decay_t<F>, options>)
  auto submit(F&& f, Args&&... args) {
    return submit(options{}, std::forward<F>(f), std::forward<Args>(args)...);
  }

  template <class F, class... Args>
  auto submit(const options& opts, F&& f, Args&&... args) {
    static_assert(detail::task_invocable<F, Args...>,
                  "cask::Client::submit: the callable cannot be called with these arguments "
                  "(futures count as their value types)");
    using R = std::decay_t<detail::task_result_t<F, Args...>>;
    const auto id = detail::identify(std::decay_t<F>(f));
    return Future<R>(submit_one(detail::make_task(remote_, opts, id, std::decay_t<F>(std::forward<F>(f)),
                                                  std::forward<Args>(args)...)));
  }

  /// One task per element (several ranges are zipped and must have equal lengths).
  template <class F, std::ranges::input_range... Rs>
    requires(!std::is_same_v<std::decay_t<F>, options> && sizeof...(Rs) > 0)
  auto map(F&& f, Rs&&... ranges) {
    return map(options{}, std::forward<F>(f), std::forward<Rs>(ranges)...);
  }

  template <class F, std::ranges::input_range... Rs>
    requires(sizeof...(Rs) > 0)
  auto map(const options& opts, F&& f, Rs&&... ranges) {
    static_assert(detail::task_invocable<F, std::ranges::range_reference_t<Rs>...>,
                  "cask::Client::map: the callable cannot be called with the ranges' elements");
    using R = std::decay_t<detail::task_result_t<F, std::ranges::range_reference_t<Rs>...>>;
    const auto id = detail::identify(std::decay_t<F>(f));
    std::vector<detail::TaskSpec> specs;
    auto its = std::make_tuple(std::ranges::begin(ranges)...);
    auto ends = std::make_tuple(std::ranges::end(ranges)...);
    auto any_at_end = [&] {
      return std::apply([&](auto&... e) {
        return std::apply([&](auto&... i) { return ((i == e) || ...); }, its);
      }, ends);
    };
    auto all_at_end = [&] {
      return std::apply([&](auto&... e) {
        return std::apply([&](auto&... i) { return ((i == e) && ...); }, its);
      }, ends);
    };
    for (std::size_t index = 0; !any_at_end(); ++index) {
      options element = opts;
      if (!opts.key.empty()) element.key = opts.key + "-" + std::to_string(index);
      std::apply([&](auto&... i) { specs.push_back(detail::make_task(remote_, element, id, std::decay_t<F>(f), *i...)); }, its);
      std::apply([](auto&... i) { (++i, ...); }, its);
    }
    if (!all_at_end()) throw Error("cask::Client::map: the ranges have different lengths");
    std::vector<Future<R>> out;
    out.reserve(specs.size());
    for (auto& core : submit_many(std::move(specs))) out.emplace_back(std::move(core));
    return out;
  }

  /// The values of the futures, in order; rethrows the first error met.
  template <class T>
  std::vector<T> gather(const std::vector<Future<T>>& fs) const {
    std::vector<T> out;
    out.reserve(fs.size());
    for (const auto& f : fs) out.push_back(f.result());
    return out;
  }

  /// Puts a local value on the cluster as an already finished future.
  template <class T>
  Future<std::decay_t<T>> scatter(T&& value) {
    using V = std::decay_t<T>;
    std::string key;
    if constexpr (detail::Tokenizable<V>) {
      std::uint64_t h = 0x5ca7;
      detail::Hasher<V>::add(h, value);
      key = detail::make_key(detail::type_name(typeid(V)), h);
    } else {
      key = detail::fresh_key(detail::type_name(typeid(V)));
    }
    if (remote_) {  // the value is put on a worker, as the result of cask's own identity task
      if constexpr (detail::Serializable<V>) {
        detail::CorePtr core = submit_one(detail::make_scatter_task(std::move(key), value));
        // Local data: finished at once, as embedded (the first completion wins, so the
        // cluster's later report changes nothing); dependents use the worker's copy.
        core->complete(Status::finished, std::make_shared<const V>(std::forward<T>(value)), nullptr);
        return Future<V>(std::move(core));
      } else
        throw SerializationError("cask::SerializationError: scatter of a " + detail::type_name(typeid(V)) +
                                 " to a remote cluster: the type has no to_json/from_json");
    }
    return Future<V>(scatter_value(std::move(key), typeid(V),
                                   std::make_shared<const V>(std::forward<T>(value))));
  }

  /// Starts a delayed call (cask/delayed.hpp) and returns its future.
  template <class D>
  auto compute(const D& delayed) -> decltype(delayed.submit(*this)) {
    return delayed.submit(*this);
  }

  /// Starts a delayed call and returns it backed by its running future (futures_of).
  template <class D>
  D persist(const D& delayed) {
    return D(delayed.submit(*this));
  }

  /// Cancels every future in fs (see Future::cancel).
  template <class T>
  void cancel(const std::vector<Future<T>>& fs) const {
    std::vector<detail::CorePtr> cores;
    cores.reserve(fs.size());
    for (const auto& f : fs) cores.push_back(f.core());
    detail::cancel_all(cores);  // one message: no task of the list starts meanwhile
  }

  /// Constructs T(args...) on a worker and hosts it there (cask/actor.hpp); the future
  /// finishes once the instance exists. A throwing constructor fails the future.
  template <class T, class... Args>
  Future<Actor<T>> submit_actor(Args... args) {
    return submit_actor<T>(actor_options{}, std::move(args)...);
  }

  template <class T, class... Args>
  Future<Actor<T>> submit_actor(const actor_options& opts, Args... args) {
    static_assert(std::is_constructible_v<T, Args&...>,
                  "cask::Client::submit_actor: T cannot be constructed from these arguments");
    const std::string type = detail::type_name(typeid(T));
    if (remote_) {
      if constexpr ((detail::Serializable<std::decay_t<Args>> && ...)) {
        std::vector<detail::Bytes> encoded{detail::encode(args)...};  // braces: left to right
        return Future<Actor<T>>(detail::submit_remote_actor(
            state_, type, detail::actor_constructor<T, std::decay_t<Args>...>(), std::move(encoded),
            opts.name, typeid(Actor<T>), &detail::wrap_actor<T>));
      } else {
        throw NotRegisteredError("cask::NotRegisteredError: the arguments of submit_actor<" + type +
                                 "> cannot cross processes (not Serializable)");
      }
    }
    auto construct = [type, name = opts.name, stored = std::make_tuple(std::move(args)...)] {
      auto instance = std::apply([](const auto&... a) { return std::make_shared<T>(a...); }, stored);
      auto ref = std::make_shared<detail::ActorRef>(std::move(instance), type, name);
      if (!name.empty()) detail::name_actor(ref);
      return Actor<T>(std::move(ref));
    };
    detail::CallableId id{type};
    options task_opts;
    task_opts.pure = false;  // every submit_actor makes a new instance
    return Future<Actor<T>>(submit_one(detail::make_task(false, task_opts, id, std::move(construct))));
  }

  /// The live actor created with actor_options{.name = name}; cask::Error when there is
  /// none, or it is not a T.
  template <class T>
  Actor<T> get_actor(const std::string& name) const {
    if (remote_) return Actor<T>(detail::find_remote_actor(state_, name, detail::type_name(typeid(T))));
    return Actor<T>(detail::find_actor(state_, name, detail::type_name(typeid(T))));
  }

  /// Counts from the scheduler and the workers, read in one round trip.
  ClusterStats stats() const;

  const std::shared_ptr<detail::ClientState>& state() const noexcept { return state_; }

 private:
  friend Client get_client();
  /// A client of an existing cluster that does not own it (get_client()).
  explicit Client(std::shared_ptr<detail::ClientState> state) noexcept
      : state_(std::move(state)), owner_(false), remote_(detail::is_remote(*state_)) {}

  detail::CorePtr submit_one(detail::TaskSpec spec);
  std::vector<detail::CorePtr> submit_many(std::vector<detail::TaskSpec> specs);
  detail::CorePtr scatter_value(std::string key, const std::type_info& type, detail::Value v);

  std::shared_ptr<detail::ClientState> state_;
  bool owner_ = true;  // the destructor stops the cluster
  bool remote_ = false;  // the cluster runs in other processes: tasks travel as RemoteCalls
};

}  // namespace cask
