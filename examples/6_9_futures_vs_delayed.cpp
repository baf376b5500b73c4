// This program demonstrates that futures start right away, unlike delayed calls (example 6-9).
//
// Python (Scaling Python with Dask, example 6-9):
//   slow_future = client.submit(slow, 1)
//   slow_delayed = dask.delayed(slow)(1)
//   # Pretend we do some other work here
//   time.sleep(1)
//   future_time = timeit.timeit(lambda: slow_future.result(), number=1)
//   delayed_time = timeit.timeit(lambda: dask.compute(slow_delayed), number=1)
//   print(
//       f"""So as you can see by the future time {future_time} v.s. {delayed_time}
//    the future starts running right away."""
//   )
//
// slow(1) takes 3 s. The future has been running during the 1 s of "other work", so its
// result() takes about 2 s; compute() only starts the delayed call, so it takes the full
// 3 s. Times are printed in chapter seconds (the real time divided by
// CASK_EXAMPLE_TIME_SCALE, see example_time.hpp), so the two can be compared at any scale.
// A watcher also notes when each call of slow started, which shows the reason without
// timing guesses: the future was running before result() was called, the delayed call only
// started inside compute(). It asks the cluster (client.stats()) rather than having slow()
// note the time, so that it works the same when slow() runs in a cask-worker process, on
// the cluster named by CASK_SCHEDULER_ADDRESS, where such notes would stay.
//
// As in Dask, a delayed call gets its own key when it is made, so compute() runs slow(1)
// again instead of reusing slow_future's result.
#include <cask/cask.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "example_time.hpp"

using clock_type = std::chrono::steady_clock;

int slow(int x) {
  cask::this_task::sleep_for(examples::seconds(3 * x));  // time.sleep(3 * x)
  return 3 * x;
}
CASK_REMOTE(slow);  // so that cask-worker processes can run it too (CASK_SCHEDULER_ADDRESS)

// Notes when tasks start running, as the cluster reports them: a thread polls
// client.stats() every millisecond and counts the tasks that have started (those a worker
// processes, or has finished while the cluster still holds them); each rise is noted.
class StartWatcher {
 public:
  explicit StartWatcher(const cask::Client& client)
      : thread_([this, &client](std::stop_token stop) {
          std::size_t before = 0;
          while (!stop.stop_requested()) {
            const cask::ClusterStats s = client.stats();
            const auto now = clock_type::now();
            const std::size_t started = s.processing + s.finished + s.erred;
            {
              std::lock_guard lock(mutex_);
              for (std::size_t i = before; i < started; ++i) started_.push_back(now);
            }
            before = started;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }) {}

  /// When the call-th task (0, 1, ...) started; now when none was seen (yet).
  clock_type::time_point started(std::size_t call) const {
    std::lock_guard lock(mutex_);
    return call < started_.size() ? started_[call] : clock_type::now();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<clock_type::time_point> started_;
  std::jthread thread_;  // last: stops before the members it uses go away
};

// timeit.timeit(fn, number=1), in chapter seconds
template <class F>
double timeit(F fn) {
  const auto start = clock_type::now();
  fn();
  return examples::chapter_seconds(clock_type::now() - start);
}

int main() {
  cask::Client client;
  const StartWatcher watcher{client};

  const auto submitted = clock_type::now();
  auto slow_future = client.submit(slow, 1);
  auto slow_delayed = cask::delayed(slow)(1);  // nothing runs until compute
  // Pretend we do some other work here
  examples::sleep(1);

  const auto future_asked = clock_type::now();
  const double future_time = timeit([&] { (void)slow_future.result(); });
  const auto delayed_asked = clock_type::now();
  const double delayed_time = timeit([&] { (void)cask::compute(slow_delayed); });

  std::cout << std::fixed << std::setprecision(2);
  std::cout << "So as you can see by the future time " << future_time << " v.s. " << delayed_time
            << "\n the future starts running right away.\n";

  std::cout << std::setprecision(1)
            << "slow_future started " << examples::chapter_seconds(watcher.started(0) - submitted)
            << " s after submit; slow_delayed started "
            << examples::chapter_seconds(watcher.started(1) - delayed_asked)
            << " s after compute was called\n";
  std::cout << std::boolalpha << "slow_future was already running when result() was called: "
            << (watcher.started(0) < future_asked) << "\n";
  std::cout << "slow_delayed only started once compute() was called: "
            << (watcher.started(1) >= delayed_asked) << "\n";
  // The future had a 1 s head start: about 2 s against 3 s.
  std::cout << "future_time < delayed_time: " << (future_time < delayed_time) << "\n";
}
