// tests/both/core_tasks.hpp: CASK_REMOTE functions the two-mode lifecycle, future, wait and
// as_completed cases need beyond tests/cluster/tasks.hpp and both_tasks.hpp. Compiled into
// the test binary and into the MODULE library cask_both_tasks (preloaded by the workers).
#pragma once

#include <string>

namespace core_tasks {

/// An exception type that is no std::exception, to check what each mode makes of it.
struct NotAnException {
  int value = 0;
};

/// Appends "start" to `log`, cask::this_task::sleep_for(ms), then appends "full" (slept the whole time) or "woken"
/// (woken early by a cancel) to `log`, and "stop" when the task's stop was requested.
/// Returns 1 when it slept the whole time, else 0.
int nap_logged(std::string log, int ms);

/// Appends `value` as a line to `log` and returns it.
int log_value(std::string log, int value);

/// Throws std::out_of_range(message).
int fail_out_of_range(std::string message);

/// Throws NotAnException{value}.
int fail_object(int value);

/// cluster_tasks::gated(gate, log, 0, 20000), then throws cluster_tasks::TaskFailure
/// ("failure <code>") once the gate is open (returns -1 when stopped first).
int gated_fail(std::string gate, std::string log, int code);

/// Throws cluster_tasks::TaskFailure(message): a void task that fails.
void fail_void(std::string message);

/// True when sleep_for(ms) slept the whole time, at least ms passed and no stop was asked.
bool sleep_completes(int ms);

}  // namespace core_tasks
