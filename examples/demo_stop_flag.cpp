// This program demonstrates a cask::Variable<bool> used as a stop flag for long-running tasks.
//
// Long-running tasks (simulations, crawlers, samplers) often run until someone says
// "enough" rather than for a fixed amount of work. A named variable (Dask:
// distributed.Variable) that every task reads between small units of work is such a
// signal: the client sets it, each task sees it at its next check, stops, and returns the
// partial result it has. In Python with Dask this would be:
//
//   stop = Variable("stop")
//   stop.set(False)
//
//   def sampler(i):
//       stop, n = Variable("stop"), 0
//       while not stop.get():
//           time.sleep(0.1)          # one unit of work
//           n += 1
//       return n
//
//   futures = [client.submit(sampler, i) for i in range(4)]
//   time.sleep(1)
//   stop.set(True)
//   counts = client.gather(futures)
//
// Unlike cancelling the tasks (which drops their results), the flag lets them finish
// cleanly and return what they did. So that the demo does not depend on timing, each task
// reports on the queue "started" once it has done its first unit, and the client waits
// for all four reports before the one second. At the end the program checks that every
// task stopped soon after the flag was set and that the partial counts add up to the
// units done. Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <vector>

#include "example_time.hpp"

using clock_type = std::chrono::steady_clock;

constexpr int kTasks = 4;

int sampler(int i) {
  cask::Variable<bool> stop{"stop"};  // inside a task: the variable of the task's cluster
  // Every unit done is also counted on a queue, to check the partial counts against; a
  // queue (not a global counter) because on a cluster the tasks run in other processes.
  cask::Queue<int> units{"units"};
  int n = 0;
  while (!stop.get()) {
    cask::this_task::sleep_for(examples::seconds(0.1));  // one unit of work
    ++n;
    units.put(1);
    if (n == 1) cask::Queue<int>{"started"}.put(i);
  }
  return n;
}
// On a cluster (examples/run_on_cluster.sh) the workers run it by name.
CASK_REMOTE(sampler);

int main() {
  cask::Client client{{.workers = kTasks, .threads_per_worker = 1}};
  std::cout << std::fixed << std::setprecision(1);
  cask::Variable<bool> stop{"stop", client};
  stop.set(false);

  std::vector<cask::Future<int>> futures;
  for (int i = 0; i < kTasks; ++i) futures.push_back(client.submit(sampler, i));
  std::cout << "started " << kTasks
            << " long-running tasks; each checks the variable \"stop\" between work units of 0.1 s\n";

  cask::Queue<int> started{"started", client};
  (void)started.get_batch(kTasks, std::chrono::seconds(30));
  std::cout << "all " << kTasks << " tasks are working\n";

  examples::sleep(1);
  stop.set(true);
  const auto set_at = clock_type::now();
  std::cout << "client: stop.set(true)\n";

  int total = 0;
  bool all_worked = true;
  for (int i = 0; i < kTasks; ++i) {
    const int n = futures[i].result(std::chrono::seconds(30));
    std::cout << "  task " << i << " stopped after " << n << " work units\n";
    all_worked = all_worked && n >= 1;
    total += n;
  }
  const auto took = clock_type::now() - set_at;
  const double stopped_within = examples::chapter_seconds(took);
  // Each task looks at the flag after every 0.1 s unit; a loaded machine may add a lot,
  // but not seconds of real time.
  const bool prompt = took < std::chrono::seconds(5);
  std::cout << "all " << kTasks << " tasks returned " << stopped_within
            << " s after the flag was set (each checks it every 0.1 s)\n";
  const int units_done = static_cast<int>(cask::Queue<int>{"units", client}.get_all().size());
  std::cout << "partial counts add up: " << std::boolalpha << (total == units_done) << " ("
            << total << " units in total)\n";
  stop.erase();  // a set variable lives on without handles until erased (as in Dask)

  return all_worked && prompt && total == units_done ? 0 : 1;
}
