// This program demonstrates launching futures with submit and map (example 6-1).
//
// client.submit starts one task, client.map one task per element; both return pending
// futures at once while the work runs on the cluster: the embedded one by default, or the
// cask-scheduler named by CASK_SCHEDULER_ADDRESS (host:port), whose cask-worker processes
// run slow by name: CASK_REMOTE(slow) registers it (see run_on_cluster.sh).
//
// Python (Scaling Python with Dask, example 6-1):
//   client = Client()
//   def slow(x):
//       time.sleep(3 * x)
//       return 3 * x
//   slow_future = client.submit(slow, 1)
//   slow_futures = client.map(slow, range(1, 5))
//
// Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <chrono>
#include <iostream>
#include <ranges>
#include <utility>
#include <vector>

#include "example_time.hpp"

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // time.sleep(3 * x)
  return 3 * x;
}
CASK_REMOTE(slow);

int main() {
  cask::Client client;

  const auto start = std::chrono::steady_clock::now();
  cask::Future<int> slow_future = client.submit(slow, 1);
  std::vector<cask::Future<int>> slow_futures = client.map(slow, std::views::iota(1, 5));
  const auto launched = std::chrono::steady_clock::now() - start;

  // Launching never blocks: the futures come back pending and the tasks are already running.
  std::cout << "submit and map returned after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(launched).count()
            << " ms\n";
  std::cout << "slow_future: " << slow_future << "\n";
  for (const auto& f : slow_futures) std::cout << "slow_futures: " << f << "\n";

  // Futures are pure by default: slow(1) from submit and from map share one key, and so
  // one computation (as in Dask).
  std::cout << "slow_future.key() == slow_futures[0].key(): " << std::boolalpha
            << (slow_future.key() == slow_futures[0].key()) << "\n";

  // Not in the chapter's snippet: collect the values to see the work was done.
  std::cout << "slow_future.result() = " << slow_future.result() << "\n";
  std::cout << "client.gather(slow_futures) = [";
  const char* sep = "";
  for (int v : client.gather(slow_futures)) std::cout << std::exchange(sep, ", ") << v;
  std::cout << "]\n";
  for (const auto& f : slow_futures) std::cout << "slow_futures: " << f << "\n";
}
