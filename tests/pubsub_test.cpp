// cask::Pub<T> / cask::Sub<T>: named publish/subscribe. A put reaches every subscriber
// that exists at that moment, in order; a later subscriber does not get earlier messages;
// timed get; range-for; type checks; subscribers inside tasks (and handing the slot back);
// several publishers keep their own order; retirement.
#include <algorithm>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("PubSub.put_reaches_every_subscriber_in_order" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Sub<int> first{"topic", client};
  cask::Sub<int> second{"topic", client};
  cask::Pub<int> pub{"topic", client};
  CHECK(pub.name() == "topic");
  CHECK(first.name() == "topic");
  for (int i = 1; i <= 5; ++i) pub.put(i);
  for (int i = 1; i <= 5; ++i) CHECK(first.get(kPatience) == i);
  for (int i = 1; i <= 5; ++i) CHECK(second.get(kPatience) == i);
  // Each got its own copy: nothing more for either.
  CHECK_THROWS_AS((void)first.get(20ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)second.get(20ms), cask::TimeoutError);
  // A second publisher handle of the name reaches them as well.
  cask::Pub<int> other{"topic"};
  other.put(6);
  CHECK(first.get(kPatience) == 6);
  CHECK(second.get(kPatience) == 6);
  cask::Sub<std::string> strings{"words", client};
  cask::Pub<std::string>{"words", client}.put("hello");
  CHECK(strings.get(kPatience) == "hello");
}

TEST_CASE("PubSub.subscriber_created_after_a_put_does_not_get_it" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Pub<int> pub{"late", client};
  cask::Sub<int> early{"late", client};
  pub.put(1);
  cask::Sub<int> late{"late", client};
  pub.put(2);
  CHECK(early.get(kPatience) == 1);
  CHECK(early.get(kPatience) == 2);
  CHECK(late.get(kPatience) == 2);  // not 1
  CHECK_THROWS_AS((void)late.get(20ms), cask::TimeoutError);
}

TEST_CASE("PubSub.put_without_subscribers_is_dropped" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Pub<int> pub{"nobody", client};
  pub.put(1);  // never blocks, goes nowhere
  pub.put(2);
  cask::Sub<int> sub{"nobody", client};
  CHECK_THROWS_AS((void)sub.get(50ms), cask::TimeoutError);
  pub.put(3);
  CHECK(sub.get(kPatience) == 3);
}

TEST_CASE("PubSub.get_timeout_throws_and_takes_nothing" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Sub<int> sub{"quiet", client};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)sub.get(50ms), cask::TimeoutError);
  CHECK(since(t0) >= 50ms);
  for (int i = 0; i < 10; ++i) CHECK_THROWS_AS((void)sub.get(1ms), cask::TimeoutError);
  cask::Pub<int> pub{"quiet", client};
  pub.put(1);
  pub.put(2);
  CHECK(sub.get(kPatience) == 1);  // no timed-out get swallowed it
  CHECK(sub.get(kPatience) == 2);
  // A get that blocks until a message comes.
  InBackground<int> waiting([sub] { return sub.get(); });
  CHECK_FALSE(waiting.wait_for(100ms));
  pub.put(3);
  CHECK(waiting.get() == 3);
}

TEST_CASE("PubSub.range_for_yields_messages_in_order" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Sub<int> sub{"stream", client};
  cask::Pub<int> pub{"stream", client};
  for (int i = 0; i < 10; ++i) pub.put(i * i);
  std::vector<int> got;
  for (const int& m : sub) {
    got.push_back(m);
    if (got.size() == 6) break;
  }
  CHECK(got == std::vector<int>{0, 1, 4, 9, 16, 25});
  // The rest is still there for the next loop / get.
  std::vector<int> rest;
  auto it = sub.begin();  // takes the first message
  rest.push_back(*it);
  while (rest.size() < 4) {
    ++it;  // each increment takes the next one
    rest.push_back(*it);
  }
  CHECK(rest == std::vector<int>{36, 49, 64, 81});
  static_assert(std::input_iterator<cask::Sub<int>::iterator>);
}

TEST_CASE("PubSub.wrong_value_type_throws_and_first_handle_keeps_working" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Sub<int> sub{"typed-topic", client};
  CHECK_THROWS_WITH_AS((cask::Pub<std::string>{"typed-topic", client}), doctest::Contains("typed-topic"),
                       cask::Error);
  CHECK_THROWS_AS((cask::Sub<double>{"typed-topic", client}), cask::Error);
  cask::Pub<int> pub{"typed-topic", client};
  pub.put(4);
  CHECK(sub.get(kPatience) == 4);
  // And the other way round: a publisher first.
  cask::Pub<std::string> words{"typed-words", client};
  CHECK_THROWS_AS((cask::Sub<int>{"typed-words", client}), cask::Error);
  cask::Sub<std::string> reader{"typed-words", client};
  words.put("ok");
  CHECK(reader.get(kPatience) == "ok");
}

TEST_CASE("PubSub.subscriber_inside_task_hands_the_slot_back" * doctest::timeout(30)) {
  // One slot: the subscribing task blocks in get; the publishing task runs meanwhile.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto subscribed = make_event();
  auto reader = client.submit(cask::options{.pure = false}, [subscribed] {
    cask::Sub<int> sub{"in-task"};
    subscribed->set();
    int total = 0;
    for (const int& m : sub) {
      if (m < 0) break;
      total += m;
    }
    return total;
  });
  REQUIRE(subscribed->wait_for());
  auto writer = client.submit(cask::options{.pure = false}, [] {
    cask::Client c = cask::get_client();
    cask::Pub<int> pub{"in-task", c};
    for (int i = 1; i <= 10; ++i) pub.put(i);
    pub.put(-1);
    return 0;
  });
  CHECK(writer.result(kPatience) == 0);
  CHECK(reader.result(kPatience) == 55);
}

TEST_CASE("PubSub.every_subscriber_in_several_tasks_gets_every_message" * doctest::timeout(30)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  constexpr int kSubs = 4, kMessages = 50;
  auto subscribed = std::make_shared<std::atomic<int>>(0);
  auto fs = client.map(cask::options{.pure = false},
                       [subscribed](int) {
                         cask::Sub<int> sub{"fanout"};
                         subscribed->fetch_add(1);
                         long total = 0;
                         int expected = 0;
                         for (int i = 0; i < kMessages; ++i) {
                           const int m = sub.get(std::chrono::seconds(20));
                           if (m != expected++) return -1L;  // out of order
                           total += m;
                         }
                         return total;
                       },
                       std::views::iota(0, kSubs));
  REQUIRE(eventually([&] { return subscribed->load() == kSubs; }));
  cask::Pub<int> pub{"fanout", client};
  for (int i = 0; i < kMessages; ++i) pub.put(i);
  for (auto& f : fs) CHECK(f.result(std::chrono::seconds(25)) == kMessages * (kMessages - 1) / 2);
}

TEST_CASE("PubSub.each_publisher_keeps_its_order" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Sub<int> sub{"two-pubs", client};
  constexpr int kEach = 500;
  auto publish = [&client](int base) {
    cask::Pub<int> pub{"two-pubs", client};
    for (int i = 0; i < kEach; ++i) pub.put(base + i);
  };
  std::thread a(publish, 0);
  std::thread b(publish, 100000);
  a.join();
  b.join();
  int next_a = 0, next_b = 100000;
  bool in_order = true;
  for (int n = 0; n < 2 * kEach; ++n) {
    const int m = sub.get(kPatience);
    if (m < 100000) {
      if (m != next_a++) in_order = false;
    } else if (m != next_b++) {
      in_order = false;
    }
  }
  CHECK(in_order);
  CHECK(next_a == kEach);
  CHECK(next_b == 100000 + kEach);
  CHECK_THROWS_AS((void)sub.get(20ms), cask::TimeoutError);
}

TEST_CASE("PubSub.retired_when_no_publisher_or_subscriber_is_left" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  REQUIRE(objects(client) == 0);
  {
    cask::Pub<int> pub{"gone", client};
    cask::Sub<int> sub{"gone", client};
    CHECK(eventually([&] { return objects(client) == 1; }));  // one topic
    pub.put(1);
    CHECK(sub.get(kPatience) == 1);
  }
  CHECK(eventually([&] { return objects(client) == 0; }));
  // A subscriber that is gone no longer receives: a new one only sees new messages.
  {
    cask::Sub<int> old{"gone", client};
  }
  cask::Pub<int> pub{"gone", client};
  pub.put(2);
  cask::Sub<int> fresh{"gone", client};
  pub.put(3);
  CHECK(fresh.get(kPatience) == 3);
}
