// Both modes: cask::as_completed: completion order, every handle once (also two of one
// key), add() while iterating, with_results(), batches(), count()/is_empty(), a timeout over
// the whole iteration, empty lists, errors and cancellations mid-iteration, a destroyed
// client.
#include <algorithm>
#include <optional>
#include <set>
#include <thread>

#include "both_tasks.hpp"
#include "core_support.hpp"
#include "core_tasks.hpp"
#include "harness.hpp"
#include "helpers.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_test::InBackground;

using Futures = std::vector<cask::Future<int>>;

namespace {

std::size_t count_of(const Futures& fs, const cask::Future<int>& f) {
  return static_cast<std::size_t>(std::count(fs.begin(), fs.end(), f));
}

std::chrono::steady_clock::duration since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::steady_clock::now() - t0;
}

}  // namespace

BOTH_CASE("AsCompleted.yields_in_completion_order", 30) {
  // Four gated tasks on two slots: two run, two queue. Each gate is opened only after the
  // previous future was yielded, so the order of completion is exactly this one. (The
  // queued two are opened in their submission order: which worker queued them is not
  // fixed, and a queued task waits for the slot of its own worker.)
  Gate gates[4] = {{env, "g0"}, {env, "g1"}, {env, "g2"}, {env, "g3"}};
  Futures fs;
  for (int i = 0; i < 4; ++i) fs.push_back(gates[i].submit(i));
  const std::vector<int> order{1, 0, 2, 3};
  std::vector<int> seen;
  gates[order[0]].open();
  for (auto& f : cask::as_completed(fs)) {
    seen.push_back(f.result());
    if (seen.size() < order.size()) gates[order[seen.size()]].open();
  }
  CHECK(seen == order);
}

BOTH_CASE("AsCompleted.done_futures_come_first", 30) {
  Gate gate(env, "gate");
  Futures fs{gate.submit(1), env.client.submit(inc, 5), env.client.submit(inc, 8)};
  REQUIRE(fs[1].result(kPatience) == 6);
  REQUIRE(fs[2].result(kPatience) == 9);
  REQUIRE(gate.wait_for(1));
  auto ac = cask::as_completed(fs);
  auto first = ac.next();
  auto second = ac.next();
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->done());
  CHECK(second->done());
  CHECK(fs[0].status() == cask::Status::pending);  // the gated one has not been yielded
  gate.open();
  auto third = ac.next();
  REQUIRE(third.has_value());
  CHECK(*third == fs[0]);
  CHECK(third->result() == 1);
  CHECK_FALSE(ac.next().has_value());
}

BOTH_CASE("AsCompleted.yields_finished_erred_and_cancelled", 30) {
  Gate gate(env, "gate");
  Futures fs{env.client.submit(inc, 2), env.client.submit(fail_custom, 2), gate.submit(3)};
  fs[2].cancel();
  std::multiset<cask::Status> statuses;
  Futures yielded;
  for (auto& f : cask::as_completed(fs, kPatience)) {
    statuses.insert(f.status());
    yielded.push_back(f);
  }
  CHECK(statuses == std::multiset{cask::Status::finished, cask::Status::error, cask::Status::cancelled});
  for (const auto& f : fs) CHECK(count_of(yielded, f) == 1);
  CHECK(fs[0].result() == 3);
  CHECK(task_error_message<TaskFailure>(env, fs[1], "cluster_tasks::TaskFailure") == "failure 2");
  CHECK_THROWS_AS((void)fs[2].result(), cask::CancelledError);
}

BOTH_CASE("AsCompleted.each_handle_once_with_two_handles_of_one_key", 30) {
  // Two submits of one key: one computation, two handles, both pending while subscribed.
  Gate gate(env, "gate");
  auto a = gate.submit(5, cask::options{.key = "as-completed-twice"});
  auto b = gate.submit(5, cask::options{.key = "as-completed-twice"});
  REQUIRE(a.key() == b.key());
  REQUIRE_FALSE(a == b);
  REQUIRE(gate.wait_for(1));
  auto ac = cask::as_completed(Futures{a, b});
  CHECK(ac.count() == 2);
  gate.open();
  Futures yielded;
  for (auto& f : ac) yielded.push_back(f);
  REQUIRE(yielded.size() == 2);
  CHECK(count_of(yielded, a) == 1);
  CHECK(count_of(yielded, b) == 1);
  CHECK(gate.count("start") == 1);
  // The same with a pure function and equal arguments, already finished.
  auto c = env.client.submit(inc, 20);
  auto d = env.client.submit(inc, 20);
  REQUIRE(c.key() == d.key());
  Futures again;
  for (auto& f : cask::as_completed(Futures{c, d})) again.push_back(f);
  REQUIRE(again.size() == 2);
  CHECK(count_of(again, c) == 1);
  CHECK(count_of(again, d) == 1);
  for (const auto& f : again) CHECK(f.result() == 21);
}

BOTH_CASE("AsCompleted.same_handle_added_twice_is_yielded_twice", 30) {
  auto f = env.client.submit(inc, 1);
  Futures yielded;
  for (auto& g : cask::as_completed(Futures{f, f})) yielded.push_back(g);
  CHECK(yielded == Futures{f, f});
}

BOTH_CASE("AsCompleted.add_while_iterating", 30) {
  auto ac = cask::as_completed(Futures{env.client.submit(cask::options{.pure = false}, inc, 0)});
  std::vector<int> seen;
  for (auto& f : ac) {
    const int v = f.result();
    seen.push_back(v);
    // Each step adds the next one, also at what would otherwise be the last step.
    if (v < 5) ac.add(env.client.submit(cask::options{.pure = false}, inc, v));
  }
  CHECK(seen == std::vector{1, 2, 3, 4, 5});
  CHECK(ac.is_empty());
}

BOTH_CASE("AsCompleted.add_pending_future_while_iterating", 30) {
  Gate late(env, "late");
  auto ac = cask::as_completed(Futures{env.client.submit(inc, 2)});
  std::vector<int> seen;
  for (auto& f : ac) {
    seen.push_back(f.result());
    if (seen.size() == 1) {
      ac.add(late.submit(42));
      CHECK(ac.count() == 1);
      REQUIRE(late.wait_for(1));
      late.open();
    }
  }
  CHECK(seen == std::vector{3, 42});
}

BOTH_CASE("AsCompleted.add_from_another_thread", 30) {
  Gate first(env, "first");
  auto ac = cask::as_completed(Futures{first.submit(1)});
  REQUIRE(first.wait_for(1));
  std::thread adder([&] { ac.add(env.client.submit(inc, 11)); });
  adder.join();
  CHECK(ac.count() == 2);
  first.open();
  std::multiset<int> seen;
  for (auto& f : ac) seen.insert(f.result());
  CHECK(seen == std::multiset{1, 12});
}

BOTH_CASE("AsCompleted.with_results_gives_value_or_error", 30) {
  Gate gate(env, "gate");
  Futures fs{env.client.submit(inc, 14), env.client.submit(fail_custom, 6), gate.submit(7)};
  fs[2].cancel();
  int values = 0, errors = 0, cancelled = 0;
  for (auto& c : cask::as_completed(fs).with_results()) {
    REQUIRE(c.future.valid());
    if (c.future == fs[0]) {
      ++values;
      CHECK(c.error == nullptr);
      REQUIRE(c.value.has_value());
      CHECK(*c.value == 15);
    } else if (c.future == fs[1]) {
      ++errors;
      CHECK_FALSE(c.value.has_value());
      REQUIRE(c.error != nullptr);
      if (env.cluster())
        CHECK_THROWS_WITH_AS(std::rethrow_exception(c.error), "cluster_tasks::TaskFailure: failure 6",
                             cask::RemoteError);
      else
        CHECK_THROWS_WITH_AS(std::rethrow_exception(c.error), "failure 6", TaskFailure);
    } else if (c.future == fs[2]) {
      ++cancelled;
      CHECK_FALSE(c.value.has_value());
      REQUIRE(c.error != nullptr);
      CHECK_THROWS_AS(std::rethrow_exception(c.error), cask::CancelledError);
    } else {
      FAIL("with_results yielded a future that was not given");
    }
  }
  CHECK(values == 1);
  CHECK(errors == 1);
  CHECK(cancelled == 1);
}

BOTH_CASE("AsCompleted.with_results_of_void_futures", 30) {
  std::vector<cask::Future<void>> fs{env.client.submit(touch, env.file("touched")),
                                     env.client.submit(core_tasks::fail_void, std::string("v"))};
  int ok = 0, bad = 0;
  auto ac = cask::as_completed(fs);
  for (auto& c : ac.with_results()) {
    if (c.error) {
      ++bad;
      CHECK(c.future == fs[1]);
      CHECK_FALSE(c.value.has_value());
    } else {
      ++ok;
      CHECK(c.future == fs[0]);
      CHECK(c.value.has_value());
    }
  }
  CHECK(ok == 1);
  CHECK(bad == 1);
}

BOTH_CASE("AsCompleted.batches_give_everything_done_so_far", 30) {
  Gate gate(env, "gate");
  Futures fs{env.client.submit(inc, 1), gate.submit(2), env.client.submit(inc, 3)};
  REQUIRE(fs[0].result(kPatience) == 2);
  REQUIRE(fs[2].result(kPatience) == 4);
  REQUIRE(gate.wait_for(1));
  std::vector<Futures> batches;
  for (auto& batch : cask::as_completed(fs).batches()) {
    batches.push_back(batch);
    if (batches.size() == 1) gate.open();  // the second batch only once this one is in
  }
  REQUIRE(batches.size() == 2);
  REQUIRE(batches[0].size() == 2);
  CHECK(count_of(batches[0], fs[0]) == 1);
  CHECK(count_of(batches[0], fs[2]) == 1);
  CHECK(batches[1] == Futures{fs[1]});
}

BOTH_CASE("AsCompleted.batches_of_many_finished_futures", 30) {
  std::vector<int> xs(50);
  for (int i = 0; i < 50; ++i) xs[i] = i;
  Futures fs = env.client.map(inc, xs);
  auto [done, not_done] = cask::wait(fs, kPatience);
  REQUIRE(not_done.empty());
  std::size_t total = 0, batches = 0;
  for (auto& batch : cask::as_completed(fs).batches()) {
    CHECK_FALSE(batch.empty());
    total += batch.size();
    ++batches;
  }
  CHECK(total == 50);
  CHECK(batches == 1);  // all were done before the first step
}

BOTH_CASE("AsCompleted.count_and_is_empty", 30) {
  Gate g0(env, "g0"), g1(env, "g1");
  Futures fs{g0.submit(0), g1.submit(1)};
  auto ac = cask::as_completed(fs);
  CHECK(ac.count() == 2);
  CHECK_FALSE(ac.is_empty());
  g1.open();
  auto f = ac.next();
  REQUIRE(f.has_value());
  CHECK(*f == fs[1]);
  CHECK(ac.count() == 1);
  ac.add(env.client.submit(inc, 1));
  CHECK(ac.count() == 2);
  g0.open();
  int taken = 0;
  while (ac.next()) ++taken;
  CHECK(taken == 2);
  CHECK(ac.count() == 0);
  CHECK(ac.is_empty());
  cask::AsCompleted<int> none;
  CHECK(none.is_empty());
  CHECK(none.count() == 0);
}

BOTH_CASE("AsCompleted.timeout_on_whole_iteration", 30) {
  // Bounded even if the timeout never fires: the gated task gives up after 20 s and errs,
  // which ends the iteration without a TimeoutError and fails below.
  Gate gate(env, "gate");
  Futures fs{env.client.submit(inc, 2), gate.submit(2)};
  REQUIRE(gate.wait_for(1));
  REQUIRE(fs[0].result(kPatience) == 3);
  const auto t0 = std::chrono::steady_clock::now();
  auto ac = cask::as_completed(fs, 200ms);
  std::vector<int> seen;
  try {
    for (auto& f : ac) seen.push_back(f.result());
    FAIL_CHECK("the iteration ended although a future was outstanding");
  } catch (const cask::TimeoutError&) {
    CHECK(since(t0) >= 200ms);
  }
  CHECK(seen == std::vector{3});  // the done one came out before the timeout
  CHECK(ac.count() == 1);         // one outstanding
  // The future keeps running and finishes.
  CHECK(fs[1].status() == cask::Status::pending);
  gate.open();
  CHECK(fs[1].result(kPatience) == 2);
  CHECK(gate.count("stopped") == 0);
}

BOTH_CASE("AsCompleted.timeout_is_for_the_whole_iteration_not_each_step", 30) {
  // Completions 150 ms and 300 ms apart under a 400 ms limit: every single step is within
  // the limit, the whole iteration is not. (The sleeps only space the releases; the third
  // future cannot finish before 450 ms, whatever the timing.)
  Gate gates[3] = {{env, "g0"}, {env, "g1"}, {env, "g2"}};
  Futures fs;
  for (int i = 0; i < 3; ++i) fs.push_back(gates[i].submit(i));  // the third queues
  REQUIRE(gates[0].wait_for(1));
  REQUIRE(gates[1].wait_for(1));
  const auto t0 = std::chrono::steady_clock::now();
  auto ac = cask::as_completed(fs, 400ms);
  gates[0].open();
  std::thread releaser;
  int seen = 0;
  bool timed_out = false;
  try {
    for (auto& f : ac) {
      (void)f;
      ++seen;
      if (seen == 1) {
        std::this_thread::sleep_for(150ms);
        gates[1].open();
      } else if (seen == 2) {
        releaser = std::thread([&gate = gates[2]] {
          std::this_thread::sleep_for(300ms);
          gate.open();
        });
      }
    }
  } catch (const cask::TimeoutError&) {
    timed_out = true;
    CHECK(since(t0) >= 400ms);
  }
  if (releaser.joinable()) releaser.join();
  CHECK(timed_out);
  CHECK(seen < 3);
  CHECK(fs[2].result(kPatience) == 2);  // still ran to completion
}

BOTH_CASE("AsCompleted.timeout_not_hit_when_all_complete_in_time", 30) {
  auto fs = env.client.map(inc, std::vector{1, 2, 3});
  std::multiset<int> seen;
  for (auto& f : cask::as_completed(fs, 30s)) seen.insert(f.result());
  CHECK(seen == std::multiset{2, 3, 4});
}

BOTH_CASE("AsCompleted.empty_list_yields_nothing", 30) {
  // On a thread of its own: an iteration that blocked would fail the bounded get().
  InBackground<int> iterating([] {
    const Futures none;
    int steps = 0;
    for (auto& f : cask::as_completed(none)) {
      (void)f;
      ++steps;
    }
    for (auto& c : cask::as_completed(none).with_results()) {
      (void)c;
      ++steps;
    }
    for (auto& b : cask::as_completed(none).batches()) {
      (void)b;
      ++steps;
    }
    for (auto& f : cask::as_completed(none, 0s)) {  // even with an expired timeout
      (void)f;
      ++steps;
    }
    auto ac = cask::as_completed(none);
    if (ac.next().has_value()) ++steps;
    if (!ac.is_empty()) ++steps;
    return steps;
  });
  CHECK(iterating.get() == 0);
}

BOTH_CASE("AsCompleted.error_and_cancel_mid_iteration", 30) {
  // ok and victim run on the two slots; bad queues, starts when ok is done, and errs once
  // its gate opens.
  Gate ok(env, "ok"), bad(env, "bad"), victim(env, "victim");
  auto ok_f = ok.submit(1);
  auto victim_f = victim.submit(3);
  REQUIRE(ok.wait_for(1));
  REQUIRE(victim.wait_for(1));
  auto bad_f = env.client.submit(cask::options{.pure = false}, core_tasks::gated_fail, bad.path(), bad.log(), 2);
  Futures fs{ok_f, bad_f, victim_f};
  ok.open();
  std::vector<cask::Status> statuses;
  Futures order;
  for (auto& f : cask::as_completed(fs)) {
    statuses.push_back(f.status());
    order.push_back(f);
    if (order.size() == 1) {
      fs[2].cancel();  // cancelled now: it is next
      bad.open();      // errs afterwards
    }
  }
  CHECK(order == Futures{fs[0], fs[2], fs[1]});
  CHECK(statuses == std::vector{cask::Status::finished, cask::Status::cancelled, cask::Status::error});
  CHECK(victim.wait_for(1, "stopped"));  // the cancelled one was asked to stop and returned
  CHECK(task_error_message<TaskFailure>(env, fs[1], "cluster_tasks::TaskFailure") == "failure 2");
}

BOTH_CASE("AsCompleted.client_cancel_mid_iteration", 30) {
  // Finished without running a task: embedded, a worker that just ran a short task takes
  // queued work ahead of its slots (prefetch), so both gated tasks could go to it.
  auto first = env.client.scatter(2);
  REQUIRE(first.result(kPatience) == 2);
  Gate gate(env, "gate");
  Futures fs{first, gate.submit(1), gate.submit(2)};  // both slots taken: the rest queue
  REQUIRE(gate.wait_for(2));
  for (int i = 0; i < 5; ++i) fs.push_back(env.client.submit(cask::options{.pure = false}, inc, i));
  std::size_t yielded = 0, cancelled = 0;
  std::string seen;
  for (auto& f : cask::as_completed(fs)) {
    ++yielded;
    seen += std::string(cask::to_string(f.status())) + " " + f.key() + "; ";
    if (f.status() == cask::Status::cancelled) ++cancelled;
    if (yielded == 1) env.client.cancel(Futures(fs.begin() + 1, fs.end()));
  }
  INFO("yielded: ", seen);
  CHECK(yielded == fs.size());
  CHECK(cancelled == fs.size() - 1);
}

BOTH_CASE("AsCompleted.futures_of_destroyed_client", 30) {
  Gate gate(env, "gate");
  Futures fs;
  std::optional<cask::AsCompleted<int>> made_before;
  {
    cask::Client client = core_support::second_client(env);
    fs.push_back(client.submit(inc, 5));
    REQUIRE(fs[0].result(kPatience) == 6);
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 1, 20000));
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 2, 20000));
    REQUIRE(gate.wait_for(1));
    made_before.emplace(fs);  // subscribed while the client was alive
  }
  auto collect = [](cask::AsCompleted<int>& ac) {
    std::multiset<cask::Status> s;
    for (auto& f : ac) s.insert(f.status());
    return s;
  };
  const std::multiset expected{cask::Status::finished, cask::Status::cancelled, cask::Status::cancelled};
  CHECK(collect(*made_before) == expected);
  auto after = cask::as_completed(fs);
  CHECK(collect(after) == expected);
  auto timed = cask::as_completed(fs, 5s);
  CHECK(collect(timed) == expected);
  std::size_t n = 0;
  for (auto& c : cask::as_completed(fs).with_results()) {
    ++n;
    CHECK((c.value.has_value() || c.error != nullptr));
  }
  CHECK(n == 3);
}

BOTH_CASE("AsCompleted.iterating_while_client_is_destroyed", 30) {
  // A thread iterating (blocked on a gated future) while the client goes away: the rest is
  // yielded as cancelled and the iteration ends.
  Gate gate(env, "gate");
  Futures fs;
  std::optional<InBackground<std::vector<cask::Status>>> iterating;
  {
    cask::Client client = core_support::second_client(env);
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 1, 20000));
    fs.push_back(client.submit(cask::options{.pure = false}, gated, gate.path(), gate.log(), 2, 20000));
    REQUIRE(gate.wait_for(1));
    iterating.emplace([fs] {
      std::vector<cask::Status> out;
      for (auto& f : cask::as_completed(fs)) out.push_back(f.status());
      return out;
    });
  }
  auto statuses = iterating->get();
  CHECK(statuses == std::vector{cask::Status::cancelled, cask::Status::cancelled});
}
