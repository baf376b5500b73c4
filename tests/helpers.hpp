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
#include <memory>
#include <mutex>
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
