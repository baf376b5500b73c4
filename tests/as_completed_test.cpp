// cask::as_completed: completion order, every handle once (also two of one key), add()
// while iterating, with_results(), batches(), count()/is_empty(), a timeout over the whole
// iteration, empty lists, errors and cancellations mid-iteration, a destroyed client.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {

using Futures = std::vector<cask::Future<int>>;

std::size_t count_of(const Futures& fs, const cask::Future<int>& f) {
  return static_cast<std::size_t>(std::count(fs.begin(), fs.end(), f));
}

}  // namespace

TEST_CASE("AsCompleted.yields_in_completion_order" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 4}};
  Gate gates[4];
  Futures fs;
  for (int i = 0; i < 4; ++i) fs.push_back(client.submit(gates[i].task(i)));
  for (auto& g : gates) REQUIRE(g.started->wait_for());
  // Each gate is opened only after the previous future was yielded, so the order of
  // completion is exactly this one.
  const std::vector<int> order{2, 0, 3, 1};
  std::vector<int> seen;
  gates[order[0]].open->set();
  for (auto& f : cask::as_completed(fs)) {
    seen.push_back(f.result());
    if (seen.size() < order.size()) gates[order[seen.size()]].open->set();
  }
  CHECK(seen == order);
}

TEST_CASE("AsCompleted.done_futures_come_first" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate gate;
  Futures fs{client.submit(gate.task(1)), client.submit(slow, 2), client.submit(slow, 3)};
  REQUIRE(fs[1].result(kPatience) == 6);
  REQUIRE(fs[2].result(kPatience) == 9);
  REQUIRE(gate.started->wait_for());
  auto ac = cask::as_completed(fs);
  auto first = ac.next();
  auto second = ac.next();
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->done());
  CHECK(second->done());
  CHECK(fs[0].status() == cask::Status::pending);  // the gated one has not been yielded
  gate.open->set();
  auto third = ac.next();
  REQUIRE(third.has_value());
  CHECK(*third == fs[0]);
  CHECK(third->result() == 1);
  CHECK_FALSE(ac.next().has_value());
}

TEST_CASE("AsCompleted.yields_finished_erred_and_cancelled" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate gate;
  Futures fs{client.submit(slow, 1), client.submit(fails_with_my_error, 2), client.submit(gate.task(3))};
  REQUIRE(gate.started->wait_for());
  fs[2].cancel();
  std::multiset<cask::Status> statuses;
  Futures yielded;
  for (auto& f : cask::as_completed(fs)) {
    statuses.insert(f.status());
    yielded.push_back(f);
  }
  CHECK(statuses == std::multiset{cask::Status::finished, cask::Status::error, cask::Status::cancelled});
  for (const auto& f : fs) CHECK(count_of(yielded, f) == 1);
  CHECK(fs[0].result() == 3);
  CHECK_THROWS_AS((void)fs[1].result(), MyError);
  CHECK_THROWS_AS((void)fs[2].result(), cask::CancelledError);
}

TEST_CASE("AsCompleted.each_handle_once_with_two_handles_of_one_key" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  // Two submits of a pure key: one computation, two handles. Pending while subscribed,
  // so they hear of the completion on different paths (the slot and the future actor).
  Gate gate;
  auto body = gate.task(5);
  auto a = client.submit(cask::options{.key = "twice"}, body);
  auto b = client.submit(cask::options{.key = "twice"}, body);
  REQUIRE(a.key() == b.key());
  REQUIRE_FALSE(a == b);
  REQUIRE(gate.started->wait_for());
  auto ac = cask::as_completed(Futures{a, b});
  CHECK(ac.count() == 2);
  gate.open->set();
  Futures yielded;
  for (auto& f : ac) yielded.push_back(f);
  REQUIRE(yielded.size() == 2);
  CHECK(count_of(yielded, a) == 1);
  CHECK(count_of(yielded, b) == 1);
  CHECK(gate.runs->load() == 1);
  // The same with a pure function and equal arguments, already finished.
  auto c = client.submit(slow, 7);
  auto d = client.submit(slow, 7);
  REQUIRE(c.key() == d.key());
  Futures again;
  for (auto& f : cask::as_completed(Futures{c, d})) again.push_back(f);
  REQUIRE(again.size() == 2);
  CHECK(count_of(again, c) == 1);
  CHECK(count_of(again, d) == 1);
  for (const auto& f : again) CHECK(f.result() == 21);
}

TEST_CASE("AsCompleted.same_handle_added_twice_is_yielded_twice" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f = client.submit(slow, 1);
  Futures yielded;
  for (auto& g : cask::as_completed(Futures{f, f})) yielded.push_back(g);
  CHECK(yielded == Futures{f, f});
}

TEST_CASE("AsCompleted.add_while_iterating" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Futures fs{client.submit(cask::options{.pure = false}, slow, 0)};
  auto ac = cask::as_completed(fs);
  std::vector<int> seen;
  for (auto& f : ac) {
    seen.push_back(f.result());
    // Each step adds the next one, also at what would otherwise be the last step.
    if (seen.size() < 5) ac.add(client.submit(cask::options{.pure = false}, slow, int(seen.size())));
  }
  CHECK(seen == std::vector{0, 3, 6, 9, 12});
  CHECK(ac.is_empty());
}

TEST_CASE("AsCompleted.add_pending_future_while_iterating" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate late;
  Futures fs{client.submit(slow, 1)};
  auto ac = cask::as_completed(fs);
  std::vector<int> seen;
  for (auto& f : ac) {
    seen.push_back(f.result());
    if (seen.size() == 1) {
      ac.add(client.submit(late.task(42)));
      CHECK(ac.count() == 1);
      REQUIRE(late.started->wait_for());
      late.open->set();
    }
  }
  CHECK(seen == std::vector{3, 42});
}

TEST_CASE("AsCompleted.add_from_another_thread" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate first;
  auto ac = cask::as_completed(Futures{client.submit(first.task(1))});
  REQUIRE(first.started->wait_for());
  std::thread adder([&] { ac.add(client.submit(slow, 4)); });
  adder.join();
  CHECK(ac.count() == 2);
  first.open->set();
  std::multiset<int> seen;
  for (auto& f : ac) seen.insert(f.result());
  CHECK(seen == std::multiset{1, 12});
}

TEST_CASE("AsCompleted.with_results_gives_value_or_error" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate gate;
  Futures fs{client.submit(slow, 5), client.submit(fails_with_my_error, 6), client.submit(gate.task(7))};
  REQUIRE(gate.started->wait_for());
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
      try {
        std::rethrow_exception(c.error);
      } catch (const MyError& e) {
        CHECK(e.code == 6);
      } catch (...) {
        FAIL("with_results gave another exception type");
      }
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

TEST_CASE("AsCompleted.with_results_of_void_futures" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  std::vector<cask::Future<void>> fs{client.submit([] {}), client.submit([]() { throw MyError("v"); })};
  int ok = 0, bad = 0;
  auto ac = cask::as_completed(fs);
  for (auto& c : ac.with_results()) {
    if (c.error) {
      ++bad;
      CHECK_FALSE(c.value.has_value());
    } else {
      ++ok;
      CHECK(c.value.has_value());
    }
  }
  CHECK(ok == 1);
  CHECK(bad == 1);
}

TEST_CASE("AsCompleted.batches_give_everything_done_so_far" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 3}};
  Gate gate;
  Futures fs{client.submit(slow, 1), client.submit(gate.task(2)), client.submit(slow, 3)};
  REQUIRE(fs[0].result(kPatience) == 3);
  REQUIRE(fs[2].result(kPatience) == 9);
  REQUIRE(gate.started->wait_for());
  std::vector<Futures> batches;
  for (auto& batch : cask::as_completed(fs).batches()) {
    batches.push_back(batch);
    if (batches.size() == 1) gate.open->set();  // the second batch only once this one is in
  }
  REQUIRE(batches.size() == 2);
  REQUIRE(batches[0].size() == 2);
  CHECK(count_of(batches[0], fs[0]) == 1);
  CHECK(count_of(batches[0], fs[2]) == 1);
  CHECK(batches[1] == Futures{fs[1]});
}

TEST_CASE("AsCompleted.batches_of_many_finished_futures" * doctest::timeout(15)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  std::vector<int> xs(50);
  for (int i = 0; i < 50; ++i) xs[i] = i;
  auto fs = client.map(slow, xs);
  auto [done, not_done] = cask::wait(fs);
  REQUIRE(not_done.empty());
  std::size_t batches = 0, total = 0;
  for (auto& batch : cask::as_completed(fs).batches()) {
    ++batches;
    total += batch.size();
  }
  CHECK(batches == 1);  // all were done: one batch
  CHECK(total == 50);
}

TEST_CASE("AsCompleted.count_and_is_empty" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 3}};
  Gate gates[3];
  Futures fs;
  for (int i = 0; i < 3; ++i) fs.push_back(client.submit(gates[i].task(i)));
  auto ac = cask::as_completed(fs);
  CHECK(ac.count() == 3);
  CHECK_FALSE(ac.is_empty());
  gates[1].open->set();
  auto f = ac.next();
  REQUIRE(f.has_value());
  CHECK(*f == fs[1]);
  CHECK(ac.count() == 2);
  ac.add(client.submit(slow, 1));
  CHECK(ac.count() == 3);
  gates[0].open->set();
  gates[2].open->set();
  int taken = 0;
  while (ac.next()) ++taken;
  CHECK(taken == 3);
  CHECK(ac.count() == 0);
  CHECK(ac.is_empty());
  cask::AsCompleted<int> none;
  CHECK(none.is_empty());
  CHECK(none.count() == 0);
}

TEST_CASE("AsCompleted.timeout_on_whole_iteration" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 2}};
  Gate gate;
  Futures fs{client.submit(slow, 1), client.submit(gate.task(2))};
  REQUIRE(gate.started->wait_for());
  REQUIRE(fs[0].result(kPatience) == 3);
  // Bounded even if the timeout never fires: then the gate opens after kPatience and the
  // iteration ends without a TimeoutError, which fails below.
  auto test_done = make_event();
  std::thread safety_net([test_done, open = gate.open] {
    if (!test_done->wait_for(kPatience)) open->set();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto ac = cask::as_completed(fs, 200ms);
  std::vector<int> seen;
  try {
    for (auto& f : ac) seen.push_back(f.result());
    FAIL_CHECK("the iteration ended although a future was outstanding");
  } catch (const cask::TimeoutError&) {
    CHECK(since(t0) >= 200ms);
  }
  test_done->set();
  safety_net.join();
  CHECK(seen == std::vector{3});  // the done one came out before the timeout
  CHECK(ac.count() == 1);         // one outstanding
  // The future keeps running and finishes.
  CHECK(fs[1].status() == cask::Status::pending);
  gate.open->set();
  CHECK(fs[1].result(kPatience) == 2);
  CHECK_FALSE(gate.stop_seen->load());
}

TEST_CASE("AsCompleted.timeout_is_for_the_whole_iteration_not_each_step" * doctest::timeout(15)) {
  // Completions 150 ms, 150 ms and 300 ms apart under a 400 ms limit: every single step is
  // within the limit, the whole iteration is not. (The sleeps only space the releases; the
  // fourth future cannot finish before 600 ms, whatever the timing.)
  cask::Client client{{.workers = 1, .threads_per_worker = 4}};
  Gate gates[4];
  Futures fs;
  for (int i = 0; i < 4; ++i) fs.push_back(client.submit(gates[i].task(i)));
  for (auto& g : gates) REQUIRE(g.started->wait_for());
  const auto t0 = std::chrono::steady_clock::now();
  auto ac = cask::as_completed(fs, 400ms);
  gates[0].open->set();
  std::thread releaser;
  int seen = 0;
  bool timed_out = false;
  try {
    for (auto& f : ac) {
      (void)f;
      ++seen;
      if (seen < 3) {
        std::this_thread::sleep_for(150ms);
        gates[seen].open->set();
      } else if (seen == 3) {
        releaser = std::thread([open = gates[3].open] {
          std::this_thread::sleep_for(300ms);
          open->set();
        });
      }
    }
  } catch (const cask::TimeoutError&) {
    timed_out = true;
    CHECK(since(t0) >= 400ms);
  }
  if (releaser.joinable()) releaser.join();
  CHECK(timed_out);
  CHECK(seen < 4);
  CHECK(fs[3].result(kPatience) == 3);  // still ran to completion
}

TEST_CASE("AsCompleted.timeout_not_hit_when_all_complete_in_time" * doctest::timeout(15)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto fs = client.map(slow, std::vector{1, 2, 3});
  std::multiset<int> seen;
  for (auto& f : cask::as_completed(fs, 30s)) seen.insert(f.result());
  CHECK(seen == std::multiset{3, 6, 9});
}

TEST_CASE("AsCompleted.empty_list_yields_nothing" * doctest::timeout(10)) {
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

TEST_CASE("AsCompleted.error_and_cancel_mid_iteration" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 3}};
  Gate ok, bad, victim;
  Futures fs{client.submit(ok.task(1)), client.submit(bad.failing_task(2)), client.submit(victim.task(3))};
  for (auto* g : {&ok, &bad, &victim}) REQUIRE(g->started->wait_for());
  ok.open->set();
  std::vector<cask::Status> statuses;
  Futures order;
  for (auto& f : cask::as_completed(fs)) {
    statuses.push_back(f.status());
    order.push_back(f);
    if (order.size() == 1) {
      fs[2].cancel();      // cancelled now: it is next
      bad.open->set();     // errs afterwards
    }
  }
  CHECK(order == Futures{fs[0], fs[2], fs[1]});
  CHECK(statuses == std::vector{cask::Status::finished, cask::Status::cancelled, cask::Status::error});
  REQUIRE(victim.left->wait_for());  // the cancelled one was asked to stop and returned
  CHECK(victim.stop_seen->load());
}

TEST_CASE("AsCompleted.client_cancel_mid_iteration" * doctest::timeout(15)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  Gate gate;
  Futures fs{client.submit(slow, 1), client.submit(gate.task(2))};
  for (int i = 0; i < 5; ++i) fs.push_back(client.submit(cask::options{.pure = false}, slow, i));
  REQUIRE(gate.started->wait_for());
  std::size_t yielded = 0, cancelled = 0;
  std::string seen;
  for (auto& f : cask::as_completed(fs)) {
    ++yielded;
    seen += std::string(cask::to_string(f.status())) + " " + f.key() + "; ";
    if (f.status() == cask::Status::cancelled) ++cancelled;
    if (yielded == 1) client.cancel(Futures(fs.begin() + 1, fs.end()));
  }
  INFO("yielded: ", seen);
  CHECK(yielded == fs.size());
  CHECK(cancelled == fs.size() - 1);
}

TEST_CASE("AsCompleted.futures_of_destroyed_client" * doctest::timeout(15)) {
  Futures fs;
  std::optional<cask::AsCompleted<int>> made_before;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    Gate gate;
    fs.push_back(client.submit(slow, 2));
    REQUIRE(fs[0].result(kPatience) == 6);
    fs.push_back(client.submit(gate.task(1)));
    fs.push_back(client.submit(cask::options{.pure = false}, slow, 3));
    REQUIRE(gate.started->wait_for());
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

TEST_CASE("AsCompleted.iterating_while_client_is_destroyed" * doctest::timeout(15)) {
  // A thread iterating (blocked on a gated future) while the client goes away: the rest is
  // yielded as cancelled and the iteration ends.
  Futures fs;
  std::optional<InBackground<std::vector<cask::Status>>> iterating;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    Gate gate;
    fs.push_back(client.submit(gate.task(1)));
    fs.push_back(client.submit(cask::options{.pure = false}, slow, 1));
    REQUIRE(gate.started->wait_for());
    iterating.emplace([fs] {
      std::vector<cask::Status> out;
      for (auto& f : cask::as_completed(fs)) out.push_back(f.status());
      return out;
    });
  }
  auto statuses = iterating->get();
  CHECK(statuses == std::vector{cask::Status::cancelled, cask::Status::cancelled});
}
