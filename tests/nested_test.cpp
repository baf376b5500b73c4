// Nested submission, embedded only. Everything else about nested tasks (get_client, submit,
// map, wait, as_completed inside tasks, fib(20), 1,000 parents, secede/rejoin, cancelling
// parents, waiting on oneself) runs in both modes in tests/both/nested_test.cpp. Kept here
// because they cannot mean anything in cluster mode:
// - Nested.get_client_inside_task_is_the_tasks_cluster: compares the in-process Client state
//   two lambda tasks of two embedded clusters see (a worker process's client is its own).
// - Nested.get_client_without_any_client_throws: needs a process with no Client at all.
#include <cstdint>
#include <optional>

#include "helpers.hpp"

using namespace cask_test;

namespace {

std::uintptr_t id_of(const cask::Client& c) { return reinterpret_cast<std::uintptr_t>(c.state().get()); }

}  // namespace

TEST_CASE("Nested.get_client_inside_task_is_the_tasks_cluster" * doctest::timeout(10)) {
  cask::Client first{{.workers = 1, .threads_per_worker = 1}};
  cask::Client second{{.workers = 1, .threads_per_worker = 1}};  // the most recent one
  auto on_first = first.submit([] { return id_of(cask::get_client()); });
  auto on_second = second.submit([] { return id_of(cask::get_client()); });
  CHECK(on_first.result(kPatience) == id_of(first));
  CHECK(on_second.result(kPatience) == id_of(second));
}

TEST_CASE("Nested.get_client_without_any_client_throws" * doctest::timeout(10)) {
  CHECK_THROWS_AS((void)cask::get_client(), cask::Error);
  std::optional<cask::Future<int>> survivor;
  {
    cask::Client client{{.workers = 1, .threads_per_worker = 1}};
    survivor = client.submit(slow, 1);
    REQUIRE(survivor->result() == 3);
  }
  // The client is gone (a future still refers to its closed cluster): no current client.
  CHECK_THROWS_AS((void)cask::get_client(), cask::Error);
  CHECK(survivor->result() == 3);
}
