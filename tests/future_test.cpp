// Future<T>: result, result(timeout), cancel, done/status/exception/key, callbacks, <<.
#include <sstream>
#include <string>

#include "helpers.hpp"

using namespace cask_test;

namespace {

cask::Future<int> submit_gated(cask::Client& client, EventPtr started, EventPtr gate, int value = 0) {
  return client.submit([started, gate, value] {
    started->set();
    gate->wait();
    return value;
  });
}

std::string printed(const auto& f) {
  std::ostringstream os;
  os << f;
  return os.str();
}

bool is_key_of(const std::string& key, const std::string& name) {
  if (key.rfind(name + "-", 0) != 0) return false;
  const auto hex = key.substr(name.size() + 1);
  return hex.size() == 32 && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("Future.result_rethrows_same_exception_type" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(fails_with_my_error, 42);
  try {
    (void)f.result();
    FAIL("result() did not throw");
  } catch (const MyError& e) {
    CHECK(std::string(e.what()) == "task failed");
    CHECK(e.code == 42);
  }
  CHECK(f.status() == cask::Status::error);
  CHECK(f.done());
  // Again: the same exception every time.
  CHECK_THROWS_AS((void)f.result(), MyError);
}

TEST_CASE("Future.result_rethrows_std_exception_types" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto oor = client.submit([]() -> int { throw std::out_of_range("index"); });
  auto inv = client.submit([](int) -> std::string { throw std::invalid_argument("bad"); }, 1);
  CHECK_THROWS_AS((void)oor.result(), std::out_of_range);
  CHECK_THROWS_WITH_AS((void)inv.result(), "bad", std::invalid_argument);
}

TEST_CASE("Future.result_rethrows_non_std_exception" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f42 = client.submit([]() -> int { throw 42; });
  auto fobj = client.submit([]() -> int { throw NotAnException{7}; });
  try {
    (void)f42.result();
    FAIL("result() did not throw");
  } catch (int v) {
    CHECK(v == 42);
  }
  try {
    (void)fobj.result();
    FAIL("result() did not throw");
  } catch (const NotAnException& e) {
    CHECK(e.value == 7);
  }
  CHECK(fobj.status() == cask::Status::error);
}

TEST_CASE("Future.exception_of_erred_future_is_the_task_exception" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(fails_with_my_error, 5);
  CHECK_THROWS_AS((void)f.result(), MyError);
  std::exception_ptr e = f.exception();
  REQUIRE(e != nullptr);
  try {
    std::rethrow_exception(e);
  } catch (const MyError& err) {
    CHECK(err.code == 5);
  } catch (...) {
    FAIL("exception() holds another type");
  }
  CHECK(f.exception() == e);  // the same exception object each time
}

TEST_CASE("Future.exception_is_null_when_pending_or_finished" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto f = submit_gated(client, started, gate, 3);
  REQUIRE(started->wait_for());
  CHECK(f.exception() == nullptr);  // pending: does not block
  CHECK_FALSE(f.done());
  CHECK(f.status() == cask::Status::pending);
  gate->set();
  CHECK(f.result() == 3);
  CHECK(f.exception() == nullptr);
  CHECK(f.done());
  CHECK(f.status() == cask::Status::finished);
}

TEST_CASE("Future.result_timeout_expires_then_value_arrives" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto stopped = std::make_shared<std::atomic<bool>>(false);
  auto f = client.submit([started, gate, stopped] {
    started->set();
    gate->wait();
    stopped->store(cask::this_task::stop_requested());
    return 11;
  });
  REQUIRE(started->wait_for());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)f.result(50ms), cask::TimeoutError);
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_THROWS_AS((void)f.result(0ms), cask::TimeoutError);
  // The task keeps running: not cancelled, and a later result() returns its value.
  CHECK(f.status() == cask::Status::pending);
  gate->set();
  CHECK(f.result() == 11);
  CHECK_FALSE(stopped->load());
  CHECK(f.result(1ms) == 11);  // done: a timed result returns at once
}

TEST_CASE("Future.timeout_error_is_a_cask_error" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto f = submit_gated(client, started, gate);
  CHECK_THROWS_AS((void)f.result(10ms), cask::Error);
}

TEST_CASE("Future.result_timeout_rethrows_task_exception" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(fails_with_my_error, 1);
  CHECK_THROWS_AS((void)f.result(kPatience), MyError);
}

TEST_CASE("Future.cancel_makes_cancelled_at_once" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto f = submit_gated(client, started, gate);
  REQUIRE(started->wait_for());
  f.cancel();
  CHECK(f.status() == cask::Status::cancelled);  // no waiting for the cluster
  CHECK(f.done());
  CHECK_THROWS_AS((void)f.result(), cask::CancelledError);
  CHECK_THROWS_AS((void)f.result(1s), cask::CancelledError);
  f.cancel();  // twice: no effect, no crash
  CHECK(f.status() == cask::Status::cancelled);
}

TEST_CASE("Future.exception_of_cancelled_future_is_cancelled_error" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto f = submit_gated(client, started, gate);
  f.cancel();
  auto e = f.exception();
  REQUIRE(e != nullptr);
  CHECK_THROWS_AS(std::rethrow_exception(e), cask::CancelledError);
}

TEST_CASE("Future.cancel_seen_by_copies_and_same_key_handles" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto body = [started, gate] {
    started->set();
    gate->wait();
    return 1;
  };
  auto f = client.submit(cask::options{.key = "shared-key"}, body);
  auto copy = f;
  auto again = client.submit(cask::options{.key = "shared-key"}, body);  // same key, same task
  REQUIRE(again.key() == f.key());
  REQUIRE(started->wait_for());
  f.cancel();
  CHECK(copy.status() == cask::Status::cancelled);  // a copy is the same handle
  CHECK_THROWS_AS((void)copy.result(), cask::CancelledError);
  CHECK_THROWS_AS((void)again.result(kPatience), cask::CancelledError);
  CHECK(again.status() == cask::Status::cancelled);
}

TEST_CASE("Future.cancel_running_task_requests_stop" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto observed = make_event();
  auto saw_stop = std::make_shared<std::atomic<bool>>(false);
  auto slept_fully = std::make_shared<std::atomic<bool>>(true);
  auto f = client.submit([started, observed, saw_stop, slept_fully] {
    started->set();
    // Woken by the cancel long before the 30 s are up.
    slept_fully->store(cask::this_task::sleep_for(30s));
    saw_stop->store(cask::this_task::stop_requested());
    observed->set();
    return 1;
  });
  REQUIRE(started->wait_for());
  CHECK_FALSE(cask::this_task::stop_requested());  // the test thread is not a task
  f.cancel();
  REQUIRE(observed->wait_for());
  CHECK_FALSE(slept_fully->load());
  CHECK(saw_stop->load());
  CHECK_THROWS_AS((void)f.result(), cask::CancelledError);  // its result is dropped
}

TEST_CASE("Future.cancel_running_task_stop_token_callback" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto observed = make_event();
  auto f = client.submit([started, observed] {
    std::stop_callback cb(cask::this_task::stop_token(), [observed] { observed->set(); });
    started->set();
    while (!cask::this_task::stop_requested()) std::this_thread::yield();
    return 0;
  });
  REQUIRE(started->wait_for());
  f.cancel();
  CHECK(observed->wait_for());
}

TEST_CASE("Future.cancel_queued_task_never_runs" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto blocker = submit_gated(client, started, gate, 1);
  REQUIRE(started->wait_for());
  auto queued = client.submit([runs] { return runs->fetch_add(1); });
  queued.cancel();
  gate->set();
  CHECK(blocker.result() == 1);
  // Same priority, submitted later: runs after `queued` would have run.
  auto later = client.submit([runs] { return runs->load(); });
  CHECK(later.result() == 0);
  CHECK(runs->load() == 0);
  CHECK_THROWS_AS((void)queued.result(), cask::CancelledError);
}

TEST_CASE("Future.cancel_finished_future_keeps_value" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 4);
  CHECK(f.result() == 12);
  f.cancel();
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.result() == 12);
  CHECK(f.exception() == nullptr);
  // The cluster keeps it too: a new handle to the same key gets the value.
  auto again = client.submit(slow, 4);
  CHECK(again.key() == f.key());
  CHECK(again.result() == 12);
  CHECK(client.stats().finished == 1);
}

TEST_CASE("Future.cancel_of_second_handle_to_finished_task_keeps_value" * doctest::timeout(10)) {
  // The task is finished in the cluster; a fresh handle to its key may not have heard yet.
  // Cancelling through it must not turn a finished task into a cancelled one.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 5);
  REQUIRE(f.result() == 15);
  auto again = client.submit(slow, 5);
  again.cancel();
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.result() == 15);
  CHECK(again.status() == f.status());  // every handle sees the same status
  CHECK_NOTHROW((void)again.result(kPatience));
}

TEST_CASE("Future.cancel_erred_future_keeps_error" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(fails_with_my_error, 2);
  CHECK_THROWS_AS((void)f.result(), MyError);
  f.cancel();
  CHECK(f.status() == cask::Status::error);
  CHECK_THROWS_AS((void)f.result(), MyError);
}

TEST_CASE("Future.key_reads_function_name" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 1);
  CHECK(is_key_of(f.key(), "slow"));
  auto g = client.submit([](int x) { return x; }, 1);
  CHECK(is_key_of(g.key(), "lambda"));
}

TEST_CASE("Future.prints_like_dask" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 1);
  CHECK(f.result() == 3);
  CHECK(printed(f) == "Future: slow status: finished, type: int, key: " + f.key());

  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto p = submit_gated(client, started, gate);
  const auto pending = printed(p);
  CHECK(pending.find("status: pending") != std::string::npos);
  p.cancel();
  CHECK(printed(p) == "Future: lambda status: cancelled, type: int, key: " + p.key());

  auto e = client.submit(fails_with_my_error, 1);
  CHECK_THROWS((void)e.result());
  CHECK(printed(e) == "Future: fails_with_my_error status: error, type: int, key: " + e.key());

  auto s = client.submit(greet, std::string("x"));
  (void)s.result();
  CHECK(printed(s) == "Future: greet status: finished, type: std::string, key: " + s.key());

  CHECK(printed(cask::Future<int>{}) == "Future: <empty>");
}

TEST_CASE("Future.status_prints_as_word" * doctest::timeout(10)) {
  std::ostringstream os;
  os << cask::Status::pending << " " << cask::Status::finished << " " << cask::Status::error << " "
     << cask::Status::cancelled << " " << cask::Status::lost;
  CHECK(os.str() == "pending finished error cancelled lost");
}

TEST_CASE("Future.default_constructed_is_invalid" * doctest::timeout(10)) {
  cask::Future<int> f;
  CHECK_FALSE(f.valid());
}

TEST_CASE("Future.copies_compare_equal" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 1);
  auto copy = f;
  CHECK(copy == f);
  auto other = client.submit(cask::options{.pure = false}, slow, 1);
  CHECK_FALSE(other == f);
}

TEST_CASE("Callback.runs_once_when_finished" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto seen = std::make_shared<std::atomic<int>>(-1);
  auto called = make_event();
  auto f = submit_gated(client, started, gate, 9);
  f.add_done_callback([calls, seen, called](const cask::Future<int>& g) {
    calls->fetch_add(1);
    seen->store(g.status() == cask::Status::finished ? g.result() : -2);
    called->set();
  });
  REQUIRE(started->wait_for());
  CHECK(calls->load() == 0);  // not before it is done
  gate->set();
  REQUIRE(called->wait_for());
  CHECK(seen->load() == 9);
  // A later cancel does not fire it again; a callback added afterwards runs after it on
  // the same callback thread, so once it ran any second run would have happened already.
  f.cancel();
  auto marker = make_event();
  f.add_done_callback([marker](const cask::Future<int>&) { marker->set(); });
  REQUIRE(marker->wait_for());
  CHECK(calls->load() == 1);
}

TEST_CASE("Callback.runs_on_error" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto called = make_event();
  auto status = std::make_shared<std::atomic<cask::Status>>(cask::Status::pending);
  auto f = client.submit(fails_with_my_error, 1);
  f.add_done_callback([called, status](const cask::Future<int>& g) {
    status->store(g.status());
    called->set();
  });
  REQUIRE(called->wait_for());
  CHECK(status->load() == cask::Status::error);
}

TEST_CASE("Callback.runs_on_cancel" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto status = std::make_shared<std::atomic<cask::Status>>(cask::Status::pending);
  auto called = make_event();
  auto f = submit_gated(client, started, gate);
  f.add_done_callback([calls, status, called](const cask::Future<int>& g) {
    calls->fetch_add(1);
    status->store(g.status());
    called->set();
  });
  REQUIRE(started->wait_for());
  f.cancel();
  REQUIRE(called->wait_for());
  CHECK(status->load() == cask::Status::cancelled);
  auto marker = make_event();
  f.add_done_callback([marker](const cask::Future<int>&) { marker->set(); });
  REQUIRE(marker->wait_for());
  CHECK(calls->load() == 1);
}

TEST_CASE("Callback.runs_for_already_done_future" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 2);
  REQUIRE(f.result() == 6);
  auto called = make_event();
  auto seen = std::make_shared<std::atomic<int>>(0);
  f.add_done_callback([called, seen](const cask::Future<int>& g) {
    seen->store(g.result());
    called->set();
  });
  REQUIRE(called->wait_for());
  CHECK(seen->load() == 6);
}

TEST_CASE("Callback.every_callback_runs" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto f = submit_gated(client, started, gate);
  for (int i = 0; i < 10; ++i) f.add_done_callback([calls](const cask::Future<int>&) { calls->fetch_add(1); });
  gate->set();
  (void)f.result();
  CHECK(eventually([&] { return calls->load() == 10; }));
}

TEST_CASE("Callback.throwing_callback_does_not_break_client" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 1);
  f.add_done_callback([](const cask::Future<int>&) { throw std::runtime_error("callback"); });
  auto called = make_event();
  f.add_done_callback([called](const cask::Future<int>&) { called->set(); });
  CHECK(called->wait_for());
  CHECK(client.submit(slow, 2).result() == 6);
}

TEST_CASE("ThisTask.outside_a_task_never_stops" * doctest::timeout(10)) {
  CHECK_FALSE(cask::this_task::stop_requested());
  CHECK_FALSE(cask::this_task::stop_token().stop_possible());
  CHECK(cask::this_task::sleep_for(1ms));
  CHECK(std::string(cask::this_task::key()).empty());
}

TEST_CASE("ThisTask.sleep_for_completes_when_not_cancelled" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit([] {
    const auto t0 = std::chrono::steady_clock::now();
    const bool full = cask::this_task::sleep_for(20ms);
    return full && std::chrono::steady_clock::now() - t0 >= 20ms && !cask::this_task::stop_requested();
  });
  CHECK(f.result());
}

TEST_CASE("Future.result_waited_on_from_many_threads" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto f = submit_gated(client, started, gate, 17);
  REQUIRE(started->wait_for());
  std::atomic<int> waiting{0};
  std::vector<int> got(4, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i, copy = f] {
      waiting.fetch_add(1);
      got[i] = copy.result();
    });
  CHECK(eventually([&] { return waiting.load() == 4; }));
  gate->set();
  for (auto& t : threads) t.join();
  CHECK(got == std::vector{17, 17, 17, 17});
}
