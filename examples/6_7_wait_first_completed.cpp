// This program demonstrates wait with FIRST_COMPLETED and a time limit (example 6-7).
//
// Python (Scaling Python with Dask, example 6-7):
//   from dask.distributed import wait
//   from dask.distributed.client import FIRST_COMPLETED
//
//   # Will throw an exception if no future completes in time.
//   # If it does not throw, the result has two lists:
//   # The done list may return between one and all futures.
//   # The not_done list may contain zero or more futures.
//   finished = wait(futures, 1, return_when=FIRST_COMPLETED)
//
//   # Process the returned futures
//   for f in finished.done:
//       print(f.result())
//
//   # Cancel the futures we don't need
//   for f in finished.not_done:
//       f.cancel()
//
// Here `futures` are client.map(slow, range(0, 4)): slow(0) is done at once, slow(1) needs
// 3 s, so the 1 s wait returns with slow(0) done and the rest are cancelled. Then the
// comment's first line: with 6-1's futures, client.map(slow, range(1, 5)), nothing can
// finish within 1 s and wait throws cask::TimeoutError (the futures keep running).
// The client has four workers so that every future runs at once on any machine.
// Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <cstdlib>
#include <iostream>
#include <ranges>
#include <vector>

#include "example_time.hpp"

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // wakes early when cancelled
  return 3 * x;
}
CASK_REMOTE(slow);  // so that cask-worker processes can run it too (CASK_SCHEDULER_ADDRESS)

int main() {
  // Four workers of one thread each, so that all four tasks run at once on any machine;
  // with CASK_SCHEDULER_ADDRESS set, that cluster (run_on_cluster.sh gives it four slots).
  cask::Client client =
      std::getenv("CASK_SCHEDULER_ADDRESS")
          ? cask::Client{}
          : cask::Client{{.workers = 4, .threads_per_worker = 1}};

  std::cout << "== futures = client.map(slow, range(0, 4))\n";
  std::vector<cask::Future<int>> futures = client.map(slow, std::views::iota(0, 4));

  auto finished = cask::wait(futures, examples::seconds(1), cask::FIRST_COMPLETED);
  std::cout << "finished.done: " << finished.done.size()
            << " future(s), finished.not_done: " << finished.not_done.size() << " future(s)\n";

  // Process the returned futures
  for (const auto& f : finished.done) std::cout << f.result() << "\n";

  // Cancel the futures we don't need
  for (const auto& f : finished.not_done) f.cancel();
  bool all_cancelled = true;
  for (const auto& f : finished.not_done) {
    std::cout << "not_done: " << f << "\n";
    all_cancelled = all_cancelled && f.status() == cask::Status::cancelled;
  }
  std::cout << "every not_done future cancelled: " << std::boolalpha << all_cancelled << "\n";

  std::cout << "\n== futures = client.map(slow, range(1, 5)): nothing finishes within 1 s\n";
  futures = client.map(slow, std::views::iota(1, 5));
  try {
    finished = cask::wait(futures, examples::seconds(1), cask::FIRST_COMPLETED);
    std::cout << "wait returned " << finished.done.size() << " done future(s)\n";
  } catch (const cask::TimeoutError& e) {
    std::cout << "wait throws " << e.what() << "\n";
  }
  for (const auto& f : futures) std::cout << "still running: " << f << "\n";
  client.cancel(futures);  // we do not need them either
}
