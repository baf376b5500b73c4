// This program demonstrates collecting a list of futures' results in order (example 6-5).
//
// Python (Scaling Python with Dask, example 6-5):
//   for f in futures:
//       time.sleep(2) # Business numbers logic
//       print(f.result())
//
// `futures` are the chapter's slow_futures from example 6-1: client.map(slow, range(1, 5)).
// Each result() blocks until that future is done, so a slow future early in the list holds
// up the ones behind it even when they are already finished; example 6-6 (as_completed)
// takes them in completion order instead. Time is scaled by CASK_EXAMPLE_TIME_SCALE.
#include <cask/cask.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <ranges>
#include <vector>

#include "example_time.hpp"

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // time.sleep(3 * x)
  return 3 * x;
}
CASK_REMOTE(slow);  // so that cask-worker processes can run it too (CASK_SCHEDULER_ADDRESS)

int main() {
  cask::Client client;
  const auto start = std::chrono::steady_clock::now();
  std::vector<cask::Future<int>> futures = client.map(slow, std::views::iota(1, 5));

  for (const auto& f : futures) {
    examples::sleep(2);  // Business numbers logic
    std::cout << f.result() << std::endl;
  }

  const double took = examples::chapter_seconds(std::chrono::steady_clock::now() - start);
  std::cout << "all results after " << std::fixed << std::setprecision(1) << took
            << " s of chapter time, on " << client.stats().workers << " workers\n";
}
