// Both modes: futures as arguments, a vector of futures as a vector of values, errors and
// cancellation flowing to dependents, inputs kept while a dependent needs them.
#include "core2_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

BOTH_CASE("Dependencies.task_receives_values", 30) {
  auto a = env.client.submit(inc, 1);
  auto b = env.client.submit(inc, 2);
  CHECK(env.client.submit(add, a, b).result(kPatience) == 5);
  CHECK(env.client.submit(add, a, 10).result(kPatience) == 12);  // a future and a plain value
  CHECK(env.client.submit(add, a, a).result(kPatience) == 4);    // the same future twice
}

BOTH_CASE("Dependencies.runs_after_inputs_finish", 30) {
  Gate gate(env, "gate");
  auto input = gate.submit(5);
  const std::string log = env.file("dependent");
  auto dependent = env.client.submit(count_run, log, input);
  REQUIRE(gate.wait_for(1));
  // It waits for its input although a slot is free.
  CHECK(eventually([&] { return env.client.stats().waiting == 1; }));
  CHECK(dependent.status() == cask::Status::pending);
  CHECK_THROWS_AS((void)dependent.result(100ms), cask::TimeoutError);
  CHECK(count_lines(log, "run") == 0);  // not started while its input runs
  gate.open();
  CHECK(dependent.result(kPatience) == 5);
  CHECK(count_lines(log, "run") == 1);
}

BOTH_CASE("Dependencies.vector_of_futures_becomes_vector_of_values", 30) {
  auto fs = env.client.map(inc, std::vector{1, 2, 3, 4});
  CHECK(env.client.submit(sum, fs).result(kPatience) == 14);
  CHECK(env.client.submit(core2_tasks::count_plus, fs, 10).result(kPatience) == 14);  // next to a plain value
  CHECK(env.client.submit(sum, std::vector<cask::Future<int>>{}).result(kPatience) == 0);
}

BOTH_CASE("Dependencies.chain_of_dependents", 30) {
  cask::Future<int> x = env.client.submit(inc, 0);
  for (int i = 0; i < 20; ++i) x = env.client.submit(inc, x);
  CHECK(x.result(kPatience) == 21);
}

BOTH_CASE("Dependencies.error_flows_to_dependent", 30) {
  auto bad = env.client.submit(fail_with, std::string("upstream"));
  const std::string log = env.file("dependent");
  auto dependent = env.client.submit(count_run, log, bad);
  auto further = env.client.submit(add, dependent, 1);
  for (auto* f : {&bad, &dependent, &further}) {
    CHECK(task_error_message<std::runtime_error>(env, *f, "std::runtime_error") == "upstream");
    CHECK(f->status() == cask::Status::error);
  }
  CHECK(count_lines(log, "run") == 0);  // the dependent never ran
  // exception() holds the same error result() throws.
  REQUIRE(dependent.exception() != nullptr);
  if (env.cluster())
    CHECK_THROWS_WITH_AS(std::rethrow_exception(dependent.exception()), "std::runtime_error: upstream",
                         cask::RemoteError);
  else
    CHECK_THROWS_WITH_AS(std::rethrow_exception(dependent.exception()), "upstream", std::runtime_error);
}

BOTH_CASE("Dependencies.error_in_one_of_vector_inputs_fails_dependent", 30) {
  std::vector<cask::Future<int>> fs{env.client.submit(inc, 1), env.client.submit(fail_custom, 2)};
  auto total = env.client.submit(sum, fs);
  CHECK(task_error_message<TaskFailure>(env, total, "cluster_tasks::TaskFailure") == "failure 2");
  CHECK(fs[0].result(kPatience) == 2);
  // An exception that is not a std::exception: rethrown as itself embedded; on a cluster
  // a RemoteError that cannot name its type.
  auto odd = env.client.submit(sum, std::vector{env.client.submit(inc, 2), env.client.submit(fail_non_std, 3)});
  if (env.cluster()) {
    try {
      (void)odd.result(kPatience);
      FAIL("result() did not throw");
    } catch (const cask::RemoteError& e) {
      CHECK(e.type_name() == "unknown exception");
    }
  } else {
    CHECK_THROWS_AS((void)odd.result(kPatience), int);
  }
}

BOTH_CASE("Dependencies.dependent_of_erred_future_submitted_later_fails", 30) {
  auto bad = env.client.submit(fail_with, std::string("earlier"));
  CHECK_THROWS((void)bad.result(kPatience));
  auto later = env.client.submit(inc, bad);
  CHECK(task_error_message<std::runtime_error>(env, later, "std::runtime_error") == "earlier");
}

BOTH_CASE("Dependencies.cancellation_flows_to_dependent", 30) {
  Gate gate(env, "gate");
  auto input = gate.submit(1);
  const std::string log = env.file("dependent");
  auto dependent = env.client.submit(count_run, log, input);
  auto further = env.client.submit(add, dependent, 1);
  REQUIRE(gate.wait_for(1));  // the input runs when it is cancelled
  input.cancel();
  CHECK_THROWS_AS((void)dependent.result(kPatience), cask::CancelledError);
  CHECK(dependent.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)further.result(kPatience), cask::CancelledError);
  CHECK(further.status() == cask::Status::cancelled);
  CHECK(count_lines(log, "run") == 0);
}

BOTH_CASE("Dependencies.cancelled_input_cancels_later_submission", 30) {
  Gate gate(env, "gate");
  auto input = gate.submit(1);
  input.cancel();
  auto later = env.client.submit(inc, input);
  CHECK_THROWS_AS((void)later.result(kPatience), cask::CancelledError);
  CHECK(later.done());
}

BOTH_CASE("Dependencies.cancelling_dependent_leaves_input_running", 30) {
  Gate gate(env, "gate");
  auto input = gate.submit(3);
  auto dependent = env.client.submit(inc, input);
  REQUIRE(gate.wait_for(1));
  dependent.cancel();
  CHECK(dependent.status() == cask::Status::cancelled);
  gate.open();
  CHECK(input.result(kPatience) == 3);
  CHECK(gate.count("stopped") == 0);
  CHECK_THROWS_AS((void)dependent.result(kPatience), cask::CancelledError);
}

BOTH_CASE("Dependencies.input_kept_while_dependent_needs_it", 30) {
  Gate gate(env, "gate");
  auto input = env.client.submit(inc, 41);
  CHECK(input.result(kPatience) == 42);
  auto blocker = gate.submit(1);
  auto dependent = env.client.submit(add, input, blocker);  // waits for the gate
  input = cask::Future<int>{};                               // the only handle is gone
  gate.open();
  CHECK(dependent.result(kPatience) == 43);
}

BOTH_CASE("Dependencies.running_input_kept_while_dependent_needs_it", 30) {
  Gate gate(env, "gate");
  cask::Future<int> dependent;
  {
    auto input = gate.submit(20);
    dependent = env.client.submit(add, input, 1);
    REQUIRE(gate.wait_for(1));
  }  // the only handle to the running input is gone; the dependent still wants its value
  gate.open();
  CHECK(dependent.result(kPatience) == 21);
  CHECK(gate.count("stopped") == 0);  // the input was not asked to stop
  dependent = {};
  // Nothing is left once the last handle is gone.
  CHECK(eventually([&] {
    const auto s = env.client.stats();
    return s.tasks() == 0 && s.future_actors == 0;
  }));
}
