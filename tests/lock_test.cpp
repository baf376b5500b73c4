// cask::Lock, embedded only: the two-mode suite (tests/both/lock_test.cpp and
// objects_test.cpp) covers the rest of Lock in both modes. What stays here cannot mean
// anything on a cluster, where tasks are CASK_REMOTE functions and a Lock handle does not
// cross processes:
// - held_after_a_successful_task_through_a_captured_handle: a task acquiring through a
//   lambda-captured copy of the client's handle (copies share one holder identity).
// - released_when_a_task_throws_holding_a_captured_handle: the same captured copy, the
//   task failing while the client's copy lives on.
#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Lock.held_after_a_successful_task_through_a_captured_handle" * doctest::timeout(30)) {
  // Acquired in a task with the client's handle (captured by value), released by the client.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"handover", client};
  cask::Lock other{"handover", client};
  auto f = client.submit(cask::options{.pure = false}, [lock] {
    lock.acquire();
    return 1;
  });
  REQUIRE(f.result(kPatience) == 1);
  f = {};
  CHECK(lock.locked());
  CHECK_FALSE(other.acquire(50ms));
  lock.release();
  CHECK(other.acquire(kPatience));
  other.release();
}

TEST_CASE("Lock.released_when_a_task_throws_holding_a_captured_handle" * doctest::timeout(30)) {
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Lock lock{"failing", client};  // kept by the client, captured by the task
  cask::Lock other{"failing", client};
  auto f = client.submit(cask::options{.pure = false}, [lock]() -> int {
    lock.acquire();
    throw MyError("failed while holding the lock", 3);
  });
  CHECK_THROWS_AS((void)f.result(kPatience), MyError);
  CHECK(other.acquire(kPatience));  // the failed task's lease came back
  CHECK(other.locked());
  other.release();
  CHECK_FALSE(lock.locked());
  // The handle that lived on works as before.
  CHECK(lock.acquire(kPatience));
  lock.release();
}

