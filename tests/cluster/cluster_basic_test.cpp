// Cluster mode, the basics: submit/result, map and zipped map + gather, futures (and a
// vector of futures) as arguments, errors of dependencies, values of several types
// crossing processes, a task's exception as RemoteError, SerializationError on one future
// only, NotRegisteredError at the call, stats, tasks running in the worker processes.
#include <algorithm>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "cluster_util.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;

// Registered in the test binary only (tasks.cpp does not have it): no worker can run it.
int only_in_test_binary(int x) { return x * 100; }
CASK_REMOTE(only_in_test_binary);

namespace {

std::string printed(const auto& f) {
  std::ostringstream os;
  os << f;
  return os.str();
}

}  // namespace

TEST_CASE("Cluster.submit_result" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Future<int> f = client.submit(inc, 41);
  CHECK(f.result(kPatience) == 42);
  CHECK(f.done());
  CHECK(f.status() == cask::Status::finished);
  CHECK(f.exception() == nullptr);
  CHECK(f.result() == 42);  // again: the value stays available
  CHECK(contains(printed(f), "status: finished"));
  CHECK(contains(f.key(), "inc"));
  CHECK(client.submit(add, 2, 3).result(kPatience) == 5);
}

TEST_CASE("Cluster.map_and_gather" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  std::vector<int> xs(50);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<cask::Future<int>> fs = client.map(inc, xs);
  REQUIRE(fs.size() == 50);
  std::vector<int> expected;
  for (int x : xs) expected.push_back(x + 1);
  CHECK(client.gather(fs) == expected);

  // Several ranges, zipped.
  std::vector<cask::Future<int>> zs = client.map(add, std::vector{1, 2, 3}, std::vector{10, 20, 30});
  CHECK(client.gather(zs) == std::vector{11, 22, 33});
  // Ranges of different lengths: an error at the call.
  CHECK_THROWS_AS((void)client.map(add, std::vector{1, 2}, std::vector{1}), cask::Error);
  // An empty range: no futures.
  CHECK(client.map(inc, std::vector<int>{}).empty());
}

TEST_CASE("Cluster.gather_rethrows_first_error" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  std::vector<cask::Future<int>> fs{client.submit(inc, 1), client.submit(fail_with, std::string("in gather")),
                                    client.submit(inc, 3)};
  CHECK_THROWS_WITH_AS((void)client.gather(fs), "std::runtime_error: in gather", cask::RemoteError);
  CHECK(fs[0].result(kPatience) == 2);
  CHECK(fs[2].result(kPatience) == 4);
}

TEST_CASE("Cluster.futures_as_arguments" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Future<int> a = client.submit(inc, 1);  // 2
  cask::Future<int> b = client.submit(inc, 2);  // 3
  cask::Future<int> c = client.submit(add, a, b);
  CHECK(c.result(kPatience) == 5);
  // A future mixed with a plain value, and a dependency already finished.
  cask::Future<int> d = client.submit(add, c, 10);
  CHECK(d.result(kPatience) == 15);
  // A chain, each step on whichever worker.
  cask::Future<int> x = client.submit(inc, 0);
  for (int i = 0; i < 10; ++i) x = client.submit(inc, x);
  CHECK(x.result(kPatience) == 11);
  // The same future twice.
  CHECK(client.submit(add, a, a).result(kPatience) == 4);
}

TEST_CASE("Cluster.vector_of_futures_argument" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  std::vector<cask::Future<int>> fs = client.map(inc, std::vector{1, 2, 3, 4});
  cask::Future<int> total = client.submit(sum, fs);  // arrives as std::vector<int>
  CHECK(total.result(kPatience) == 2 + 3 + 4 + 5);
  // An empty vector of futures is an empty vector.
  CHECK(client.submit(sum, std::vector<cask::Future<int>>{}).result(kPatience) == 0);
  // Futures of a vector feeding a further dependent.
  CHECK(client.submit(add, total, client.submit(sum, fs)).result(kPatience) == 28);
}

TEST_CASE("Cluster.error_in_dependency_fails_dependent" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Future<int> bad = client.submit(fail_with, std::string("boom!"));
  cask::Future<int> dependent = client.submit(inc, bad);
  cask::Future<int> further = client.submit(add, dependent, 1);
  for (const auto* f : {&bad, &dependent, &further}) {
    try {
      (void)f->result(kPatience);
      FAIL("result() did not throw");
    } catch (const cask::RemoteError& e) {
      CHECK(e.type_name() == "std::runtime_error");
      CHECK(std::string(e.what()) == "std::runtime_error: boom!");
    }
    CHECK(f->status() == cask::Status::error);
  }
  // Through a vector of futures: one bad element fails the whole call.
  std::vector<cask::Future<int>> fs{client.submit(inc, 1), bad};
  CHECK_THROWS_WITH_AS((void)client.submit(sum, fs).result(kPatience), "std::runtime_error: boom!",
                       cask::RemoteError);
  // The good dependency is unaffected, and the cluster keeps running.
  CHECK(fs[0].result(kPatience) == 2);
  CHECK(client.submit(inc, fs[0]).result(kPatience) == 3);
}

TEST_CASE("Cluster.values_of_several_types_round_trip" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  ScratchDir dir;
  CHECK(client.submit(greet, std::string("cask")).result(kPatience) == "hello, cask");
  CHECK(client.submit(greet, std::string()).result(kPatience) == "hello, ");
  CHECK(client.submit(greet, std::string("ünïcødé \"quoted\"\n")).result(kPatience) ==
        "hello, ünïcødé \"quoted\"\n");
  const std::string big(100000, 'x');
  CHECK(client.submit(greet, big).result(kPatience) == "hello, " + big);

  CHECK(client.submit(iota_vec, 5).result(kPatience) == std::vector{0, 1, 2, 3, 4});
  CHECK(client.submit(iota_vec, 0).result(kPatience).empty());
  CHECK(client.submit(iota_vec, 100000).result(kPatience).size() == 100000);
  CHECK(client.submit(split_words, std::string(" a bb  ccc ")).result(kPatience) ==
        std::vector<std::string>{"a", "bb", "ccc"});

  const Point p{1, -2, "p"};
  CHECK(client.submit(shift, p, 3).result(kPatience) == Point{4, -2, "p+"});
  // A struct passed from worker to worker as a dependency.
  cask::Future<Point> once = client.submit(shift, p, 1);
  CHECK(client.submit(shift, once, 1).result(kPatience) == Point{3, -2, "p++"});
  // A vector produced by one task and summed by another.
  CHECK(client.submit(sum, client.submit(iota_vec, 10)).result(kPatience) == 45);

  // A void result.
  const std::string marker = dir.file("touched");
  cask::Future<void> v = client.submit(touch, marker);
  v.result(kPatience);  // returns (no value), does not throw
  CHECK(v.status() == cask::Status::finished);
  CHECK(std::filesystem::exists(marker));
}

TEST_CASE("Cluster.bytes_cross_unchanged_pushed_and_fetched" * doctest::timeout(60)) {
  // Byte vectors and strings take cask's own MessagePack paths; small values are pushed to
  // the client, large ones (> 64 KiB) fetched from the worker, dependencies fetched or
  // read where they are.
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  auto ramp = [](int n, int first) {
    std::vector<unsigned char> out(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = static_cast<unsigned char>(first + i);
    return out;
  };
  for (int n : {0, 1, 300, 70000, 3000000}) {
    CAPTURE(n);
    cask::Future<std::vector<unsigned char>> bytes = client.submit(byte_ramp, n, 100);
    CHECK(bytes.result(kPatience) == ramp(n, 100));
    const auto expected = ramp(n, 100);
    CHECK(client.submit(reversed_text, bytes).result(kPatience) ==
          std::string(expected.rbegin(), expected.rend()));
    // The client's bytes as an argument, the other way.
    CHECK(client.submit(reversed_text, ramp(n, 7)).result(kPatience).size() == std::size_t(n));
  }
}

TEST_CASE("Cluster.task_exception_arrives_as_remote_error" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  cask::Future<int> f = client.submit(fail_with, std::string("boom!"));
  try {
    (void)f.result(kPatience);
    FAIL("result() did not throw");
  } catch (const cask::RemoteError& e) {
    CHECK(e.type_name() == "std::runtime_error");
    CHECK(std::string(e.what()) == "std::runtime_error: boom!");
  }
  CHECK(f.status() == cask::Status::error);
  CHECK(contains(printed(f), "status: error"));
  // exception() holds the same RemoteError, and result() throws it every time.
  REQUIRE(f.exception() != nullptr);
  CHECK_THROWS_AS(std::rethrow_exception(f.exception()), cask::RemoteError);
  CHECK_THROWS_AS((void)f.result(), cask::Error);

  // The tests' own exception type: its (demangled) name crosses.
  try {
    (void)client.submit(fail_custom, 7).result(kPatience);
    FAIL("result() did not throw");
  } catch (const cask::RemoteError& e) {
    CHECK(e.type_name() == "cluster_tasks::TaskFailure");
    CHECK(std::string(e.what()) == "cluster_tasks::TaskFailure: failure 7");
  }
  // Not a std::exception at all.
  try {
    (void)client.submit(fail_non_std, 1).result(kPatience);
    FAIL("result() did not throw");
  } catch (const cask::RemoteError& e) {
    CHECK(e.type_name() == "unknown exception");
  }
  // The workers survive their tasks' exceptions.
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
  CHECK(client.stats().workers == 2);
}

TEST_CASE("Cluster.serialization_error_fails_one_future_only" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  // An argument the worker cannot decode (Picky's from_json refuses -1).
  cask::Future<int> bad_arg = client.submit(picky_value, Picky{-1});
  const std::string why = error_of([&] { (void)bad_arg.result(kPatience); });
  CHECK_THROWS_AS((void)bad_arg.result(kPatience), cask::SerializationError);
  CHECK(contains(why, "cluster_tasks::Picky"));
  CHECK(contains(why, "Picky refuses negative value -1"));
  CHECK(bad_arg.status() == cask::Status::error);

  // A result the client cannot decode.
  cask::Future<Picky> bad_result = client.submit(make_picky, -5);
  const std::string why2 = error_of([&] { (void)bad_result.result(kPatience); });
  CHECK_THROWS_AS((void)bad_result.result(kPatience), cask::SerializationError);
  CHECK(contains(why2, "cluster_tasks::Picky"));

  // Siblings in the same map are unaffected.
  std::vector<cask::Future<int>> fs = client.map(picky_value, std::vector<Picky>{{1}, {-1}, {2}});
  CHECK(fs[0].result(kPatience) == 1);
  CHECK_THROWS_AS((void)fs[1].result(kPatience), cask::SerializationError);
  CHECK(fs[2].result(kPatience) == 2);

  // The next submissions work.
  CHECK(client.submit(picky_value, Picky{5}).result(kPatience) == 5);
  CHECK(client.submit(make_picky, 6).result(kPatience).value == 6);
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
}

TEST_CASE("Cluster.function_no_worker_has_throws_not_registered_at_call" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  std::string why;
  try {
    (void)client.submit(only_in_test_binary, 1);
    FAIL("submit did not throw");
  } catch (const cask::NotRegisteredError& e) {
    why = e.what();
  }
  CHECK(contains(why, "only_in_test_binary"));
  CHECK_THROWS_AS((void)client.map(only_in_test_binary, std::vector{1, 2}), cask::NotRegisteredError);
  // The client and the cluster keep working.
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
}

TEST_CASE("Cluster.lambda_throws_not_registered_at_call" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  CHECK_THROWS_AS((void)client.submit([](int x) { return x + 1; }, 1), cask::NotRegisteredError);
  const int offset = 5;
  const std::string why = error_of([&] { (void)client.submit([offset](int x) { return x + offset; }, 1); });
  CHECK(contains(why, "not a free function"));
  CHECK_THROWS_AS((void)client.map([](int x) { return x; }, std::vector{1}), cask::NotRegisteredError);
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
}

TEST_CASE("Cluster.stats_show_the_workers" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  const cask::ClusterStats s = client.stats();
  CHECK(s.workers == 2);
  CHECK(s.slots == 2);
  CHECK(s.slots_busy == 0);
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
  CHECK(client.stats().workers == 2);
}

TEST_CASE("Cluster.tasks_run_in_the_worker_processes" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  const std::vector<int> workers = cluster.worker_pids();
  REQUIRE(workers.size() == 2);
  for (int i = 0; i < 6; ++i) {
    const int pid = client.submit(cask::options{.pure = false}, worker_pid).result(kPatience);
    CHECK(pid != static_cast<int>(getpid()));
    CHECK(std::find(workers.begin(), workers.end(), pid) != workers.end());
  }
}

TEST_CASE("Cluster.actor_type_without_CASK_ACTOR_fails_with_cask_error" * doctest::timeout(60)) {
  // A worker can host only actor types registered with CASK_ACTOR: any other fails at
  // the call, clearly, and the client serves on.
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  struct Counter {
    int n = 0;
  };
  CHECK_THROWS_AS((void)client.submit_actor<Counter>(), cask::Error);
  // (Coordination objects work in cluster mode: cluster_coordination_test.cpp.)
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
}
