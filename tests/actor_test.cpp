// Actors (cask/actor.hpp): construction on a worker (and a throwing constructor), calls
// one at a time in arrival order on non-thread-safe objects (from tasks, client threads
// and one thread), an exception failing one call only, call futures with wait,
// as_completed, result(timeout) and as task arguments, tasks calling actors on a 1-slot
// cluster, lifetime (last handle and its Future), cancel(), cancelling one queued call,
// named actors (get_actor, inside tasks, unknown, wrong type, duplicate, name freed), and
// the status and keys of call futures.
#include <algorithm>
#include <atomic>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

int actor_test_add_one(int x) { return x + 1; }

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

/// Counts its destructions (one type per test, by Tag, so cases sharing a process do not
/// see each other's instances). Records the task key its constructor ran under.
template <int Tag>
struct Tracked {
  static inline std::atomic<int> constructed{0};
  static inline std::atomic<int> destroyed{0};
  explicit Tracked(int v = 0) : value(v), ctor_task_key(cask::this_task::key()) { constructed.fetch_add(1); }
  ~Tracked() { destroyed.fetch_add(1); }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;

  int get() const { return value; }
  int add(int k) { return value += k; }
  std::string task_key() const { return ctor_task_key; }
  /// Blocks until `gate` opens or the call is asked to stop; -1 when stopped.
  int block(EventPtr started, EventPtr gate, std::shared_ptr<std::atomic<bool>> stop_seen) {
    started->set();
    const bool opened = gate->wait();
    stop_seen->store(cask::this_task::stop_requested());
    return opened ? value : -1;
  }

  int value;
  std::string ctor_task_key;
};

struct ThrowingCtor {
  explicit ThrowingCtor(int code) { throw MyError("constructor failed", code); }
  int get() const { return 0; }
};

/// Appends to a vector; not thread-safe.
struct Log {
  void append(int x) { items.push_back(x); }
  std::vector<int> snapshot() const { return items; }
  std::vector<int> items;
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

/// The message of the plain cask::Error `f()` throws. Fails the check (and returns "")
/// when it throws nothing, something else, or a TimeoutError/CancelledError (which are
/// cask::Errors too, but not the error meant).
template <class F>
std::string cask_error_message(F&& f) {
  try {
    f();
  } catch (const cask::TimeoutError& e) {
    FAIL_CHECK("timed out instead: " << e.what());
    return {};
  } catch (const cask::CancelledError& e) {
    FAIL_CHECK("cancelled instead: " << e.what());
    return {};
  } catch (const cask::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL_CHECK("another exception: " << e.what());
    return {};
  } catch (...) {
    FAIL_CHECK("a non-std exception");
    return {};
  }
  FAIL_CHECK("no exception");
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

// --- construction -----------------------------------------------------------------------

TEST_CASE("Actor.submit_actor_constructs_instance_in_a_task" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Future<cask::Actor<Tracked<1>>> fut = client.submit_actor<Tracked<1>>(41);
  cask::Actor<Tracked<1>> a = fut.result(kPatience);
  CHECK(fut.status() == cask::Status::finished);
  REQUIRE(a.valid());
  CHECK(Tracked<1>::constructed.load() == 1);
  CHECK(a.name().empty());
  // Constructed by the task behind the future, whose key the actor carries.
  CHECK_FALSE(a.key().empty());
  CHECK(a.key() == fut.key());
  CHECK(a.call(&Tracked<1>::task_key).result(kPatience) == fut.key());
  CHECK(a.call(&Tracked<1>::get).result(kPatience) == 41);
  CHECK(a.call(&Tracked<1>::add, 1).result(kPatience) == 42);
  CHECK(eventually([&] { return client.stats().actors == 1; }));
  CHECK_FALSE(cask::Actor<Tracked<1>>{}.valid());
}

TEST_CASE("Actor.throwing_constructor_fails_the_submit_future_with_same_type" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto fut = client.submit_actor<ThrowingCtor>(17);
  try {
    (void)fut.result(kPatience);
    FAIL_CHECK("no exception");
  } catch (const MyError& e) {
    CHECK(e.code == 17);
    CHECK(std::string(e.what()) == "constructor failed");
  }
  CHECK(fut.status() == cask::Status::error);
  CHECK(client.stats().actors == 0);
  // The cluster is fine afterwards.
  CHECK(client.submit([] { return 5; }).result(kPatience) == 5);
}

TEST_CASE("Actor.void_method_returns_future_void" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto c = client.submit_actor<Counter>(9).result(kPatience);
  cask::Future<void> r = c.call(&Counter::reset);
  static_assert(std::is_same_v<decltype(r), cask::Future<void>>);
  r.result(kPatience);
  CHECK(r.status() == cask::Status::finished);
  CHECK(c.call(&Counter::get).result(kPatience) == 0);
}

TEST_CASE("Actor.call_accepts_any_callable_taking_the_instance" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto c = client.submit_actor<Counter>().result(kPatience);
  auto r = c.call([](Counter& self, int k, std::string s) { return std::to_string(self.add(k)) + s; }, 5, std::string("!"));
  static_assert(std::is_same_v<decltype(r), cask::Future<std::string>>);
  CHECK(r.result(kPatience) == "5!");
  CHECK(c.call([](const Counter& self) { return self.n * 2; }).result(kPatience) == 10);
}

// --- one call at a time, in order -------------------------------------------------------

TEST_CASE("Actor.concurrent_calls_from_tasks_and_threads_give_exact_count" * doctest::timeout(60)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 2}};
  auto c = client.submit_actor<Counter>().result(kPatience);
  constexpr int kTasks = 8, kThreads = 2, kCalls = 200;

  // Each sender checks that the values its own calls got back increase: its calls ran in
  // the order it sent them.
  auto send = [](const cask::Actor<Counter>& counter) {
    std::vector<cask::Future<int>> fs;
    for (int i = 0; i < kCalls; ++i) fs.push_back(counter.call(&Counter::increment));
    int last = 0, in_order = 1;
    for (auto& f : fs) {
      const int v = f.result();
      if (v <= last) in_order = 0;
      last = v;
    }
    return in_order;
  };
  std::vector<cask::Future<int>> tasks;
  for (int t = 0; t < kTasks; ++t) tasks.push_back(client.submit([c, send] { return send(c); }));
  std::vector<std::thread> threads;
  std::atomic<int> threads_in_order{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] { threads_in_order.fetch_add(send(c)); });
  for (auto& th : threads) th.join();
  for (auto& f : tasks) CHECK(f.result(std::chrono::seconds(30)) == 1);
  CHECK(threads_in_order.load() == kThreads);

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

TEST_CASE("Actor.calls_from_one_thread_run_in_the_order_sent" * doctest::timeout(60)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 2}};
  auto log = client.submit_actor<Log>().result(kPatience);
  constexpr int kCalls = 1000;
  std::vector<cask::Future<void>> fs;
  fs.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) fs.push_back(log.call(&Log::append, i));
  // Sent after all appends, so it runs after them without waiting for their futures.
  const std::vector<int> items = log.call(&Log::snapshot).result(std::chrono::seconds(30));
  REQUIRE(items.size() == kCalls);
  std::vector<int> expected(kCalls);
  for (int i = 0; i < kCalls; ++i) expected[i] = i;
  CHECK(items == expected);
  for (auto& f : fs) CHECK(f.status() == cask::Status::finished);
}

TEST_CASE("Actor.a_task_calls_in_order_too" * doctest::timeout(60)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto log = client.submit_actor<Log>().result(kPatience);
  auto sender = client.submit([log] {
    for (int i = 0; i < 300; ++i) (void)log.call(&Log::append, i);  // futures dropped at once
    return log.call(&Log::snapshot).result();
  });
  const std::vector<int> items = sender.result(std::chrono::seconds(30));
  REQUIRE(items.size() == 300u);
  CHECK(std::is_sorted(items.begin(), items.end()));
  CHECK(items.front() == 0);
  CHECK(items.back() == 299);
}

// --- errors in methods --------------------------------------------------------------------

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

TEST_CASE("Actor.non_std_exception_comes_back_as_is" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto acct = client.submit_actor<Account>(3L).result(kPatience);
  auto bad = acct.call(&Account::throw_non_std);
  try {
    bad.result(kPatience);
    FAIL_CHECK("no exception");
  } catch (const NotAnException& e) {
    CHECK(e.value == 42);
  }
  CHECK(acct.call(&Account::get_balance).result(kPatience) == 3);
}

// --- call futures like task futures --------------------------------------------------------

TEST_CASE("Actor.call_future_works_with_wait_as_completed_and_timeouts" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  auto a = client.submit_actor<Tracked<2>>(7).result(kPatience);
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto stop_seen = std::make_shared<std::atomic<bool>>(false);
  auto blocked = a.call(&Tracked<2>::block, started, gate, stop_seen);
  auto behind = a.call(&Tracked<2>::add, 1);
  REQUIRE(started->wait_for());

  CHECK_THROWS_AS((void)blocked.result(std::chrono::milliseconds(20)), cask::TimeoutError);
  CHECK_THROWS_AS((void)behind.result(std::chrono::milliseconds(20)), cask::TimeoutError);
  CHECK_THROWS_AS(cask::wait(std::vector{blocked, behind}, std::chrono::milliseconds(20), cask::FIRST_COMPLETED),
                  cask::TimeoutError);
  CHECK(blocked.status() == cask::Status::pending);
  CHECK(behind.status() == cask::Status::pending);

  gate->set();
  std::vector<int> values;
  for (auto& f : cask::as_completed(std::vector{behind, blocked}, std::chrono::seconds(10))) values.push_back(f.result());
  std::sort(values.begin(), values.end());
  CHECK(values == std::vector{7, 8});  // `blocked` saw 7, `behind` ran after it
  auto [done, not_done] = cask::wait(std::vector{blocked, behind}, kPatience, cask::ALL_COMPLETED);
  CHECK(done.size() == 2u);
  CHECK(not_done.empty());
  CHECK(blocked.result(kPatience) == 7);  // still readable after the timeouts
  CHECK_FALSE(stop_seen->load());
}

TEST_CASE("Actor.call_future_is_a_task_argument" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto c = client.submit_actor<Counter>(10).result(kPatience);
  auto plus_one = client.submit(actor_test_add_one, c.call(&Counter::get));
  CHECK(plus_one.result(kPatience) == 11);
  // A failed call fails the dependent task with the same exception.
  auto acct = client.submit_actor<Account>(1L).result(kPatience);
  auto dependent = client.submit([](long b) { return b * 2; }, acct.call(&Account::withdraw, 5L));
  CHECK_THROWS_AS((void)dependent.result(kPatience), InsufficientFunds);
  CHECK(dependent.status() == cask::Status::error);
}

TEST_CASE("Actor.future_of_actor_is_a_task_argument" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto fut = client.submit_actor<Counter>(20);
  // Passed as its value (an Actor handle) once constructed.
  auto r = client.submit([](const cask::Actor<Counter>& c) { return c.call(&Counter::add, 2).result(); }, fut);
  CHECK(r.result(kPatience) == 22);
  CHECK(fut.result(kPatience).call(&Counter::get).result(kPatience) == 22);
}

// --- tasks calling actors -----------------------------------------------------------------

TEST_CASE("Actor.tasks_call_and_wait_on_a_one_slot_cluster_without_deadlock" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto c = client.submit_actor<Counter>().result(kPatience);
  // Captured: each call needs the only slot, which the waiting task hands back.
  auto captured = client.submit([c] {
    int last = 0;
    for (int i = 0; i < 5; ++i) last = c.call(&Counter::increment).result();
    return last;
  });
  CHECK(captured.result(kPatience) == 5);
  // As an argument, several tasks at once.
  std::vector<cask::Future<int>> fs;
  for (int t = 0; t < 3; ++t)
    fs.push_back(client.submit(cask::options{.pure = false},
                               [](const cask::Actor<Counter>& counter, int k) { return counter.call(&Counter::add, k).result(); },
                               c, 10));
  for (auto& f : fs) CHECK(f.result(kPatience) > 5);
  CHECK(c.call(&Counter::get).result(kPatience) == 35);
  CHECK(eventually([&] { return client.stats().slots_busy == 0; }));
}

// --- lifetime ------------------------------------------------------------------------------

TEST_CASE("Actor.destroyed_when_last_handle_and_its_future_are_gone" * doctest::timeout(30)) {
  using T = Tracked<3>;
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  {
    auto fut = client.submit_actor<T>(4);
    cask::Actor<T> a = fut.result(kPatience);
    CHECK(eventually([&] { return client.stats().actors == 1; }));
    {
      cask::Actor<T> copy = a;
      CHECK(copy == a);
      CHECK(copy.call(&T::add, 1).result(kPatience) == 5);
    }  // a copy gone: nothing happens
    CHECK(a.call(&T::get).result(kPatience) == 5);
    a = {};  // the future still refers to it
    CHECK(fut.result(kPatience).call(&T::get).result(kPatience) == 5);
    CHECK(T::destroyed.load() == 0);
    CHECK(client.stats().actors == 1);
  }
  CHECK(eventually([&] { return T::destroyed.load() == 1 && client.stats().actors == 0; }));
  CHECK(T::constructed.load() == 1);
}

TEST_CASE("Actor.future_gone_first_handle_keeps_it_alive" * doctest::timeout(30)) {
  using T = Tracked<4>;
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Actor<T> a;
  {
    auto fut = client.submit_actor<T>(8);
    a = fut.result(kPatience);
  }
  CHECK(a.call(&T::add, 1).result(kPatience) == 9);
  CHECK(T::destroyed.load() == 0);
  CHECK(client.stats().actors == 1);
  a = {};
  CHECK(eventually([&] { return T::destroyed.load() == 1 && client.stats().actors == 0; }));
}

TEST_CASE("Actor.copy_inside_a_running_task_keeps_it_alive" * doctest::timeout(30)) {
  using T = Tracked<5>;
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  cask::Future<int> task;
  {
    auto fut = client.submit_actor<T>(30);
    cask::Actor<T> a = fut.result(kPatience);
    task = client.submit([a, started, gate] {
      started->set();
      if (!gate->wait()) return -1;
      return a.call(&T::add, 3).result();
    });
    REQUIRE(started->wait_for());
  }  // the client's handles are gone; the task's copy lives
  CHECK(client.stats().actors == 1);
  CHECK(T::destroyed.load() == 0);
  gate->set();
  CHECK(task.result(kPatience) == 33);  // a released actor would have failed this call
  CHECK(T::destroyed.load() == 0);
  task = {};  // the task (and its captured copy) released
  CHECK(eventually([&] { return T::destroyed.load() == 1 && client.stats().actors == 0; }));
}

TEST_CASE("Actor.stats_count_live_actors" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  CHECK(client.stats().actors == 0);
  auto a = client.submit_actor<Counter>().result(kPatience);
  auto b = client.submit_actor<Counter>().result(kPatience);
  auto c = client.submit_actor<Account>(1L).result(kPatience);
  CHECK(eventually([&] { return client.stats().actors == 3; }));
  b = {};
  CHECK(eventually([&] { return client.stats().actors == 2; }));
  // The others are unaffected.
  CHECK(a.call(&Counter::increment).result(kPatience) == 1);
  CHECK(c.call(&Account::get_balance).result(kPatience) == 1);
  a = {};
  c = {};
  CHECK(eventually([&] { return client.stats().actors == 0; }));
}

// --- cancel --------------------------------------------------------------------------------

TEST_CASE("Actor.cancel_releases_it_at_once" * doctest::timeout(30)) {
  using T = Tracked<6>;
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto stop_seen = std::make_shared<std::atomic<bool>>(false);
  auto fut = client.submit_actor<T>(1);
  cask::Actor<T> a = fut.result(kPatience);
  cask::Actor<T> other_copy = a;
  auto running = a.call(&T::block, started, gate, stop_seen);
  std::vector<cask::Future<int>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(a.call(&T::add, 1));
  REQUIRE(started->wait_for());

  other_copy.cancel();  // through any copy

  for (auto& q : queued) {
    CHECK_THROWS_AS((void)q.result(kPatience), cask::CancelledError);
    CHECK(q.status() == cask::Status::cancelled);
  }
  // The running call was asked to stop (it returns at once), and the instance is gone
  // although handles and the future still exist; the gate was never opened.
  CHECK(eventually([&] { return stop_seen->load(); }));
  CHECK(eventually([&] { return T::destroyed.load() == 1 && client.stats().actors == 0; }));
  CHECK_FALSE(gate->is_set());
  CHECK(eventually([&] { return running.done(); }));
  CHECK(running.status() != cask::Status::finished);

  // Later calls, through any handle, fail naming the release.
  auto later = a.call(&T::get);
  const std::string msg = cask_error_message([&] { (void)later.result(kPatience); });
  CHECK(contains(msg, "released"));
  CHECK(later.status() == cask::Status::error);
  auto via_future = fut.result(kPatience).call(&T::add, 5);
  CHECK(contains(cask_error_message([&] { (void)via_future.result(kPatience); }), "released"));
  CHECK(T::constructed.load() == 1);

  // The runtime keeps serving tasks and other actors.
  CHECK(client.submit([] { return 12; }).result(kPatience) == 12);
  auto fresh = client.submit_actor<Counter>(2).result(kPatience);
  CHECK(fresh.call(&Counter::increment).result(kPatience) == 3);
  CHECK(eventually([&] { return client.stats().actors == 1; }));
}

TEST_CASE("Actor.cancel_of_an_idle_actor_fails_later_calls" * doctest::timeout(30)) {
  using T = Tracked<7>;
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto a = client.submit_actor<T>(3).result(kPatience);
  CHECK(a.call(&T::get).result(kPatience) == 3);
  a.cancel();
  CHECK(eventually([&] { return T::destroyed.load() == 1 && client.stats().actors == 0; }));
  std::vector<cask::Future<int>> later;
  for (int i = 0; i < 3; ++i) later.push_back(a.call(&T::add, 1));
  for (auto& f : later) CHECK(contains(cask_error_message([&] { (void)f.result(kPatience); }), "released"));
  // From inside a task too.
  auto in_task = client.submit([a] {
    try {
      (void)a.call(&T::get).result();
      return std::string("no error");
    } catch (const cask::CancelledError&) {
      return std::string("cancelled");
    } catch (const cask::Error& e) {
      return std::string(e.what());
    }
  });
  CHECK(contains(in_task.result(kPatience), "released"));
  CHECK(T::destroyed.load() == 1);
}

TEST_CASE("Actor.cancelled_queued_call_never_runs" * doctest::timeout(30)) {
  using T = Tracked<8>;
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  auto a = client.submit_actor<T>(0).result(kPatience);
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto stop_seen = std::make_shared<std::atomic<bool>>(false);
  auto blocked = a.call(&T::block, started, gate, stop_seen);
  auto one = a.call(&T::add, 1);
  auto ten = a.call(&T::add, 10);
  auto hundred = a.call(&T::add, 100);
  REQUIRE(started->wait_for());
  ten.cancel();
  CHECK(ten.status() == cask::Status::cancelled);
  gate->set();
  CHECK(blocked.result(kPatience) == 0);
  CHECK(one.result(kPatience) == 1);
  CHECK(hundred.result(kPatience) == 101);  // `ten` was skipped
  CHECK_THROWS_AS((void)ten.result(kPatience), cask::CancelledError);
  CHECK(a.call(&T::get).result(kPatience) == 101);
  CHECK_FALSE(stop_seen->load());
  CHECK(T::destroyed.load() == 0);  // cancelling a call does not touch the actor
}

TEST_CASE("Actor.dropped_call_future_still_runs" * doctest::timeout(30)) {
  // As in Dask, a call is sent to the actor for its effect: dropping its future (unlike a
  // task's) does not take it back; only cancel() does (see cancelled_queued_call_never_runs).
  using T = Tracked<9>;
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  auto a = client.submit_actor<T>(0).result(kPatience);
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto stop_seen = std::make_shared<std::atomic<bool>>(false);
  auto blocked = a.call(&T::block, started, gate, stop_seen);
  REQUIRE(started->wait_for());
  auto kept = a.call(&T::add, 1);
  { auto dropped = a.call(&T::add, 10); }  // queued behind `blocked`, its future gone
  (void)a.call(&T::add, 100);
  auto after = a.call(&T::get);
  gate->set();
  CHECK(blocked.result(kPatience) == 0);
  CHECK(kept.result(kPatience) == 1);
  CHECK(after.result(kPatience) == 111);
}

// --- named actors --------------------------------------------------------------------------

TEST_CASE("Actor.named_actor_is_found_by_get_actor" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto bank = client.submit_actor<Account>(cask::actor_options{.name = "bank"}, 100L).result(kPatience);
  CHECK(bank.name() == "bank");
  cask::Actor<Account> same = client.get_actor<Account>("bank");
  REQUIRE(same.valid());
  CHECK(same.name() == "bank");
  CHECK(same.key() == bank.key());
  CHECK(same.call(&Account::deposit, 50L).result(kPatience) == 150);
  CHECK(bank.call(&Account::get_balance).result(kPatience) == 150);
  // From inside a task, through get_client().
  auto in_task = client.submit([] {
    return cask::get_client().get_actor<Account>("bank").call(&Account::withdraw, 30L).result();
  });
  CHECK(in_task.result(kPatience) == 120);
  CHECK(bank.call(&Account::get_balance).result(kPatience) == 120);
  CHECK(eventually([&] { return client.stats().actors == 1; }));  // one instance
}

TEST_CASE("Actor.get_actor_of_unknown_name_throws" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  CHECK_FALSE(cask_error_message([&] { (void)client.get_actor<Account>("nobody"); }).empty());
  // An anonymous actor is not findable by its key either.
  auto anon = client.submit_actor<Account>(1L).result(kPatience);
  CHECK_FALSE(cask_error_message([&] { (void)client.get_actor<Account>(""); }).empty());
  CHECK_FALSE(cask_error_message([&] { (void)client.get_actor<Account>(anon.key()); }).empty());
  // Inside a task too.
  auto in_task = client.submit([] {
    try {
      (void)cask::get_client().get_actor<Account>("nobody");
      return 0;
    } catch (const cask::Error&) {
      return 1;
    }
  });
  CHECK(in_task.result(kPatience) == 1);
}

TEST_CASE("Actor.get_actor_of_wrong_type_throws" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto acct = client.submit_actor<Account>(cask::actor_options{.name = "acct"}, 5L).result(kPatience);
  CHECK_FALSE(cask_error_message([&] { (void)client.get_actor<Counter>("acct"); }).empty());
  // The right type still works, and the actor is untouched.
  CHECK(client.get_actor<Account>("acct").call(&Account::get_balance).result(kPatience) == 5);
}

TEST_CASE("Actor.duplicate_live_name_fails_the_second_submit" * doctest::timeout(30)) {
  using T = Tracked<10>;
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto first = client.submit_actor<T>(cask::actor_options{.name = "dup"}, 1).result(kPatience);
  auto second = client.submit_actor<T>(cask::actor_options{.name = "dup"}, 2);
  CHECK_FALSE(cask_error_message([&] { (void)second.result(kPatience); }).empty());
  CHECK(second.status() == cask::Status::error);
  // Another type under the same name is refused as well.
  auto third = client.submit_actor<Account>(cask::actor_options{.name = "dup"}, 3L);
  CHECK_FALSE(cask_error_message([&] { (void)third.result(kPatience); }).empty());
  // The first keeps the name.
  CHECK(client.get_actor<T>("dup").call(&T::get).result(kPatience) == 1);
  CHECK(first.call(&T::get).result(kPatience) == 1);
  CHECK(eventually([&] { return client.stats().actors == 1; }));
  // Whatever the refused submit constructed has been destroyed again.
  CHECK(eventually([&] { return T::destroyed.load() == T::constructed.load() - 1; }));
}

TEST_CASE("Actor.name_is_free_again_after_release" * doctest::timeout(30)) {
  using T = Tracked<11>;
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto name_is_free = [&] {
    try {
      (void)client.get_actor<T>("svc");
      return false;
    } catch (const cask::Error&) {
      return true;
    }
  };
  {
    auto a = client.submit_actor<T>(cask::actor_options{.name = "svc"}, 1).result(kPatience);
    CHECK_FALSE(name_is_free());
  }  // every handle dropped
  CHECK(eventually([&] { return T::destroyed.load() == 1; }));
  CHECK(eventually(name_is_free));
  auto b = client.submit_actor<T>(cask::actor_options{.name = "svc"}, 2).result(kPatience);
  CHECK(client.get_actor<T>("svc").call(&T::get).result(kPatience) == 2);
  // Released by cancel(): free again too.
  b.cancel();
  CHECK(eventually(name_is_free));
  auto c = client.submit_actor<T>(cask::actor_options{.name = "svc"}, 3).result(kPatience);
  CHECK(client.get_actor<T>("svc").call(&T::get).result(kPatience) == 3);
  CHECK(eventually([&] { return T::destroyed.load() == 2; }));
}

TEST_CASE("Actor.get_actor_handle_keeps_a_named_actor_alive" * doctest::timeout(30)) {
  using T = Tracked<12>;
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Actor<T> found;
  {
    auto a = client.submit_actor<T>(cask::actor_options{.name = "kept"}, 6).result(kPatience);
    found = client.get_actor<T>("kept");
  }
  CHECK(found.call(&T::add, 1).result(kPatience) == 7);
  CHECK(T::destroyed.load() == 0);
  found = {};
  CHECK(eventually([&] { return T::destroyed.load() == 1 && client.stats().actors == 0; }));
}

// --- status and keys ---------------------------------------------------------------------

TEST_CASE("Actor.call_futures_report_status_and_unique_keys" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  auto acct = client.submit_actor<Account>(10L).result(kPatience);
  // Same method, same arguments: separate calls, never shared like pure tasks.
  std::vector<cask::Future<long>> fs;
  for (int i = 0; i < 100; ++i) fs.push_back(acct.call(&Account::deposit, 1L));
  std::set<std::string> keys;
  for (auto& f : fs) {
    CHECK_FALSE(f.key().empty());
    keys.insert(f.key());
  }
  CHECK(keys.size() == fs.size());
  CHECK(keys.count(acct.key()) == 0);
  CHECK(fs.back().result(kPatience) == 110);
  for (auto& f : fs) CHECK(f.status() == cask::Status::finished);

  auto failed = acct.call(&Account::withdraw, 1000L);
  CHECK_THROWS_AS((void)failed.result(kPatience), InsufficientFunds);
  CHECK(failed.status() == cask::Status::error);
  CHECK(failed.done());

  auto a = client.submit_actor<Tracked<13>>(0).result(kPatience);
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto blocked = a.call(&Tracked<13>::block, started, gate, std::make_shared<std::atomic<bool>>(false));
  auto queued = a.call(&Tracked<13>::get);
  REQUIRE(started->wait_for());
  CHECK(blocked.status() == cask::Status::pending);
  CHECK_FALSE(queued.done());
  queued.cancel();
  CHECK(queued.status() == cask::Status::cancelled);
  CHECK(queued.done());
  CHECK(queued.key() != blocked.key());
  gate->set();
  CHECK(blocked.result(kPatience) == 0);
  CHECK(blocked.status() == cask::Status::finished);
}

TEST_CASE("Actor.done_callback_fires_for_a_call" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto c = client.submit_actor<Counter>(1).result(kPatience);
  auto fired = make_event();
  auto seen = std::make_shared<std::atomic<int>>(0);
  auto f = c.call(&Counter::increment);
  f.add_done_callback([fired, seen](const cask::Future<int>& g) {
    seen->store(g.result());
    fired->set();
  });
  REQUIRE(fired->wait_for());
  CHECK(seen->load() == 2);
}
