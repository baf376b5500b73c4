// This program demonstrates taking results as they finish with as_completed (example 6-6).
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
// At the end the program checks its own output: a done callback notes when each future
// finished, and the futures must have come out in that order. (The callbacks run in this
// program, so the check also works when slow() runs in cask-worker processes, on the
// cluster named by CASK_SCHEDULER_ADDRESS; notes taken inside slow() would stay there.)
// Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "example_time.hpp"

using clock_type = std::chrono::steady_clock;

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // time.sleep(3 * x)
  return 3 * x;
}
CASK_REMOTE(slow);  // so that cask-worker processes can run it too (CASK_SCHEDULER_ADDRESS)

std::mutex finished_mutex;
std::condition_variable finished_cv;
std::map<int, clock_type::time_point> finished_at;  // result -> when its future finished

int main() {
  // Four workers of one thread each, so that all four tasks run at once on any machine;
  // with CASK_SCHEDULER_ADDRESS set, that cluster (run_on_cluster.sh gives it four slots).
  cask::Client client =
      std::getenv("CASK_SCHEDULER_ADDRESS")
          ? cask::Client{}
          : cask::Client{{.workers = 4, .threads_per_worker = 1}};
  const auto start = clock_type::now();
  auto elapsed = [&] { return examples::chapter_seconds(clock_type::now() - start); };
  std::cout << std::fixed << std::setprecision(1);

  std::vector<cask::Future<int>> futures = client.map(slow, std::vector{4, 3, 2, 1});
  std::cout << "futures = client.map(slow, [4, 3, 2, 1])\n";
  for (const auto& f : futures)
    f.add_done_callback([](const cask::Future<int>& done) {
      const auto now = clock_type::now();
      if (done.status() != cask::Status::finished) return;
      std::lock_guard lock(finished_mutex);
      finished_at[done.result()] = now;
      finished_cv.notify_all();
    });

  std::vector<int> order;  // results in the order as_completed yielded them
  for (auto& f : cask::as_completed(futures)) {
    const double ready = elapsed();
    examples::sleep(2);  // Business numbers logic
    std::cout << f.result() << std::endl;
    std::cout << "  (finished at " << ready << " s, printed at " << elapsed() << " s)"
              << std::endl;
    order.push_back(f.result());
  }

  // In list order (example 6-5) nothing could be printed before slow(4) is done at 12 s.
  std::cout << "all results after " << elapsed() << " s of chapter time\n";

  // Completion order: no future may come out after one that finished clearly (50 ms) later.
  // (Normally 3, 6, 9, 12; on a badly overloaded machine a task may finish late, and the
  // order must follow.)
  bool in_completion_order = order.size() == 4 && std::set(order.begin(), order.end()).size() == 4;
  std::unique_lock lock(finished_mutex);  // (the callbacks run on a thread of their own)
  finished_cv.wait_for(lock, std::chrono::seconds(10), [] { return finished_at.size() == 4; });
  for (std::size_t i = 0; i < order.size() && in_completion_order; ++i)
    for (std::size_t j = i + 1; j < order.size(); ++j)
      if (!finished_at.contains(order[i]) || !finished_at.contains(order[j]) ||
          finished_at.at(order[j]) + std::chrono::milliseconds(50) < finished_at.at(order[i]))
        in_completion_order = false;
  std::cout << "each of the 4 futures came out once, in completion order: " << std::boolalpha
            << in_completion_order << "\n";
}
