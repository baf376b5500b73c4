// Both modes, cask::Pub<T> / cask::Sub<T> beyond objects_test.cpp: a put reaches every
// subscriber that exists at that moment, in order; a later subscriber does not get earlier
// messages; puts without subscribers are dropped; timed gets take nothing; range-for; type
// checks; a subscribing task hands its slot back; several subscribing tasks each get every
// message in order; several client publishers keep their own order; retirement.
#include <chrono>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "coord_more_tasks.hpp"
#include "coord_util.hpp"
#include "harness.hpp"

using namespace cask_both;
using namespace coord_more_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

BOTH_CASE("PubSub.put_reaches_every_subscriber_in_order", 30) {
  const std::string topic = named(env, "both.p.topic");
  cask::Sub<int> first{topic, env.client};
  cask::Sub<int> second{topic, env.client};
  cask::Pub<int> pub{topic, env.client};
  CHECK(pub.name() == topic);
  CHECK(first.name() == topic);
  for (int i = 1; i <= 5; ++i) pub.put(i);
  for (int i = 1; i <= 5; ++i) CHECK(first.get(kPatience) == i);
  for (int i = 1; i <= 5; ++i) CHECK(second.get(kPatience) == i);
  // Each got its own copy: nothing more for either.
  CHECK_THROWS_AS((void)first.get(20ms), cask::TimeoutError);
  CHECK_THROWS_AS((void)second.get(20ms), cask::TimeoutError);
  // A second publisher handle of the name (of the current client: the mode's) reaches them.
  cask::Pub<int> other{topic};
  other.put(6);
  CHECK(first.get(kPatience) == 6);
  CHECK(second.get(kPatience) == 6);
  const std::string words = named(env, "both.p.words");
  cask::Sub<std::string> strings{words, env.client};
  cask::Pub<std::string>{words, env.client}.put("hello");
  CHECK(strings.get(kPatience) == "hello");
}

BOTH_CASE("PubSub.subscriber_created_after_a_put_does_not_get_it", 30) {
  const std::string topic = named(env, "both.p.late");
  cask::Pub<int> pub{topic, env.client};
  cask::Sub<int> early{topic, env.client};
  pub.put(1);
  cask::Sub<int> late{topic, env.client};
  pub.put(2);
  CHECK(early.get(kPatience) == 1);
  CHECK(early.get(kPatience) == 2);
  CHECK(late.get(kPatience) == 2);  // not 1
  CHECK_THROWS_AS((void)late.get(20ms), cask::TimeoutError);
}

BOTH_CASE("PubSub.put_without_subscribers_is_dropped", 30) {
  const std::string topic = named(env, "both.p.nobody");
  cask::Pub<int> pub{topic, env.client};
  pub.put(1);  // never blocks, goes nowhere
  pub.put(2);
  cask::Sub<int> sub{topic, env.client};
  CHECK_THROWS_AS((void)sub.get(50ms), cask::TimeoutError);
  pub.put(3);
  CHECK(sub.get(kPatience) == 3);
}

BOTH_CASE("PubSub.get_timeout_throws_and_takes_nothing", 30) {
  const std::string topic = named(env, "both.p.quiet");
  cask::Sub<int> sub{topic, env.client};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((void)sub.get(50ms), cask::TimeoutError);
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  for (int i = 0; i < 10; ++i) CHECK_THROWS_AS((void)sub.get(1ms), cask::TimeoutError);
  cask::Pub<int> pub{topic, env.client};
  pub.put(1);
  pub.put(2);
  CHECK(sub.get(kPatience) == 1);  // no timed-out get swallowed it
  CHECK(sub.get(kPatience) == 2);
  // A get that blocks until a message comes.
  auto waiting = in_background([sub] { return sub.get(); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
  pub.put(3);
  REQUIRE(waiting.wait_for(kPatience) == std::future_status::ready);
  CHECK(waiting.get() == 3);
}

BOTH_CASE("PubSub.range_for_yields_messages_in_order", 30) {
  const std::string topic = named(env, "both.p.stream");
  cask::Sub<int> sub{topic, env.client};
  cask::Pub<int> pub{topic, env.client};
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

BOTH_CASE("PubSub.wrong_value_type_throws_and_first_handle_keeps_working", 30) {
  const std::string topic = named(env, "both.p.typed");
  cask::Sub<int> sub{topic, env.client};
  CHECK_THROWS_WITH_AS((cask::Pub<std::string>{topic, env.client}), doctest::Contains(topic.c_str()), cask::Error);
  CHECK_THROWS_AS((cask::Sub<double>{topic, env.client}), cask::Error);
  cask::Pub<int> pub{topic, env.client};
  pub.put(4);
  CHECK(sub.get(kPatience) == 4);
  // And the other way round: a publisher first.
  const std::string words = named(env, "both.p.typed-words");
  cask::Pub<std::string> writer{words, env.client};
  CHECK_THROWS_AS((cask::Sub<int>{words, env.client}), cask::Error);
  cask::Sub<std::string> reader{words, env.client};
  writer.put("ok");
  CHECK(reader.get(kPatience) == "ok");
}

BOTH_CASE("PubSub.subscriber_inside_task_hands_the_slot_back", 30) {
  // Both slots (2 workers x 1) are taken by subscribing tasks blocked in get; the
  // publishing task runs meanwhile.
  const std::string topic = named(env, "both.p.in-task");
  auto a = env.client.submit(cask::options{.pure = false}, subscribe_sum_until_negative, topic, env.file("log-a"));
  auto b = env.client.submit(cask::options{.pure = false}, subscribe_sum_until_negative, topic, env.file("log-b"));
  REQUIRE(logged(env.file("log-a"), "subscribed"));
  REQUIRE(logged(env.file("log-b"), "subscribed"));
  CHECK(env.client.submit(cask::options{.pure = false}, publish_ints_then_end, topic, 10).result(kPatience) == 10);
  CHECK(a.result(kPatience) == 55);
  CHECK(b.result(kPatience) == 55);
}

BOTH_CASE("PubSub.every_subscriber_in_several_tasks_gets_every_message", 30) {
  constexpr int kSubs = 4, kMessages = 50;
  const std::string topic = named(env, "both.p.fanout");
  const auto log = env.file("log");
  std::vector<cask::Future<int>> tasks;
  for (int i = 0; i < kSubs; ++i)
    tasks.push_back(env.client.submit(cask::options{.pure = false}, subscribe_in_order, topic, log, kMessages));
  REQUIRE(eventually([&] { return count_lines(log, "subscribed") == kSubs; }));
  cask::Pub<int> pub{topic, env.client};
  for (int i = 0; i < kMessages; ++i) pub.put(i);
  for (auto& f : tasks) CHECK(f.result(std::chrono::seconds(25)) == kMessages * (kMessages - 1) / 2);
}

BOTH_CASE("PubSub.each_client_publisher_keeps_its_order", 30) {
  const std::string topic = named(env, "both.p.two-pubs");
  cask::Sub<int> sub{topic, env.client};
  constexpr int kEach = 500;
  auto publish = [&](int base) {
    cask::Pub<int> pub{topic, env.client};
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

BOTH_CASE("PubSub.retired_when_no_publisher_or_subscriber_is_left", 30) {
  // Counted from what the cluster already holds (a shared LocalCluster serves other cases).
  const std::string topic = named(env, "both.p.gone");
  const std::size_t before = objects(env.client);
  {
    cask::Pub<int> pub{topic, env.client};
    cask::Sub<int> sub{topic, env.client};
    CHECK(eventually([&] { return objects(env.client) == before + 1; }));  // one topic
    pub.put(1);
    CHECK(sub.get(kPatience) == 1);
  }
  CHECK(eventually([&] { return objects(env.client) == before; }));
  // A subscriber that is gone no longer receives: a new one only sees new messages.
  {
    cask::Sub<int> old{topic, env.client};
  }
  cask::Pub<int> pub{topic, env.client};
  pub.put(2);
  cask::Sub<int> fresh{topic, env.client};
  pub.put(3);
  CHECK(fresh.get(kPatience) == 3);
}
