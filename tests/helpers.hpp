// tests/helpers.hpp: deterministic synchronisation for cask's tests.
//
// Tasks are gated on events the test controls, never on sleeps that hope something
// happened. The only polling is `eventually`, a bounded wait on an observable state
// (client.stats()) with a deadline.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include <cask/cask.hpp>

namespace cask_test {

using namespace std::chrono_literals;

/// How long a test waits for something that should happen promptly before failing.
inline constexpr auto kPatience = std::chrono::seconds(5);

/// A one-shot event. Tasks block on it with wait() (which also returns when the task is
/// cancelled); the test thread waits with wait_for() so that a failure never hangs.
class Event {
 public:
  void set() {
    {
      std::lock_guard lk(mu_);
      set_ = true;
    }
    cv_.notify_all();
  }
  bool is_set() const {
    std::lock_guard lk(mu_);
    return set_;
  }
  /// Inside a task: blocks until set or until the task is asked to stop (its stop token).
  /// Returns true when set.
  bool wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, cask::this_task::stop_token(), [&] { return set_; });
    return set_;
  }
  /// Bounded wait; true when set in time.
  bool wait_for(std::chrono::nanoseconds d = kPatience) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, d, [&] { return set_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  bool set_ = false;
};

using EventPtr = std::shared_ptr<Event>;
inline EventPtr make_event() { return std::make_shared<Event>(); }

/// Opens an event when it goes out of scope: declared after a Client, it releases gated
/// tasks before the Client's destructor waits for them, even when a REQUIRE failed.
struct OpenOnExit {
  EventPtr event;
  ~OpenOnExit() { event->set(); }
};

/// Thread-safe record of what ran, in order.
template <class T>
class Recorder {
 public:
  void push(T v) {
    std::lock_guard lk(mu_);
    items_.push_back(std::move(v));
  }
  std::vector<T> items() const {
    std::lock_guard lk(mu_);
    return items_;
  }
  std::size_t size() const {
    std::lock_guard lk(mu_);
    return items_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<T> items_;
};

/// Polls `pred` until it holds or `limit` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = kPatience) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(2ms);
  }
}

/// A task exception type of the tests' own, to check that the same type comes back.
struct MyError : std::runtime_error {
  explicit MyError(const std::string& what, int code = 0) : std::runtime_error(what), code(code) {}
  int code;
};

/// Another one, not derived from std::exception.
struct NotAnException {
  int value;
};

/// A gated task body for completion tests: `task(v)` returns a callable that counts its
/// runs, signals `started`, blocks until `open` is set (or the task is cancelled), records
/// whether its stop was requested, signals `left`, and returns v (or -1 when woken by
/// cancellation). `failing_task(code)` throws MyError(code) instead of returning once opened.
/// After a cancel, wait for `left` before reading `stop_seen`: the body may still be waking.
struct Gate {
  EventPtr started = make_event();
  EventPtr open = make_event();
  EventPtr left = make_event();
  std::shared_ptr<std::atomic<int>> runs = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> stop_seen = std::make_shared<std::atomic<bool>>(false);

  auto task(int value) const {
    return [started = started, open = open, left = left, runs = runs, stop_seen = stop_seen, value]() -> int {
      runs->fetch_add(1);
      started->set();
      const bool opened = open->wait();
      stop_seen->store(cask::this_task::stop_requested());
      left->set();
      return opened ? value : -1;
    };
  }
  auto failing_task(int code) const {
    return [started = started, open = open, left = left, runs = runs, stop_seen = stop_seen, code]() -> int {
      runs->fetch_add(1);
      started->set();
      const bool opened = open->wait();
      stop_seen->store(cask::this_task::stop_requested());
      left->set();
      if (opened) throw MyError("gated failure", code);
      return -1;
    };
  }
};

/// Runs `f()` on a thread of its own, so that the test thread can check that a blocking
/// call has (or has not) returned, with bounded waits only. If the call never returns the
/// thread is detached at destruction instead of hanging the test.
template <class T>
class InBackground {
 public:
  template <class F>
  explicit InBackground(F f) : state_(std::make_shared<State>()) {
    thread_ = std::thread([s = state_, f = std::move(f)]() mutable {
      {
        auto call = std::move(f);  // destroyed (with its captures) before `done` is set
        try {
          s->value.emplace(call());
        } catch (...) {
          s->error = std::current_exception();
        }
      }
      s->done.set();
    });
  }
  ~InBackground() {
    if (state_->done.wait_for(kPatience))
      thread_.join();
    else
      thread_.detach();
  }
  InBackground(const InBackground&) = delete;
  InBackground& operator=(const InBackground&) = delete;

  /// True once the call returned or threw.
  bool finished() const { return state_->done.is_set(); }
  /// Bounded wait for the call to return or throw.
  bool wait_for(std::chrono::nanoseconds d = kPatience) { return state_->done.wait_for(d); }
  /// The call's value (rethrows its exception); requires it to finish within kPatience.
  T get() {
    REQUIRE(wait_for());
    if (state_->error) std::rethrow_exception(state_->error);
    return *state_->value;
  }

 private:
  struct State {
    Event done;
    std::optional<T> value;
    std::exception_ptr error;
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
};

/// Time since `t0`.
inline std::chrono::nanoseconds since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::steady_clock::now() - t0;
}

/// Live coordination objects (Queue, Lock, ...) of the client's cluster.
inline std::size_t objects(const cask::Client& client) { return client.stats().coordination_objects; }

}  // namespace cask_test

// Free functions with external linkage: the test binary exports its symbols, so their keys
// read "slow-..." (see operator<< and key tests). Defined in client_test.cpp.
int slow(int x);
int add(int a, int b);
int sum(std::vector<int> xs);
std::string greet(std::string name);
int fails_with_my_error(int code);
int counted_square(int x);  // counts its runs in g_counted_square_runs
extern std::atomic<int> g_counted_square_runs;
