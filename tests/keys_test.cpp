// Task keys of embedded-only callables and arguments. Every other Keys case runs in both
// modes (tests/both/keys_test.cpp). Embedded-only:
// - Keys.stateful_lambdas_get_fresh_keys, Keys.captureless_lambda_is_pure: a cluster
//   rejects lambdas by design (Cluster.lambda_throws_not_registered_at_call tests that).
// - Keys.unhashable_argument_gets_fresh_key: an argument without serialization cannot
//   cross processes at all.
#include <atomic>
#include <memory>

#include "helpers.hpp"

using namespace cask_test;

namespace {
struct Unhashable {
  int v;
};
int unwrap(Unhashable u) { return u.v; }

std::atomic<int> g_lambda_runs{0};
}  // namespace

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
