// This program demonstrates a future's lifecycle: dropped handles and cancel() (example 6-2).
//
// Python (Scaling Python with Dask, example 6-2):
//   myfuture = client.submit(slow, 5) # Starts running
//   myfuture = None # future may be GCd and then stop since there are no other references
//
//   myfuture = client.submit(slow, 5) # Starts running
//   del myfuture # future may be GCd and then stop since there are no other references
//
//   myfuture = client.submit(slow, 5) # Starts running
//   # Future stops running, any other references point to canceled future
//   myfuture.cancel()
//
// In C++ the last handle going away is deterministic (no garbage collector): assigning an
// empty Future or leaving the scope releases the task, and client.stats() shows the
// cluster letting go of it. Time is scaled by CASK_EXAMPLE_TIME_SCALE (example_time.hpp).
#include <cask/cask.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <iostream>
#include <thread>

#include "example_time.hpp"

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // wakes early when cancelled
  return 3 * x;
}
CASK_REMOTE(slow);  // so that cask-worker processes can run it too (CASK_SCHEDULER_ADDRESS)

// Polls client.stats() until `done` holds (bounded, in real time) and returns the last
// snapshot. Release and cancellation travel as messages, so they take a moment.
cask::ClusterStats wait_for_stats(const cask::Client& client,
                                  const std::function<bool(const cask::ClusterStats&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  cask::ClusterStats s = client.stats();
  while (!done(s) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s = client.stats();
  }
  return s;
}

// A worker slot runs it and the scheduler has heard so (the two counts come from different
// places and agree a moment apart).
bool running(const cask::ClusterStats& s) { return s.slots_busy == 1 && s.processing == 1; }
bool released(const cask::ClusterStats& s) {
  return s.tasks() == 0 && s.future_actors == 0 && s.slots_busy == 0;
}
bool idle(const cask::ClusterStats& s) { return s.slots_busy == 0; }

using clock_type = std::chrono::steady_clock;
long long ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

int main() {
  cask::Client client;

  std::cout << "== myfuture = None\n";
  auto myfuture = client.submit(slow, 5);  // Starts running
  std::cout << "myfuture: " << myfuture << "\n";
  std::cout << "running:  " << wait_for_stats(client, running) << "\n";
  auto dropped = clock_type::now();
  myfuture = cask::Future<int>{};  // future may be GCd and then stop since there are no other references
  std::cout << "myfuture: " << myfuture << "\n";
  std::cout << "released: " << wait_for_stats(client, released) << "\n";
  std::cout << "(slow(5) sleeps 15 s; its task stopped " << ms_since(dropped)
            << " ms after the last handle went away)\n";

  std::cout << "\n== del myfuture\n";
  {
    auto myfuture = client.submit(slow, 5);  // Starts running
    std::cout << "myfuture: " << myfuture << "\n";
    std::cout << "running:  " << wait_for_stats(client, running) << "\n";
    dropped = clock_type::now();
  }  // del myfuture: future may be GCd and then stop since there are no other references
  std::cout << "released: " << wait_for_stats(client, released) << "\n";
  std::cout << "(its task stopped " << ms_since(dropped) << " ms after the scope ended)\n";

  std::cout << "\n== myfuture.cancel()\n";
  myfuture = client.submit(slow, 5);  // Starts running
  const auto other_reference = myfuture;
  std::cout << "running:  " << wait_for_stats(client, running) << "\n";
  // Future stops running, any other references point to canceled future
  myfuture.cancel();
  std::cout << "myfuture:        " << myfuture << "\n";
  std::cout << "other_reference: " << other_reference << "\n";
  std::cout << "stopped:  " << wait_for_stats(client, idle) << "\n";
  try {
    std::cout << other_reference.result() << "\n";
  } catch (const cask::CancelledError& e) {
    std::cout << "other_reference.result() throws " << e.what() << "\n";
  }

  // The chapter's remark: deleting one reference while others exist does not cancel.
  std::cout << "\n== dropping one of two references\n";
  auto kept = client.submit(slow, 1);
  {
    auto copy = kept;
  }  // del copy
  std::cout << "kept:     " << kept << "\n";
  std::cout << "kept.result() = " << kept.result() << "\n";
  std::cout << "kept:     " << kept << "\n";
}
