// tests/both/core2_tasks.hpp: CASK_REMOTE functions of the two-mode Deadline, Delayed,
// Dependencies, Keys, Scheduling and Client cases (beyond tests/cluster/tasks.hpp and
// both_tasks.hpp). Compiled into the test binary and into the preloaded cask_both_tasks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace core2_tasks {

/// The task's deadline (cask::this_task::deadline()) as steady-clock nanoseconds since its
/// epoch, or -1 without one. Processes on one machine share the steady clock's epoch.
std::int64_t deadline_ns(int unused);

/// Submits deadline_ns as a (pure=false) child and returns what it read.
std::int64_t child_deadline_ns(int unused);

/// What children of this task read as their deadline (deadline_ns): one submitted without
/// a deadline, one given `own_ns`, two mapped, and a grandchild (via child_deadline_ns).
std::vector<std::int64_t> children_deadlines_ns(std::int64_t own_ns);

/// True when the task's stop token can be stopped and is not.
bool stop_token_ready(int unused);

/// Holds its slot without handing it back (polls files, never blocks in cask). Submits
/// count_run(runs_log, 1) inheriting its deadline and inc(1) with a deadline `own_ms` from
/// now; waits (at most 20 s) until the first is done, appends "inherited <status>" and
/// "own <status>" to `log`, waits for the file `gate`, then returns the second's result.
int parent_of_late_children(std::string log, std::string gate, std::string runs_log, int own_ms);

/// The number of values plus `extra`: a vector of futures next to a plain argument.
int count_plus(std::vector<int> xs, int extra);

/// x / 2.0: a double result.
double half(int x);

/// Creates the file `mine`, then waits (at most 20 s, else throws) for the file `other`
/// and returns `value`: two of them only finish when they run at the same time.
int meet(std::string mine, std::string other, int value);

}  // namespace core2_tasks
