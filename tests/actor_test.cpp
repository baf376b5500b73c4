// Actors, embedded only. Everything else about actors (construction, order of calls,
// errors, call futures, lifetime, cancel, named actors, keys) runs in both modes in
// tests/both/actor_test.cpp. Kept here because they cannot mean anything in cluster mode:
// - Actor.concurrent_calls_never_overlap_from_tasks_and_threads: counts overlapping calls
//   inside a lambda-submitting 2x2 embedded cluster (the two-mode twin checks count and order).
// - Actor.calls_never_overlap_on_a_multi_slot_worker: needs one worker with 4 slots.
// - Actor.method_exception_fails_only_that_call: the method's own exception object (its
//   fields) comes back as is only embedded; a cluster sends its type and message.
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {

/// A counter that is not thread-safe on purpose: increment() reads, yields and writes, and
/// counts any call that found another call inside (which must never happen).
struct Counter {
  Counter() = default;
  explicit Counter(int start) : n(start) {}
  int increment() {
    if (active.fetch_add(1) != 0) overlaps.fetch_add(1);
    const int v = n;
    std::this_thread::yield();
    n = v + 1;
    active.fetch_sub(1);
    return n;
  }
  int add(int k) {
    n += k;
    return n;
  }
  int get() const { return n; }
  void reset() { n = 0; }
  int overlap_count() const { return overlaps.load(); }

  int n = 0;
  std::atomic<int> active{0};
  std::atomic<int> overlaps{0};
};

/// One at a time, or not: counts how many calls were inside at once.
struct Section {
  int enter(int spin) {
    const int now = active.fetch_add(1) + 1;
    int seen = max_seen.load();
    while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
    }
    for (int i = 0; i < spin; ++i) std::this_thread::yield();
    ++calls;
    active.fetch_sub(1);
    return calls;
  }
  int max_inside() const { return max_seen.load(); }
  int call_count() const { return calls; }
  std::atomic<int> active{0};
  std::atomic<int> max_seen{0};
  int calls = 0;
};

struct InsufficientFunds : std::runtime_error {
  InsufficientFunds(long balance, long amount)
      : std::runtime_error("insufficient funds"), balance(balance), amount(amount) {}
  long balance, amount;
};

struct Account {
  explicit Account(long initial = 0) : balance(initial) {}
  long deposit(long amount) { return balance += amount; }
  long withdraw(long amount) {
    if (amount > balance) throw InsufficientFunds(balance, amount);
    return balance -= amount;
  }
  /// Adds `amount`, then fails: the change stays (the object's own business).
  long deposit_then_throw(long amount) {
    balance += amount;
    throw MyError("after deposit", 7);
  }
  void throw_non_std() { throw NotAnException{42}; }
  long get_balance() const { return balance; }
  long balance;
};

}  // namespace

TEST_CASE("Actor.concurrent_calls_never_overlap_from_tasks_and_threads" * doctest::timeout(60)) {
  // Order and the exact count are checked in both modes (Both.Actor.concurrent_calls_...);
  // here, that no call ever found another inside the non-thread-safe instance.
  cask::Client client{{.workers = 2, .threads_per_worker = 2}};
  auto c = client.submit_actor<Counter>().result(kPatience);
  constexpr int kTasks = 8, kThreads = 2, kCalls = 200;
  auto send = [](const cask::Actor<Counter>& counter) {
    std::vector<cask::Future<int>> fs;
    for (int i = 0; i < kCalls; ++i) fs.push_back(counter.call(&Counter::increment));
    auto [done, not_done] = cask::wait(fs);
    return static_cast<int>(done.size());
  };
  std::vector<cask::Future<int>> tasks;
  for (int t = 0; t < kTasks; ++t) tasks.push_back(client.submit([c, send] { return send(c); }));
  std::vector<std::thread> threads;
  std::atomic<int> thread_calls{0};
  for (int t = 0; t < kThreads; ++t) threads.emplace_back([&] { thread_calls.fetch_add(send(c)); });
  for (auto& th : threads) th.join();
  for (auto& f : tasks) CHECK(f.result(std::chrono::seconds(30)) == kCalls);
  CHECK(thread_calls.load() == kThreads * kCalls);
  CHECK(c.call(&Counter::get).result(kPatience) == (kTasks + kThreads) * kCalls);
  CHECK(c.call(&Counter::overlap_count).result(kPatience) == 0);
}

TEST_CASE("Actor.calls_never_overlap_on_a_multi_slot_worker" * doctest::timeout(60)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 4}};
  auto s = client.submit_actor<Section>().result(kPatience);
  constexpr int kSenders = 4, kCalls = 50;
  std::vector<cask::Future<int>> tasks;
  for (int t = 0; t < kSenders; ++t)
    tasks.push_back(client.submit([s] {
      std::vector<cask::Future<int>> fs;
      for (int i = 0; i < kCalls; ++i) fs.push_back(s.call(&Section::enter, 200));
      auto [done, not_done] = cask::wait(fs);
      return static_cast<int>(done.size());
    }));
  for (auto& f : tasks) CHECK(f.result(std::chrono::seconds(30)) == kCalls);
  CHECK(s.call(&Section::call_count).result(kPatience) == kSenders * kCalls);
  CHECK(s.call(&Section::max_inside).result(kPatience) == 1);
}

TEST_CASE("Actor.method_exception_fails_only_that_call" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto acct = client.submit_actor<Account>(100L).result(kPatience);
  auto ok1 = acct.call(&Account::deposit, 5L);
  auto bad = acct.call(&Account::deposit_then_throw, 10L);
  auto ok2 = acct.call(&Account::get_balance);
  try {
    (void)bad.result(kPatience);
    FAIL_CHECK("no exception");
  } catch (const MyError& e) {
    CHECK(e.code == 7);
  }
  CHECK(bad.status() == cask::Status::error);
  CHECK(bad.exception() != nullptr);
  CHECK(ok1.result(kPatience) == 105);
  CHECK(ok2.result(kPatience) == 115);  // ran after the failed call and sees its change

  auto over = acct.call(&Account::withdraw, 1000L);
  try {
    (void)over.result(kPatience);
    FAIL_CHECK("no exception");
  } catch (const InsufficientFunds& e) {
    CHECK(e.balance == 115);
    CHECK(e.amount == 1000);
  }
  CHECK(acct.call(&Account::withdraw, 15L).result(kPatience) == 100);
  CHECK(client.stats().actors == 1);
}
