// This program demonstrates taking results as they become available with as_completed (example 6-6).
//
// Python (Scaling Python with Dask, example 6-6):
//   from dask.distributed import as_completed
//
//   for f in as_completed(futures):
//       time.sleep(2) # Business numbers logic
//       print(f.result())
//
// as_completed yields each future when it finishes, so the main thread runs its "business
// logic" on whatever is ready instead of waiting on the list's order (example 6-5).
// `futures` are 6-1's slow futures, made in the order slowest first: client.map(slow,
// [4, 3, 2, 1]), so that completion order (3, 6, 9, 12) is visibly not list order
// (12, 9, 6, 3). The client has four workers so that all four run at once on any machine.
// Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <vector>

#include "example_time.hpp"

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // time.sleep(3 * x)
  return 3 * x;
}

int main() {
  cask::Client client{{.workers = 4, .threads_per_worker = 1}};
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return examples::chapter_seconds(std::chrono::steady_clock::now() - start); };
  std::cout << std::fixed << std::setprecision(1);

  std::vector<cask::Future<int>> futures = client.map(slow, std::vector{4, 3, 2, 1});
  std::cout << "futures = client.map(slow, [4, 3, 2, 1])\n";

  for (auto& f : cask::as_completed(futures)) {
    const double ready = elapsed();
    examples::sleep(2);  // Business numbers logic
    std::cout << f.result() << std::endl;
    std::cout << "  (finished at " << ready << " s, printed at " << elapsed() << " s)"
              << std::endl;
  }

  // In list order (example 6-5) nothing could be printed before slow(4) is done at 12 s.
  std::cout << "all results after " << elapsed() << " s of chapter time\n";
}
