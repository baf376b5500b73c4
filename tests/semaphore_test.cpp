// cask::Semaphore, embedded only: the two-mode suite (tests/both/semaphore_test.cpp and
// objects_test.cpp) covers the rest of Semaphore in both modes, including a failed task
// giving back only its own leases through a handle of its own. What stays here cannot mean
// anything on a cluster, where a Semaphore handle does not cross processes:
// - failed_task_gives_back_only_the_leases_it_took: the task takes its leases through a
//   lambda-captured copy of the client's handle, which shares the client's leases.
#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Semaphore.failed_task_gives_back_only_the_leases_it_took" * doctest::timeout(30)) {
  // The client's handle holds a lease it took itself; a task using a copy of that handle
  // takes one more and fails: only the task's lease comes back.
  cask::Client client{{.workers = 1, .threads_per_worker = 1}};
  cask::Semaphore sem{"mine", 3, client};
  cask::Semaphore watcher{"mine", 3, client};
  sem.acquire();  // the client's own lease
  auto f = client.submit(cask::options{.pure = false}, [sem]() -> int {
    sem.acquire();
    throw MyError("failed holding one lease", 2);
  });
  CHECK_THROWS_AS((void)f.result(kPatience), MyError);
  // Bounded wait for the failed task's lease to come back (2 -> 1), then it must stay 1.
  CHECK(eventually([&] { return watcher.get_value() <= 1; }));
  CHECK(watcher.get_value() == 1);
  CHECK_NOTHROW(sem.release());  // the client still holds the lease it took
  CHECK(watcher.get_value() == 0);
  // A task that takes two, gives one back and fails returns the other one only.
  sem.acquire();
  auto g = client.submit(cask::options{.pure = false}, [sem]() -> int {
    sem.acquire();
    sem.acquire();
    sem.release();
    throw MyError("failed holding one of two", 3);
  });
  CHECK_THROWS_AS((void)g.result(kPatience), MyError);
  CHECK(eventually([&] { return watcher.get_value() <= 1; }));
  CHECK(watcher.get_value() == 1);
  CHECK_NOTHROW(sem.release());
  CHECK(watcher.get_value() == 0);
}

