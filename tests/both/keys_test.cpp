// Both modes: pure keys (same call, one computation), pure=false, explicit keys, map keys,
// futures as part of a key, and a key computed again once released.

#include "harness.hpp"

using namespace cask_both;
using namespace cluster_tasks;
using cask_cluster_test::count_lines;
using cask_cluster_test::eventually;

BOTH_CASE("Keys.same_function_same_args_share_key_and_computation", 30) {
  const std::string log = env.file("runs");
  auto a = env.client.submit(count_run, log, 1);
  auto b = env.client.submit(count_run, log, 1);
  CHECK(a.key() == b.key());
  CHECK(a.result(kPatience) == 1);
  CHECK(b.result(kPatience) == 1);
  auto c = env.client.submit(count_run, log, 1);  // after it finished: still the same
  CHECK(c.key() == a.key());
  CHECK(c.result(kPatience) == 1);
  CHECK(count_lines(log, "run") == 1);
  CHECK(eventually([&] { return env.client.stats().tasks() == 1; }));
}

BOTH_CASE("Keys.different_args_give_different_keys", 30) {
  const std::string log = env.file("runs");
  auto a = env.client.submit(count_run, log, 1);
  auto b = env.client.submit(count_run, log, 2);
  CHECK(a.key() != b.key());
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
  CHECK(count_lines(log, "run") == 2);
  // Argument order, another function, strings, vectors (equal contents share a key).
  CHECK(env.client.submit(add, 1, 2).key() != env.client.submit(add, 2, 1).key());
  CHECK(env.client.submit(add, 1, 2).key() != env.client.submit(inc, 1).key());
  CHECK(env.client.submit(greet, std::string("a")).key() != env.client.submit(greet, std::string("b")).key());
  auto v1 = env.client.submit(sum, std::vector{1, 2});
  auto v2 = env.client.submit(sum, std::vector{1, 2});
  auto v3 = env.client.submit(sum, std::vector{2, 1});
  CHECK(v1.key() == v2.key());
  CHECK(v1.key() != v3.key());
  CHECK(v3.result(kPatience) == 3);
}

BOTH_CASE("Keys.pure_false_gives_fresh_key_and_second_computation", 30) {
  const std::string log = env.file("runs");
  auto pure = env.client.submit(count_run, log, 1);
  auto a = env.client.submit(cask::options{.pure = false}, count_run, log, 1);
  auto b = env.client.submit(cask::options{.pure = false}, count_run, log, 1);
  CHECK(a.key() != b.key());
  CHECK(a.key() != pure.key());
  CHECK(a.key().rfind("count_run-", 0) == 0);
  CHECK(pure.result(kPatience) + a.result(kPatience) + b.result(kPatience) == 3);
  CHECK(count_lines(log, "run") == 3);
}

BOTH_CASE("Keys.explicit_key_is_used_and_shared", 30) {
  const std::string log = env.file("runs");
  auto a = env.client.submit(cask::options{.key = "my-key"}, count_run, log, 5);
  auto b = env.client.submit(cask::options{.key = "my-key"}, count_run, log, 5);
  CHECK(a.key() == "my-key");
  CHECK(b.key() == "my-key");
  CHECK(a.result(kPatience) == 5);
  CHECK(b.result(kPatience) == 5);
  CHECK(count_lines(log, "run") == 1);
}

BOTH_CASE("Keys.map_with_key_numbers_elements", 30) {
  auto fs = env.client.map(cask::options{.key = "batch"}, inc, std::vector{1, 2, 3});
  REQUIRE(fs.size() == 3);
  CHECK(fs[0].key() == "batch-0");
  CHECK(fs[1].key() == "batch-1");
  CHECK(fs[2].key() == "batch-2");
  CHECK(env.client.gather(fs) == std::vector{2, 3, 4});
}

BOTH_CASE("Keys.map_shares_keys_with_submit", 30) {
  const std::string log = env.file("runs");
  auto one = env.client.submit(count_run, log, 2);
  auto fs = env.client.map(count_run, std::vector{log, log, log}, std::vector{2, 2, 3});
  REQUIRE(fs.size() == 3);
  CHECK(fs[0].key() == one.key());
  CHECK(fs[1].key() == one.key());
  CHECK(fs[2].key() != one.key());
  CHECK(env.client.gather(fs) == std::vector{2, 2, 3});
  CHECK(count_lines(log, "run") == 2);
}

BOTH_CASE("Keys.future_arguments_are_part_of_the_key", 30) {
  auto x = env.client.submit(inc, 1);
  auto y = env.client.submit(inc, 2);
  CHECK(env.client.submit(inc, x).key() != env.client.submit(inc, y).key());
  CHECK(env.client.submit(inc, x).key() == env.client.submit(inc, x).key());
  CHECK(env.client.submit(add, x, 1).result(kPatience) == 3);
  CHECK(env.client.submit(add, y, 1).result(kPatience) == 4);
}

BOTH_CASE("Keys.resubmitted_after_release_computes_again", 30) {
  const std::string log = env.file("runs");
  std::string key;
  {
    auto a = env.client.submit(count_run, log, 1);
    key = a.key();
    CHECK(a.result(kPatience) == 1);
  }  // released with its last handle
  REQUIRE(eventually([&] { return env.client.stats().tasks() == 0; }));
  auto b = env.client.submit(count_run, log, 1);
  CHECK(b.key() == key);
  CHECK(b.result(kPatience) == 1);
  CHECK(count_lines(log, "run") == 2);
}
