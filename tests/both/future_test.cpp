// Both modes: Future<T>'s own API: result (a task's exception: the same type embedded, a
// RemoteError naming it in cluster mode), result(timeout), exception, done/status, key,
// printing, comparison; cask::this_task outside and inside tasks.
#include <atomic>
#include <thread>

#include "both_tasks.hpp"
#include "core_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace both_tasks;
using cask_cluster_test::contains;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

namespace {

/// "<name>-" followed by 32 lower-case hex digits.
bool is_key_of(const std::string& key, const std::string& name) {
  if (key.rfind(name + "-", 0) != 0) return false;
  const auto hex = key.substr(name.size() + 1);
  return hex.size() == 32 && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// f's task threw something that is no std::exception: embedded, result() rethrows that
/// very E (given to `check`); across processes it is a RemoteError saying so.
template <class E, class Check>
void check_non_std_error(const Env& env, const cask::Future<int>& f, Check check) {
  try {
    (void)f.result(kPatience);
    FAIL_CHECK("result() did not throw");
  } catch (const cask::RemoteError& e) {
    CHECK(env.cluster());
    CHECK(e.type_name() == "unknown exception");
  } catch (const E& e) {
    CHECK_FALSE(env.cluster());
    check(e);
  }
}

}  // namespace

BOTH_CASE("Future.result_rethrows_task_exception_per_mode", 30) {
  auto custom = env.client.submit(fail_custom, 3);
  CHECK(task_error_message<TaskFailure>(env, custom, "cluster_tasks::TaskFailure") == "failure 3");
  CHECK(custom.status() == cask::Status::error);
  CHECK(custom.done());
  // Again: the same exception every time.
  CHECK(task_error_message<TaskFailure>(env, custom, "cluster_tasks::TaskFailure") == "failure 3");
  CHECK(task_error_message<std::runtime_error>(env, env.client.submit(fail_with, std::string("boom!")),
                                               "std::runtime_error") == "boom!");
  CHECK(task_error_message<std::invalid_argument>(env, env.client.submit(fail_invalid, std::string("bad")),
                                                  "std::invalid_argument") == "bad");
  CHECK(task_error_message<std::out_of_range>(env, env.client.submit(core_tasks::fail_out_of_range, std::string("index")),
                                              "std::out_of_range") == "index");
  CHECK(env.client.submit(inc, 1).result(kPatience) == 2);
}

BOTH_CASE("Future.result_rethrows_non_std_exception_per_mode", 30) {
  // Embedded, the very value thrown comes back; across processes only a RemoteError that
  // says it was no std::exception can.
  auto f42 = env.client.submit(fail_non_std, 1);
  auto fobj = env.client.submit(core_tasks::fail_object, 7);
  check_non_std_error<int>(env, f42, [](int v) { CHECK(v == 42); });
  check_non_std_error<core_tasks::NotAnException>(env, fobj, [](const auto& e) { CHECK(e.value == 7); });
  CHECK(fobj.status() == cask::Status::error);
}

BOTH_CASE("Future.exception_of_erred_future", 30) {
  auto f = env.client.submit(fail_with, std::string("held"));
  CHECK_THROWS((void)f.result(kPatience));
  CHECK(f.status() == cask::Status::error);
  std::exception_ptr e = f.exception();
  REQUIRE(e != nullptr);
  if (env.cluster())
    CHECK_THROWS_WITH_AS(std::rethrow_exception(e), "std::runtime_error: held", cask::RemoteError);
  else
    CHECK_THROWS_WITH_AS(std::rethrow_exception(e), "held", std::runtime_error);
  CHECK(f.exception() == e);  // the same exception object each time
  CHECK_THROWS((void)f.result());  // every time
}

BOTH_CASE("Future.exception_is_null_when_pending_or_finished", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  CHECK(g.exception() == nullptr);  // pending: does not block
  CHECK_FALSE(g.done());
  CHECK(g.status() == cask::Status::pending);
  gate.open();
  CHECK(g.result(kPatience) == 1);
  CHECK(g.exception() == nullptr);
  CHECK(g.done());
  CHECK(g.status() == cask::Status::finished);
}

BOTH_CASE("Future.result_timeout_expires_then_value_arrives", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(9);
  REQUIRE(gate.wait_for(1));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)g.result(50ms), cask::TimeoutError);
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK_THROWS_AS((void)g.result(0ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)g.result(0ms), cask::Error);  // TimeoutError is a cask::Error
  // The task keeps running: not cancelled, and a later result() returns its value.
  CHECK_FALSE(g.done());
  CHECK(g.status() == cask::Status::pending);
  gate.open();
  CHECK(g.result(kPatience) == 9);
  CHECK(gate.count("stopped") == 0);
  CHECK(g.result(1ms) == 9);  // done: a timed result returns at once
}

BOTH_CASE("Future.result_until", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(4);
  CHECK_THROWS_AS((void)g.result_until(std::chrono::steady_clock::now() + 30ms), cask::TimeoutError);
  gate.open();
  CHECK(g.result_until(std::chrono::steady_clock::now() + kPatience) == 4);
}

BOTH_CASE("Future.result_timeout_rethrows_task_exception", 30) {
  // task_error_message waits with result(kPatience): a timed result rethrows as result() does.
  auto f = env.client.submit(fail_custom, 1);
  CHECK(task_error_message<TaskFailure>(env, f, "cluster_tasks::TaskFailure") == "failure 1");
  CHECK(f.status() == cask::Status::error);
}

BOTH_CASE("Future.key_reads_function_name", 30) {
  auto f = env.client.submit(inc, 1);
  CHECK(is_key_of(f.key(), "inc"));
  CHECK(f.result(kPatience) == 2);
  if (env.cluster()) {  // a lambda cannot cross processes: refused at the call, by design
    CHECK_THROWS_AS((void)env.client.submit([](int x) { return x; }, 1), cask::NotRegisteredError);
  } else {
    auto g = env.client.submit([](int x) { return x; }, 1);
    CHECK(is_key_of(g.key(), "lambda"));
    CHECK(g.result(kPatience) == 1);
  }
}

BOTH_CASE("Future.prints_like_dask", 30) {
  auto f = env.client.submit(greet, std::string("x"));
  (void)f.result(kPatience);
  CHECK(printed(f) == "Future: greet status: finished, type: std::string, key: " + f.key());
  auto i = env.client.submit(inc, 1);
  (void)i.result(kPatience);
  CHECK(printed(i) == "Future: inc status: finished, type: int, key: " + i.key());
  Gate gate(env, "gate");
  auto p = gate.submit(1);
  CHECK(contains(printed(p), "status: pending"));
  p.cancel();
  CHECK(printed(p) == "Future: gated status: cancelled, type: int, key: " + p.key());
  auto e = env.client.submit(fail_with, std::string("x"));
  CHECK_THROWS((void)e.result(kPatience));
  CHECK(printed(e) == "Future: fail_with status: error, type: int, key: " + e.key());
  CHECK(printed(cask::Future<int>{}) == "Future: <empty>");
}

BOTH_CASE("Future.status_prints_as_word", 30) {
  CHECK(printed(cask::Status::pending) == "pending");
  CHECK(printed(cask::Status::finished) == "finished");
  CHECK(printed(cask::Status::error) == "error");
  CHECK(printed(cask::Status::cancelled) == "cancelled");
  CHECK(printed(cask::Status::lost) == "lost");
}

BOTH_CASE("Future.default_constructed_is_invalid", 30) {
  cask::Future<int> f;
  CHECK_FALSE(f.valid());
  CHECK(env.client.submit(inc, 1).valid());
}

BOTH_CASE("Future.copies_compare_equal", 30) {
  auto f = env.client.submit(inc, 7);
  auto copy = f;
  CHECK(copy == f);
  CHECK(copy.key() == f.key());
  CHECK_FALSE(env.client.submit(inc, 8) == f);
  CHECK_FALSE(env.client.submit(cask::options{.pure = false}, inc, 7) == f);  // same call, own key
  CHECK(copy.result(kPatience) == 8);
}

BOTH_CASE("Future.result_waited_on_from_many_threads", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(21);
  REQUIRE(gate.wait_for(1));
  std::atomic<int> waiting{0};
  std::vector<int> seen(4, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i, copy = g] {
      waiting.fetch_add(1);
      seen[i] = copy.result(kPatience);
    });
  CHECK(eventually([&] { return waiting.load() == 4; }));
  gate.open();
  for (auto& t : threads) t.join();
  CHECK(seen == std::vector{21, 21, 21, 21});
}

BOTH_CASE("ThisTask.outside_a_task_never_stops", 30) {
  // The test thread is not a task, whichever mode its client is in.
  CHECK_FALSE(cask::this_task::stop_requested());
  CHECK_FALSE(cask::this_task::stop_token().stop_possible());
  CHECK(cask::this_task::sleep_for(1ms));
  CHECK(std::string(cask::this_task::key()).empty());
}

BOTH_CASE("ThisTask.sleep_for_completes_when_not_cancelled", 30) {
  CHECK(env.client.submit(core_tasks::sleep_completes, 20).result(kPatience));
}
