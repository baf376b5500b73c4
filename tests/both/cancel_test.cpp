// Both modes: cancel (queued, running through the stop token, finished, erred), client.cancel,
// release on the last handle, fire_and_forget, add_done_callback.
#include <atomic>

#include "both_tasks.hpp"
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
  f.cancel();
  CHECK(copy.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)same_key.result(kPatience), cask::CancelledError);
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

BOTH_CASE("Lifecycle.finished_task_released_with_last_handle", 30) {
  {
    auto f = env.client.submit(inc, 100);
    auto copy = f;
    CHECK(f.result(kPatience) == 101);
    // Cluster: the worker pushes the value to the client before the scheduler counts it.
    CHECK(eventually([&] { return env.client.stats().finished >= 1; }));
  }
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
}

BOTH_CASE("Lifecycle.erred_task_released_with_last_handle", 30) {
  {
    auto f = env.client.submit(fail_with, std::string("x"));
    CHECK_THROWS((void)f.result(kPatience));
  }
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
}

BOTH_CASE("Lifecycle.dropped_running_task_gets_stop_requested", 30) {
  Gate gate(env, "gate");
  {
    auto g = gate.submit(1);
    REQUIRE(gate.wait_for(1));
  }
  CHECK(gate.wait_for(1, "stopped"));
  CHECK(eventually([&] { return env.client.stats().tasks() == 0; }));
}

BOTH_CASE("Lifecycle.dropped_waiting_task_is_released", 30) {
  Gate gate(env, "gate");
  auto input = gate.submit(1);
  const std::string log = env.file("runs");
  { auto dependent = env.client.submit(count_run, log, input); }
  gate.open();
  CHECK(input.result(kPatience) == 1);
  CHECK(eventually([&] { return env.client.stats().tasks() == 1; }));  // only the input
  CHECK(count_lines(log, "run") == 0);
}

BOTH_CASE("FireAndForget.running_task_completes_without_handles", 30) {
  Gate gate(env, "gate");
  {
    auto g = gate.submit(1);
    cask::fire_and_forget(g);
    REQUIRE(gate.wait_for(1));
  }
  gate.open();
  CHECK(gate.wait_for(1, "done"));
  CHECK(gate.count("stopped") == 0);
}

BOTH_CASE("FireAndForget.dependency_chain_runs_without_handles", 30) {
  Gate gate(env, "gate");
  const std::string log = env.file("runs");
  {
    auto input = gate.submit(1);
    cask::fire_and_forget(env.client.submit(count_run, log, input));
  }
  gate.open();
  CHECK(logged(log, "run"));
}

BOTH_CASE("FireAndForget.finished_future_is_no_op", 30) {
  auto f = env.client.submit(inc, 5);
  CHECK(f.result(kPatience) == 6);
  cask::fire_and_forget(f);
  CHECK(f.result() == 6);
}

BOTH_CASE("Callback.runs_once_when_finished", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(8);
  Latch ran;
  std::atomic<int> seen{0};
  g.add_done_callback([&](const cask::Future<int>& f) {
    seen = f.result();
    ran.count_down();
  });
  gate.open();
  REQUIRE(ran.wait_for(1));
  CHECK(seen == 8);
  CHECK(g.result(kPatience) == 8);
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
  g.cancel();
  REQUIRE(ran.wait_for(1));
  CHECK(cancelled);
}

BOTH_CASE("Callback.runs_for_already_done_future", 30) {
  auto f = env.client.submit(inc, 2);
  CHECK(f.result(kPatience) == 3);
  Latch ran;
  f.add_done_callback([&](const cask::Future<int>&) { ran.count_down(); });
  CHECK(ran.wait_for(1));
}

BOTH_CASE("Callback.every_callback_runs", 30) {
  Gate gate(env, "gate");
  auto g = gate.submit(1);
  Latch ran;
  for (int i = 0; i < 5; ++i) g.add_done_callback([&](const cask::Future<int>&) { ran.count_down(); });
  gate.open();
  CHECK(ran.wait_for(5));
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
