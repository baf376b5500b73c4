// This program demonstrates launching futures from inside a task with get_client (example 6-10).
//
// Python (Scaling Python with Dask, example 6-10):
//   from dask.distributed import get_client
//
//   def nested(x):
//       client = get_client() # The client is serializable, so we use get_client
//       futures = client.map(slow, range(0, x))
//       r = 0
//       for f in as_completed(futures):
//           r = r + f.result()
//       return r
//
//   f = client.submit(nested, 3)
//   f.result()
//
// nested(3) sums slow(0) + slow(1) + slow(2) = 0 + 3 + 6 = 9. Inside a task,
// cask::get_client() returns a client of the cluster running it. While nested waits in
// as_completed it gives its worker slot back, so the children can run even on a cluster
// with a single slot, where Dask's nested would wait forever unless it seceded (Dask's
// worker_client); the second run shows that. Time is scaled by CASK_EXAMPLE_TIME_SCALE.
// On the cluster named by CASK_SCHEDULER_ADDRESS both runs use that cluster, and nested
// runs in a cask-worker process; CASK_REMOTE registers both functions for it.
#include <cask/cask.hpp>

#include <cstdlib>
#include <iostream>
#include <ranges>
#include <vector>

#include "example_time.hpp"

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // time.sleep(3 * x)
  return 3 * x;
}
CASK_REMOTE(slow);  // so that cask-worker processes can run it too (CASK_SCHEDULER_ADDRESS)

int nested(int x) {
  cask::Client client = cask::get_client();  // the cluster running this task
  std::vector<cask::Future<int>> futures = client.map(slow, std::views::iota(0, x));
  int r = 0;
  for (auto& f : cask::as_completed(futures)) r = r + f.result();
  return r;
}
CASK_REMOTE(nested);

int main() {
  {
    cask::Client client;
    std::cout << "== on " << client.stats().workers << " worker(s)\n";
    auto f = client.submit(nested, 3);
    std::cout << "f: " << f << "\n";
    std::cout << "f.result() = " << f.result() << "\n";
    std::cout << "f: " << f << "\n";
  }
  {
    // With CASK_SCHEDULER_ADDRESS set, that cluster: run_on_cluster.sh starts it with one
    // cask-worker of one thread for this example.
    cask::Client client =
        std::getenv("CASK_SCHEDULER_ADDRESS")
            ? cask::Client{}
            : cask::Client{{.workers = 1, .threads_per_worker = 1}};
    std::cout << "\n== on one worker with one thread\n";
    auto f = client.submit(nested, 3);
    std::cout << "f.result() = " << f.result() << "\n";
  }
}
