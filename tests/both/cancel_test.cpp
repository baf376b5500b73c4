// Both modes: cancel (queued, running through the stop token, finished, erred), client.cancel,
// add_done_callback (release and fire_and_forget: lifecycle_test.cpp).
#include <atomic>

#include "both_tasks.hpp"
#include "core_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using namespace both_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;
using cask_cluster_test::Latch;

BOTH_CASE("Cancel.queued_task_never_runs", 30) {
  Gate gate(env, "gate");
  auto a = gate.submit(1), b = gate.submit(2);
  REQUIRE(gate.wait_for(2));
  const std::string log = env.file("runs");
  auto queued = env.client.submit(count_run, log, 1);
  queued.cancel();
  CHECK(queued.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)queued.result(kPatience), cask::CancelledError);
  gate.open();
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
  // A later task on the freed slots runs; the cancelled one never did.
  CHECK(env.client.submit(count_run, env.file("later"), 2).result(kPatience) == 2);
  CHECK(count_lines(log, "run") == 0);
}

BOTH_CASE("Cancel.running_task_sees_stop_token", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  g.cancel();
  CHECK(g.status() == cask::Status::cancelled);
  CHECK(gate.wait_for(1, "stopped"));
  CHECK_THROWS_AS((void)g.result(kPatience), cask::CancelledError);
}

BOTH_CASE("Cancel.makes_cancelled_at_once", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  REQUIRE(gate.wait_for(1));
  g.cancel();
  CHECK(g.status() == cask::Status::cancelled);  // no waiting for the cluster
  CHECK(g.done());
  CHECK_THROWS_AS((void)g.result(), cask::CancelledError);
  CHECK_THROWS_AS((void)g.result(1s), cask::CancelledError);
  g.cancel();  // twice: no effect, no crash
  CHECK(g.status() == cask::Status::cancelled);
}

BOTH_CASE("Cancel.exception_of_cancelled_future_is_cancelled_error", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  g.cancel();
  auto e = g.exception();
  REQUIRE(e != nullptr);
  CHECK_THROWS_AS(std::rethrow_exception(e), cask::CancelledError);
}

BOTH_CASE("Cancel.running_task_is_woken_from_sleep_for", 30) {
  const std::string log = env.file("log");
  auto f = env.client.submit(cask::options{.pure = false}, core_tasks::nap_logged, log, 30000);
  REQUIRE(logged(log, "start"));
  f.cancel();
  CHECK(logged(log, "woken"));  // long before its 30 s
  CHECK(count_lines(log, "stop") == 1);
  CHECK(count_lines(log, "full") == 0);
  CHECK_THROWS_AS((void)f.result(kPatience), cask::CancelledError);  // its result is dropped
}

BOTH_CASE("Cancel.running_task_stop_callback_runs", 30) {
  const std::string log = env.file("log");
  auto f = env.client.submit(cask::options{.pure = false}, wait_for_stop, log);
  REQUIRE(logged(log, "start"));
  f.cancel();
  CHECK(logged(log, "callback"));
}

BOTH_CASE("Cancel.finished_future_keeps_value", 30) {
  auto f = env.client.submit(inc, 1);
  CHECK(f.result(kPatience) == 2);
  f.cancel();
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.result() == 2);
  CHECK(f.exception() == nullptr);
  // The cluster keeps it too: a new handle to the same key gets the value, computed once.
  auto again = env.client.submit(inc, 1);
  CHECK(again.key() == f.key());
  CHECK(again.result(kPatience) == 2);
  CHECK(env.client.stats().finished == 1);
}

BOTH_CASE("Cancel.of_second_handle_to_finished_task_keeps_value", 30) {
  // The task is finished in the cluster; a fresh handle to its key may not have heard yet.
  // Cancelling through it must not turn a finished task into a cancelled one.
  auto f = env.client.submit(inc, 5);
  REQUIRE(f.result(kPatience) == 6);
  auto again = env.client.submit(inc, 5);
  again.cancel();
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.result() == 6);
  CHECK(again.status() == f.status());  // every handle sees the same status
  CHECK(again.result(kPatience) == 6);
}

BOTH_CASE("Cancel.erred_future_keeps_error", 30) {
  auto f = env.client.submit(fail_with, std::string("kept"));
  CHECK_THROWS((void)f.result(kPatience));
  f.cancel();
  CHECK(f.status() == cask::Status::error);
  CHECK(task_error_message<std::runtime_error>(env, f, "std::runtime_error") == "kept");
}

BOTH_CASE("Cancel.seen_by_copies_and_same_key_handles", 30) {
  Gate gate(env, "gate");
  auto f = gate.submit(1, cask::options{.key = "shared-gated"});
  auto copy = f;
  auto same_key = env.client.submit(cask::options{.key = "shared-gated"}, gated, gate.path(), gate.log(), 1, 20000);
  REQUIRE(same_key.key() == f.key());  // same key, same task
  REQUIRE(gate.wait_for(1));
  f.cancel();
  CHECK(copy.status() == cask::Status::cancelled);  // a copy is the same handle
  CHECK_THROWS_AS((void)copy.result(), cask::CancelledError);
  CHECK_THROWS_AS((void)same_key.result(kPatience), cask::CancelledError);
  CHECK(same_key.status() == cask::Status::cancelled);
}

BOTH_CASE("Client.cancel_cancels_every_future", 30) {
  Gate gate(env, "gate");
  std::vector<cask::Future<int>> fs;
  for (int i = 0; i < 5; ++i) fs.push_back(gate.submit(i));
  REQUIRE(gate.wait_for(2));
  env.client.cancel(fs);
  for (auto& f : fs) CHECK(f.status() == cask::Status::cancelled);
  CHECK(gate.wait_for(2, "stopped"));  // the two running ones were asked to stop
  CHECK(env.client.submit(inc, 1).result(kPatience) == 2);
}

BOTH_CASE("Callback.runs_once_when_finished", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(8);
  Latch ran;
  std::atomic<int> seen{0};
  g.add_done_callback([&](const cask::Future<int>& f) {
    seen = f.status() == cask::Status::finished ? f.result() : -2;
    ran.count_down();
  });
  REQUIRE(gate.wait_for(1));
  CHECK(ran.count() == 0);  // not before it is done
  gate.open();
  REQUIRE(ran.wait_for(1));
  CHECK(seen == 8);
  CHECK(g.result(kPatience) == 8);
  // A later cancel does not fire it again; a callback added afterwards runs after it on
  // the same callback thread, so once it ran any second run would have happened already.
  g.cancel();
  Latch marker;
  g.add_done_callback([&](const cask::Future<int>&) { marker.count_down(); });
  REQUIRE(marker.wait_for(1));
  CHECK(ran.count() == 1);
}

BOTH_CASE("Callback.runs_on_error", 30) {
  Latch ran;
  std::atomic<bool> erred{false};
  env.client.submit(fail_with, std::string("cb")).add_done_callback([&](const cask::Future<int>& f) {
    erred = f.status() == cask::Status::error && f.exception() != nullptr;
    ran.count_down();
  });
  REQUIRE(ran.wait_for(1));
  CHECK(erred);
}

BOTH_CASE("Callback.runs_on_cancel", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  Latch ran;
  std::atomic<bool> cancelled{false};
  g.add_done_callback([&](const cask::Future<int>& f) {
    cancelled = f.status() == cask::Status::cancelled;
    ran.count_down();
  });
  REQUIRE(gate.wait_for(1));
  g.cancel();
  REQUIRE(ran.wait_for(1));
  CHECK(cancelled);
  Latch marker;  // runs after any second run of the first callback would have
  g.add_done_callback([&](const cask::Future<int>&) { marker.count_down(); });
  REQUIRE(marker.wait_for(1));
  CHECK(ran.count() == 1);
}

BOTH_CASE("Callback.runs_for_already_done_future", 30) {
  auto f = env.client.submit(inc, 2);
  CHECK(f.result(kPatience) == 3);
  Latch ran;
  std::atomic<int> seen{0};
  f.add_done_callback([&](const cask::Future<int>& g) {
    seen = g.result();
    ran.count_down();
  });
  REQUIRE(ran.wait_for(1));
  CHECK(seen == 3);
}

BOTH_CASE("Callback.every_callback_runs", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  Latch ran;
  for (int i = 0; i < 10; ++i) g.add_done_callback([&](const cask::Future<int>&) { ran.count_down(); });
  gate.open();
  CHECK(g.result(kPatience) == 1);
  CHECK(ran.wait_for(10));
}

BOTH_CASE("Callback.throwing_callback_does_not_break_client", 30) {
  Latch ran;
  auto f = env.client.submit(inc, 3);
  f.add_done_callback([](const cask::Future<int>&) { throw std::runtime_error("callback throws"); });
  f.add_done_callback([&](const cask::Future<int>&) { ran.count_down(); });
  CHECK(ran.wait_for(1));
  CHECK(f.result(kPatience) == 4);
  CHECK(env.client.submit(inc, 4).result(kPatience) == 5);
}
