// Task keys: pure keys deduplicate, pure=false and stateful callables get fresh keys,
// explicit keys are used as given.
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace cask_test;

namespace {
struct Unhashable {
  int v;
};
int unwrap(Unhashable u) { return u.v; }

std::atomic<int> g_lambda_runs{0};
}  // namespace

TEST_CASE("Keys.same_function_same_args_share_key_and_computation" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  g_counted_square_runs = 0;
  auto f1 = client.submit(counted_square, 7);
  auto f2 = client.submit(counted_square, 7);
  CHECK(f1.key() == f2.key());
  CHECK(f1.result() == 49);
  CHECK(f2.result() == 49);
  auto f3 = client.submit(counted_square, 7);  // after it finished: still the same
  CHECK(f3.key() == f1.key());
  CHECK(f3.result() == 49);
  CHECK(g_counted_square_runs.load() == 1);
  CHECK(eventually([&] { return client.stats().tasks() == 1; }));
}

TEST_CASE("Keys.different_args_give_different_keys" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto a = client.submit(add, 1, 2);
  auto b = client.submit(add, 2, 1);
  auto c = client.submit(slow, 1);
  CHECK(a.key() != b.key());
  CHECK(a.key() != c.key());
  CHECK(a.result() == 3);
  CHECK(b.result() == 3);
  auto s1 = client.submit(greet, std::string("a"));
  auto s2 = client.submit(greet, std::string("b"));
  CHECK(s1.key() != s2.key());
  auto v1 = client.submit(sum, std::vector{1, 2});
  auto v2 = client.submit(sum, std::vector{1, 2});
  auto v3 = client.submit(sum, std::vector{2, 1});
  CHECK(v1.key() == v2.key());
  CHECK(v1.key() != v3.key());
}

TEST_CASE("Keys.pure_false_gives_fresh_key_and_second_computation" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  g_counted_square_runs = 0;
  auto f1 = client.submit(counted_square, 3);
  auto f2 = client.submit(cask::options{.pure = false}, counted_square, 3);
  auto f3 = client.submit(cask::options{.pure = false}, counted_square, 3);
  CHECK(f1.key() != f2.key());
  CHECK(f2.key() != f3.key());
  CHECK(f2.key().rfind("counted_square-", 0) == 0);
  CHECK(f1.result() == 9);
  CHECK(f2.result() == 9);
  CHECK(f3.result() == 9);
  CHECK(g_counted_square_runs.load() == 3);
}

TEST_CASE("Keys.explicit_key_is_used_and_shared" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  g_counted_square_runs = 0;
  auto f = client.submit(cask::options{.key = "k"}, counted_square, 4);
  CHECK(f.key() == "k");
  auto g = client.submit(cask::options{.key = "k"}, counted_square, 4);
  CHECK(g.key() == "k");
  CHECK(f.result() == 16);
  CHECK(g.result() == 16);
  CHECK(g_counted_square_runs.load() == 1);
}

TEST_CASE("Keys.map_with_key_numbers_elements" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto fs = client.map(cask::options{.key = "k"}, slow, std::vector{1, 2, 3});
  REQUIRE(fs.size() == 3);
  CHECK(fs[0].key() == "k-0");
  CHECK(fs[1].key() == "k-1");
  CHECK(fs[2].key() == "k-2");
  CHECK(client.gather(fs) == std::vector{3, 6, 9});
}

TEST_CASE("Keys.map_shares_keys_with_submit" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  g_counted_square_runs = 0;
  auto one = client.submit(counted_square, 2);
  auto fs = client.map(counted_square, std::vector{2, 2, 3});
  REQUIRE(fs.size() == 3);
  CHECK(fs[0].key() == one.key());
  CHECK(fs[1].key() == one.key());
  CHECK(fs[2].key() != one.key());
  CHECK(client.gather(fs) == std::vector{4, 4, 9});
  CHECK(g_counted_square_runs.load() == 2);
}

TEST_CASE("Keys.stateful_lambdas_get_fresh_keys" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto body = [runs](int x) { runs->fetch_add(1); return x; };
  auto f1 = client.submit(body, 1);
  auto f2 = client.submit(body, 1);
  CHECK(f1.key() != f2.key());
  CHECK(f1.result() == 1);
  CHECK(f2.result() == 1);
  CHECK(runs->load() == 2);
}

TEST_CASE("Keys.captureless_lambda_is_pure" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  g_lambda_runs = 0;
  auto body = [](int x) { g_lambda_runs.fetch_add(1); return x + 1; };
  auto f1 = client.submit(body, 1);
  auto f2 = client.submit(body, 1);
  CHECK(f1.key() == f2.key());
  CHECK(f1.result() == 2);
  CHECK(f2.result() == 2);
  CHECK(g_lambda_runs.load() == 1);
}

TEST_CASE("Keys.unhashable_argument_gets_fresh_key" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  auto f1 = client.submit(unwrap, Unhashable{1});
  auto f2 = client.submit(unwrap, Unhashable{1});
  CHECK(f1.key() != f2.key());
  CHECK(f1.result() == 1);
  CHECK(f2.result() == 1);
}

TEST_CASE("Keys.future_arguments_are_part_of_the_key" * doctest::timeout(10)) {
  cask::Client client{{.workers = 2, .threads_per_worker = 1}};
  auto a = client.submit(slow, 1);
  auto b = client.submit(slow, 2);
  auto x1 = client.submit(add, a, 1);
  auto x2 = client.submit(add, a, 1);
  auto y = client.submit(add, b, 1);
  CHECK(x1.key() == x2.key());
  CHECK(x1.key() != y.key());
  CHECK(x1.result() == 4);
  CHECK(y.result() == 7);
}

TEST_CASE("Keys.resubmitted_after_release_computes_again" * doctest::timeout(10)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  g_counted_square_runs = 0;
  std::string key;
  {
    auto f = client.submit(counted_square, 9);
    key = f.key();
    CHECK(f.result() == 81);
  }
  CHECK(eventually([&] { return client.stats().tasks() == 0; }));
  auto g = client.submit(counted_square, 9);
  CHECK(g.key() == key);
  CHECK(g.result() == 81);
  CHECK(g_counted_square_runs.load() == 2);
}
