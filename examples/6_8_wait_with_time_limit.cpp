// This program demonstrates taking whatever futures finish within a time limit (example 6-8).
//
// Python (Scaling Python with Dask, example 6-8):
//   max_wait = 10
//   start = time.time()
//
//   while len(futures) > 0 and time.time() - start < max_wait:
//       try:
//           finished = wait(futures, 1, return_when=FIRST_COMPLETED)
//           for f in finished.done:
//               print(f.result())
//           futures = finished.not_done
//       except TimeoutError:
//           True # No future finished in this cycle
//
//   # Cancel any remaining futures
//   for f in futures:
//       f.cancel()
//
// `futures` are 6-1's client.map(slow, range(1, 5)), finishing after 3, 6, 9 and 12 s:
// within max_wait = 10 s the loop prints 3, 6 and 9, and slow(4) is cancelled. Each
// cycle waits at most 1 s; cask::wait throws cask::TimeoutError when none finished in it.
// The client has four workers so that all four run at once on any machine. At the end the
// program checks its own output against the times the futures finished (noted by done
// callbacks, which run in this program also when slow() runs in cask-worker processes of
// the cluster named by CASK_SCHEDULER_ADDRESS): every future that was done before the
// loop ended was printed (on a badly overloaded machine slow(3) may finish too late, and
// then it is rightly among the cancelled ones).
// Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <ranges>
#include <set>
#include <vector>

#include "example_time.hpp"

using clock_type = std::chrono::steady_clock;

int slow(int x) {
  if (!cask::this_task::sleep_for(examples::seconds(3 * x))) return -1;  // cancelled
  return 3 * x;
}
CASK_REMOTE(slow);  // so that cask-worker processes can run it too (CASK_SCHEDULER_ADDRESS)

std::mutex finished_mutex;
std::map<int, clock_type::time_point> finished_at;  // result -> when its future finished

int main() {
  // Four workers of one thread each, so that all four tasks run at once on any machine;
  // with CASK_SCHEDULER_ADDRESS set, that cluster (run_on_cluster.sh gives it four slots).
  cask::Client client =
      std::getenv("CASK_SCHEDULER_ADDRESS")
          ? cask::Client{}
          : cask::Client{{.workers = 4, .threads_per_worker = 1}};
  std::vector<cask::Future<int>> futures = client.map(slow, std::views::iota(1, 5));
  for (const auto& f : futures)
    f.add_done_callback([](const cask::Future<int>& done) {
      const auto now = clock_type::now();
      if (done.status() != cask::Status::finished) return;  // cancelled: nothing to note
      std::lock_guard lock(finished_mutex);
      finished_at[done.result()] = now;
    });

  const double max_wait = 10;
  const auto start = clock_type::now();
  auto elapsed = [&] { return examples::chapter_seconds(clock_type::now() - start); };

  std::set<int> printed;
  int cycles_without_result = 0;
  while (!futures.empty() && elapsed() < max_wait) {
    try {
      auto finished = cask::wait(futures, examples::seconds(1), cask::FIRST_COMPLETED);
      for (const auto& f : finished.done) {
        std::cout << f.result() << std::endl;
        printed.insert(f.result());
      }
      futures = finished.not_done;
    } catch (const cask::TimeoutError&) {
      ++cycles_without_result;  // No future finished in this cycle
    }
  }
  const auto loop_end = clock_type::now();
  std::cout << std::fixed << std::setprecision(1) << "stopped waiting after " << elapsed()
            << " s (max_wait = " << max_wait << " s); " << cycles_without_result
            << " cycles ended in cask::TimeoutError\n";

  // Cancel any remaining futures
  std::cout << "remaining: " << futures.size() << " future(s)\n";
  for (const auto& f : futures) f.cancel();
  for (const auto& f : futures) std::cout << "cancelled: " << f << "\n";

  // Check: a result not printed must not have been ready (50 ms) before the loop ended.
  bool all_in_time_printed = true;
  {
    std::lock_guard lock(finished_mutex);
    for (const auto& [result, when] : finished_at)
      if (!printed.contains(result) && when + std::chrono::milliseconds(50) < loop_end)
        all_in_time_printed = false;
  }
  std::cout << "every result ready within the time limit was printed, the rest cancelled: "
            << std::boolalpha << all_in_time_printed << "\n";
}
