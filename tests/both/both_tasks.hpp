// tests/both/both_tasks.hpp: CASK_REMOTE functions the two-mode suite needs beyond
// tests/cluster/tasks.hpp. Compiled into the test binary and into the MODULE library
// cask_both_tasks, which the LocalCluster's workers preload next to cask_test_tasks.
#pragma once

#include <string>

namespace both_tasks {

/// Appends "run" to `log`; throws std::runtime_error("attempt <n>") while the log holds at
/// most `failures` runs, then returns `value`. Retries are counted in the file.
int fail_times(std::string log, int failures, int value);

/// Appends `tag` to `log` and returns the number of lines the log holds after it.
int log_tag(std::string log, std::string tag);

/// The task's own key (cask::this_task::key()).
std::string own_key(int unused);

/// secede(), appends "seceded" to `log`, waits for the file `gate` (at most 20 s), rejoin(),
/// appends "rejoined", returns `value`.
int seceded_gated(std::string gate, std::string log, int value);

/// Inside a task: cask::compute(delayed(add)(delayed(inc)(x), 10)) on the task's cluster.
int nested_compute(int x);

/// Submits gated(gate, log, 7, 20000) as a child and returns its result (blocking on it).
int parent_of_gated(std::string gate, std::string log);

/// Appends "start" to `log`, then blocks until its stop token is requested (at most 20 s,
/// then throws); appends "callback" from a std::stop_callback when stop is requested.
int wait_for_stop(std::string log);

/// Throws std::invalid_argument(message).
int fail_invalid(std::string message);

}  // namespace both_tasks
