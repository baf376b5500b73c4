// cask/as_completed.hpp: futures in the order they finish (Dask: as_completed).
//
//   for (auto& f : cask::as_completed(futures)) std::cout << f.result() << "\n";
//
//   auto ac = cask::as_completed(futures, 10s);   // TimeoutError if not all done in 10 s
//   for (auto& f : ac) if (need_more(f)) ac.add(client.submit(work, f.key()));
//   for (auto& c : cask::as_completed(fs).with_results()) use(c.future, c.value, c.error);
//   for (auto& batch : cask::as_completed(fs).batches()) process(batch);
//
// Every handle added is yielded exactly once (finished, erred or cancelled), in
// completion order; a yielded future is no longer referenced by the AsCompleted.
// Inside a task the task's slot is handed back while it waits.
// Thread-safety: add() may be called from any thread; iterate from one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "cask/detail/completion_stream.hpp"
#include "cask/future.hpp"

namespace cask {

/// A finished future with its outcome, as yielded by with_results().
template <class T>
struct Completed {
  Future<T> future;
  std::exception_ptr error;  ///< the exception (CancelledError if cancelled); null when finished
  /// The value when finished; empty otherwise.
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
};

template <class T>
class AsCompleted {
 public:
  explicit AsCompleted(std::optional<std::chrono::steady_clock::time_point> deadline = {})
      : state_(std::make_unique<State>(deadline)) {}
  explicit AsCompleted(const std::vector<Future<T>>& fs,
                       std::optional<std::chrono::steady_clock::time_point> deadline = {})
      : AsCompleted(deadline) {
    for (const auto& f : fs) add(f);
  }

  /// Adds a future, also while iterating.
  void add(Future<T> f) {
    std::lock_guard lk(state_->mu);
    const std::size_t token = state_->futures.size();
    state_->stream.add(f.core(), token);
    state_->futures.push_back(std::move(f));
  }

  /// Futures added and not yet yielded.
  std::size_t count() const { return state_->stream.outstanding(); }
  bool is_empty() const { return count() == 0; }

  /// Blocks for the next done future; empty when none is left. TimeoutError past the
  /// deadline.
  std::optional<Future<T>> next() {
    auto token = state_->stream.next();
    if (!token) return std::nullopt;
    return take(*token);
  }

  /// Blocks until at least one is done, then returns every done one.
  std::vector<Future<T>> next_batch() {
    std::vector<Future<T>> out;
    for (std::size_t token : state_->stream.next_batch()) out.push_back(take(token));
    return out;
  }

  // Range-for over the futures in completion order.
  class iterator {
   public:
    using value_type = Future<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(AsCompleted* owner) : owner_(owner) { ++*this; }
    Future<T>& operator*() { return *current_; }
    Future<T>* operator->() { return &*current_; }
    iterator& operator++() {
      current_ = owner_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !current_.has_value(); }

   private:
    AsCompleted* owner_ = nullptr;
    std::optional<Future<T>> current_;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

  /// Iterates Completed<T> (future, value or error) instead of bare futures.
  auto with_results() & { return ResultsView<AsCompleted&>{*this}; }
  auto with_results() && { return ResultsView<AsCompleted>{std::move(*this)}; }
  /// Iterates batches: everything done since the last step, at least one each.
  auto batches() & { return BatchesView<AsCompleted&>{*this}; }
  auto batches() && { return BatchesView<AsCompleted>{std::move(*this)}; }

 private:
  struct State {
    explicit State(std::optional<std::chrono::steady_clock::time_point> d) : stream(d) {}
    std::mutex mu;
    detail::CompletionStream stream;
    std::vector<Future<T>> futures;  // by token; emptied once yielded
  };

  Future<T> take(std::size_t token) {
    std::lock_guard lk(state_->mu);
    return std::exchange(state_->futures[token], Future<T>{});
  }

  static Completed<T> complete(Future<T> f) {
    Completed<T> c{std::move(f), nullptr, std::nullopt};
    c.error = c.future.exception();
    if (!c.error) {
      if constexpr (std::is_void_v<T>)
        c.value = true;
      else
        c.value = c.future.result();
    }
    return c;
  }

  template <class Owner>  // AsCompleted& (a view) or AsCompleted (owning a temporary)
  struct ResultsView {
    Owner owner;
    struct iterator {
      AsCompleted* ac;
      std::optional<Completed<T>> current;
      iterator& operator++() {
        auto f = ac->next();
        current = f ? std::optional<Completed<T>>(complete(std::move(*f))) : std::nullopt;
        return *this;
      }
      Completed<T>& operator*() { return *current; }
      bool operator==(std::default_sentinel_t) const { return !current.has_value(); }
    };
    iterator begin() { return ++iterator{&owner, std::nullopt}; }
    std::default_sentinel_t end() { return {}; }
  };

  template <class Owner>
  struct BatchesView {
    Owner owner;
    struct iterator {
      AsCompleted* ac;
      std::vector<Future<T>> current;
      iterator& operator++() {
        current = ac->next_batch();
        return *this;
      }
      std::vector<Future<T>>& operator*() { return current; }
      bool operator==(std::default_sentinel_t) const { return current.empty(); }
    };
    iterator begin() { return ++iterator{&owner, {}}; }
    std::default_sentinel_t end() { return {}; }
  };

  std::unique_ptr<State> state_;
};

/// Yields the futures as they complete.
template <class T>
AsCompleted<T> as_completed(const std::vector<Future<T>>& fs) {
  return AsCompleted<T>(fs);
}

/// As above; iterating throws TimeoutError if futures are still outstanding after `timeout`.
template <class T, class Rep, class Period>
AsCompleted<T> as_completed(const std::vector<Future<T>>& fs,
                            std::chrono::duration<Rep, Period> timeout) {
  return AsCompleted<T>(fs, std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
}

}  // namespace cask
