// Both modes: pure keys (same call, one computation), pure=false, explicit keys, map keys,
// futures as part of a key, and a key computed again once released.
#include "both_tasks.hpp"
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
  CHECK(count_lines(log, "run") == 1);
}

BOTH_CASE("Keys.different_args_give_different_keys", 30) {
  const std::string log = env.file("runs");
  auto a = env.client.submit(count_run, log, 1);
  auto b = env.client.submit(count_run, log, 2);
  CHECK(a.key() != b.key());
  CHECK(a.result(kPatience) + b.result(kPatience) == 3);
  CHECK(count_lines(log, "run") == 2);
}

BOTH_CASE("Keys.pure_false_gives_fresh_key_and_second_computation", 30) {
  const std::string log = env.file("runs");
  auto a = env.client.submit(cask::options{.pure = false}, count_run, log, 1);
  auto b = env.client.submit(cask::options{.pure = false}, count_run, log, 1);
  CHECK(a.key() != b.key());
  CHECK(a.result(kPatience) + b.result(kPatience) == 2);
  CHECK(count_lines(log, "run") == 2);
}

BOTH_CASE("Keys.explicit_key_is_used_and_shared", 30) {
  const std::string log = env.file("runs");
  auto a = env.client.submit(cask::options{.key = "my-key"}, count_run, log, 5);
  auto b = env.client.submit(cask::options{.key = "my-key"}, count_run, log, 5);
  CHECK(a.key() == "my-key");
  CHECK(b.key() == "my-key");
  CHECK(b.result(kPatience) == 5);
  CHECK(count_lines(log, "run") == 1);
}

BOTH_CASE("Keys.map_with_key_numbers_elements", 30) {
  auto fs = env.client.map(cask::options{.key = "batch"}, inc, std::vector{1, 2, 3});
  REQUIRE(fs.size() == 3);
  CHECK(fs[0].key() == "batch-0");
  CHECK(fs[2].key() == "batch-2");
  CHECK(env.client.gather(fs) == std::vector{2, 3, 4});
}

BOTH_CASE("Keys.map_shares_keys_with_submit", 30) {
  auto fs = env.client.map(inc, std::vector{10, 11});
  CHECK(fs[1].key() == env.client.submit(inc, 11).key());
}

BOTH_CASE("Keys.future_arguments_are_part_of_the_key", 30) {
  auto x = env.client.submit(inc, 1);
  auto y = env.client.submit(inc, 2);
  CHECK(env.client.submit(inc, x).key() != env.client.submit(inc, y).key());
  CHECK(env.client.submit(inc, x).key() == env.client.submit(inc, x).key());
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
