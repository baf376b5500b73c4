// Futures as arguments: values flow in, errors and cancellation flow to dependents.
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Dependencies.task_receives_values" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto fa = client.submit(slow, 1);  // 3
  auto fb = client.submit(slow, 2);  // 6
  cask::Future<int> total = client.submit(add, fa, fb);
  CHECK(total.result() == 9);
  // Futures and plain values mixed, and the same future twice.
  CHECK(client.submit(add, fa, 100).result() == 103);
  CHECK(client.submit(add, fb, fb).result() == 12);
}

TEST_CASE("Dependencies.runs_after_inputs_finish" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto input_done = std::make_shared<std::atomic<bool>>(false);
  auto input = client.submit([gate, input_done] {
    gate->wait();
    input_done->store(true);
    return 5;
  });
  auto ran_early = std::make_shared<std::atomic<bool>>(false);
  auto dependent = client.submit([input_done, ran_early](int x) {
    if (!input_done->load()) ran_early->store(true);
    return x * 2;
  }, input);
  // The dependent waits for its input although a slot is free.
  CHECK(eventually([&] { return client.stats().waiting == 1; }));
  CHECK(dependent.status() == cask::Status::pending);
  gate->set();
  CHECK(dependent.result() == 10);
  CHECK_FALSE(ran_early->load());
}

TEST_CASE("Dependencies.vector_of_futures_becomes_vector_of_values" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  std::vector<cask::Future<int>> fs = client.map(slow, std::vector{1, 2, 3, 4});
  cask::Future<int> total = client.submit(sum, fs);
  CHECK(total.result() == 30);
  auto count = client.submit([](const std::vector<int>& xs, int extra) { return int(xs.size()) + extra; }, fs, 10);
  CHECK(count.result() == 14);
  std::vector<cask::Future<int>> none;
  CHECK(client.submit(sum, none).result() == 0);
}

TEST_CASE("Dependencies.chain_of_dependents" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  cask::Future<int> f = client.submit(slow, 1);
  for (int i = 0; i < 20; ++i) f = client.submit(add, f, 1);
  CHECK(f.result() == 23);
}

TEST_CASE("Dependencies.error_flows_to_dependent_with_same_type" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto bad = client.submit(fails_with_my_error, 77);
  auto dependent = client.submit([runs](int x) { runs->fetch_add(1); return x; }, bad);
  auto grandchild = client.submit(add, dependent, 1);
  try {
    (void)dependent.result();
    FAIL("dependent did not fail");
  } catch (const MyError& e) {
    CHECK(e.code == 77);
  }
  CHECK(dependent.status() == cask::Status::error);
  CHECK_THROWS_AS((void)grandchild.result(), MyError);
  CHECK(grandchild.status() == cask::Status::error);
  CHECK(runs->load() == 0);  // the dependent never ran
  CHECK_THROWS_AS(std::rethrow_exception(dependent.exception()), MyError);
}

TEST_CASE("Dependencies.error_in_one_of_vector_inputs_fails_dependent" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  std::vector<cask::Future<int>> fs;
  fs.push_back(client.submit(slow, 1));
  fs.push_back(client.submit([]() -> int { throw NotAnException{3}; }));
  auto total = client.submit(sum, fs);
  CHECK_THROWS_AS((void)total.result(), NotAnException);
}

TEST_CASE("Dependencies.dependent_of_erred_future_submitted_later_fails" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto bad = client.submit(fails_with_my_error, 1);
  CHECK_THROWS_AS((void)bad.result(), MyError);
  auto dependent = client.submit(add, bad, 1);
  CHECK_THROWS_AS((void)dependent.result(), MyError);
}

TEST_CASE("Dependencies.cancellation_flows_to_dependent" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto input = client.submit([started, gate] { started->set(); gate->wait(); return 1; });
  auto dependent = client.submit([runs](int x) { runs->fetch_add(1); return x; }, input);
  auto grandchild = client.submit(add, dependent, 1);
  REQUIRE(started->wait_for());
  input.cancel();
  CHECK_THROWS_AS((void)dependent.result(kPatience), cask::CancelledError);
  CHECK(dependent.status() == cask::Status::cancelled);
  CHECK_THROWS_AS((void)grandchild.result(kPatience), cask::CancelledError);
  CHECK(grandchild.status() == cask::Status::cancelled);
  CHECK(runs->load() == 0);
}

TEST_CASE("Dependencies.cancelled_input_cancels_later_submission" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto input = client.submit([gate] { gate->wait(); return 1; });
  input.cancel();
  auto dependent = client.submit(add, input, 1);
  CHECK_THROWS_AS((void)dependent.result(kPatience), cask::CancelledError);
}

TEST_CASE("Dependencies.cancelling_dependent_leaves_input_running" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto input = client.submit([started, gate] { started->set(); return gate->wait() ? 4 : -1; });
  auto dependent = client.submit(add, input, 1);
  REQUIRE(started->wait_for());
  dependent.cancel();
  gate->set();
  CHECK(input.result() == 4);
  CHECK_THROWS_AS((void)dependent.result(), cask::CancelledError);
}

TEST_CASE("Dependencies.input_kept_while_dependent_needs_it" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto started = make_event();
  auto gate = make_event();
  OpenOnExit opener{gate};
  auto input_stopped = std::make_shared<std::atomic<bool>>(false);
  cask::Future<int> dependent;
  {
    auto input = client.submit([started, gate, input_stopped] {
      started->set();
      const bool opened = gate->wait();
      input_stopped->store(cask::this_task::stop_requested());
      return opened ? 20 : -1;
    });
    dependent = client.submit(add, input, 1);
    REQUIRE(started->wait_for());
  }  // the only handle to `input` is gone; the dependent still wants its value
  gate->set();
  CHECK(dependent.result() == 21);
  CHECK_FALSE(input_stopped->load());
  dependent = {};
  CHECK(eventually([&] {
    auto s = client.stats();
    return s.tasks() == 0 && s.future_actors == 0;
  }));
}
