// examples/example_time.hpp: the chapter's seconds, scaled so the examples can run fast.
//
// The chapter's slow(x) sleeps 3*x seconds. Every duration in the examples goes through
// examples::seconds(), which multiplies it by the environment variable
// CASK_EXAMPLE_TIME_SCALE (default 1.0: real speed). CTest runs the examples with 0.01,
// scripts/demo.sh with 0.2. Each process reads its own environment: on a cluster, the
// cask-worker processes that run the tasks must be started with the same value as the
// program (examples/run_on_cluster.sh does so).
//
//   cask::this_task::sleep_for(examples::seconds(3 * x));   // inside a task
//   examples::sleep(2);                                      // time.sleep(2) in main
#pragma once

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

namespace examples {

/// CASK_EXAMPLE_TIME_SCALE, read once; 1.0 when unset or not a number >= 0.
inline double time_scale() {
  static const double scale = [] {
    const char* env = std::getenv("CASK_EXAMPLE_TIME_SCALE");
    if (env == nullptr || *env == '\0') return 1.0;
    try {
      const double s = std::stod(env);
      if (s >= 0) return s;
    } catch (const std::exception&) {
    }
    std::cerr << "ignoring CASK_EXAMPLE_TIME_SCALE=" << env << " (want a number >= 0)\n";
    return 1.0;
  }();
  return scale;
}

/// `s` chapter seconds as a scaled duration.
inline std::chrono::nanoseconds seconds(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(s * time_scale()));
}

/// Python's time.sleep(s) on the calling thread, scaled. Use cask::this_task::sleep_for
/// inside tasks instead, so that a cancelled task wakes up.
inline void sleep(double s) { std::this_thread::sleep_for(seconds(s)); }

/// A real (unscaled) duration expressed in chapter seconds, for printing timings.
inline double chapter_seconds(std::chrono::steady_clock::duration d) {
  const double real = std::chrono::duration<double>(d).count();
  return time_scale() > 0 ? real / time_scale() : 0.0;
}

}  // namespace examples
