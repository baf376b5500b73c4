// tests/faults/tasks.hpp: the CASK_REMOTE functions of the failure and data-locality tests.
//
// tasks.cpp is compiled twice: into the test binary cask_fault_tests (so that submit finds
// each function's registration by address) and into the MODULE library cask_fault_tasks,
// which every worker of the tests' clusters preloads (so that the workers run them by name).
// Tasks in other processes are gated and observed through files: a gate is a file the test
// creates, a log is a file a task appends one line to per event ("<event> <pid>").
#pragma once

#include <string>
#include <vector>

namespace fault_tasks {

/// x + 1: the trivial task of the 10,000-task case.
int inc(int x);

/// The process id of the worker that runs it.
int worker_pid();

/// Appends "run <pid>" to `log` (one line per run: counts recomputations) and returns
/// {pid, value}: the value says which worker made it.
std::vector<int> counted_value(std::string log, int value);

/// made[1] + extra: a dependent of counted_value.
int plus_value(std::vector<int> made, int extra);

/// Appends "start <pid>" to `log`, then polls every 1 ms for the file `gate` while checking
/// the task's stop token, for at most `limit_ms`. Gate seen: appends "done <pid>", returns
/// `value`. Stop requested: appends "stopped <pid>", returns -1. Limit reached: appends
/// "timeout <pid>" and throws std::runtime_error.
int gated(std::string gate, std::string log, int value, int limit_ms);

/// Appends "start <tag> <pid>" to `log` (when `log` is not empty), waits like `gated` for
/// `gate` (when not empty; at most 60 s, then throws), and returns `n` bytes of 'x'.
std::string big_value(long long n, std::string tag, std::string gate, std::string log);

/// {a.size() + b.size(), pid}; throws when a byte is not 'x' (a corrupted transfer).
std::vector<long long> total_size(std::string a, std::string b);

/// {a.size(), pid}.
std::vector<long long> size_and_pid(std::string a);

/// Appends "<pid>" to `log`, then kills its own process with SIGKILL: it never returns.
int kill_self(std::string log);

}  // namespace fault_tasks
