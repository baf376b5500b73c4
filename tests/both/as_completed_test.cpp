// Both modes: as_completed in completion order, add while iterating, with_results,
// batches, count/is_empty, the whole-iteration timeout.
#include "both_tasks.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;

using Futures = std::vector<cask::Future<int>>;

BOTH_CASE("AsCompleted.yields_in_completion_order", 30) {
  Gate g0(env, "g0"), g1(env, "g1");
  Futures fs{g0.submit(0), g1.submit(1)};  // one on each slot
  REQUIRE(g0.wait_for(1));
  REQUIRE(g1.wait_for(1));
  auto ac = cask::as_completed(fs);
  // Opened one by one, each waited for: the order is the opening order, not the input's.
  std::vector<int> order;
  for (Gate* g : {&g1, &g0}) {
    g->open();
    auto next = ac.next();
    REQUIRE(next.has_value());
    order.push_back(next->result(kPatience));
  }
  CHECK(order == std::vector{1, 0});
  CHECK_FALSE(ac.next().has_value());
}

BOTH_CASE("AsCompleted.done_futures_come_first", 30) {
  Gate gate(env, "gate");
  auto done = env.client.submit(inc, 1);
  CHECK(done.result(kPatience) == 2);
  Futures fs{gate.submit(9), done};
  auto ac = cask::as_completed(fs);
  auto first = ac.next();
  REQUIRE(first.has_value());
  CHECK(*first == done);
  gate.open();
  auto second = ac.next();
  REQUIRE(second.has_value());
  CHECK(second->result(kPatience) == 9);
}

BOTH_CASE("AsCompleted.yields_finished_erred_and_cancelled", 30) {
  Gate gate(env, "gate");
  Futures fs{env.client.submit(inc, 1), env.client.submit(fail_with, std::string("x")), gate.submit(3)};
  fs[2].cancel();
  int finished = 0, erred = 0, cancelled = 0;
  for (auto& f : cask::as_completed(fs, kPatience)) {
    finished += f.status() == cask::Status::finished;
    erred += f.status() == cask::Status::error;
    cancelled += f.status() == cask::Status::cancelled;
  }
  CHECK(finished == 1);
  CHECK(erred == 1);
  CHECK(cancelled == 1);
}

BOTH_CASE("AsCompleted.add_while_iterating", 30) {
  auto ac = cask::as_completed(Futures{env.client.submit(inc, 0)});
  std::vector<int> seen;
  for (auto& f : ac) {
    const int v = f.result();
    seen.push_back(v);
    if (v < 5) ac.add(env.client.submit(inc, v));
  }
  CHECK(seen == std::vector{1, 2, 3, 4, 5});
}

BOTH_CASE("AsCompleted.with_results_gives_value_or_error", 30) {
  Futures fs{env.client.submit(inc, 1), env.client.submit(fail_with, std::string("wr"))};
  int values = 0, errors = 0;
  for (auto& c : cask::as_completed(fs).with_results()) {
    if (c.error) {
      ++errors;
      CHECK(c.future == fs[1]);
    } else {
      ++values;
      CHECK(*c.value == 2);
    }
  }
  CHECK(values == 1);
  CHECK(errors == 1);
}

BOTH_CASE("AsCompleted.batches_give_everything_done_so_far", 30) {
  Futures fs = env.client.map(inc, std::vector{1, 2, 3, 4, 5, 6});
  (void)cask::wait(fs, kPatience);
  std::size_t total = 0, batches = 0;
  for (auto& batch : cask::as_completed(fs).batches()) {
    CHECK_FALSE(batch.empty());
    total += batch.size();
    ++batches;
  }
  CHECK(total == 6);
  CHECK(batches == 1);  // all were done before the first step
}

BOTH_CASE("AsCompleted.count_and_is_empty", 30) {
  Gate gate(env, "gate");
  auto ac = cask::as_completed(Futures{env.client.submit(inc, 1), gate.submit(2)});
  CHECK(ac.count() == 2);
  CHECK_FALSE(ac.is_empty());
  (void)ac.next();
  CHECK(ac.count() == 1);
  gate.open();
  (void)ac.next();
  CHECK(ac.count() == 0);
  CHECK(ac.is_empty());
}

BOTH_CASE("AsCompleted.timeout_on_whole_iteration", 30) {
  Gate gate(env, "gate");
  Futures fs{env.client.submit(inc, 1), gate.submit(2)};
  int yielded = 0;
  CHECK_THROWS_AS(
      [&] {
        for (auto& f : cask::as_completed(fs, 200ms)) {
          (void)f;
          ++yielded;
        }
      }(),
      cask::TimeoutError);
  CHECK(yielded == 1);
}

BOTH_CASE("AsCompleted.empty_list_yields_nothing", 30) {
  int n = 0;
  for (auto& f : cask::as_completed(Futures{})) {
    (void)f;
    ++n;
  }
  CHECK(n == 0);
}
