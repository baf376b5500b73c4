// tests/faults/tasks.cpp: the task functions of the failure and locality tests (see
// tasks.hpp), each registered with CASK_REMOTE. Built into cask_fault_tests and into the
// preload library cask_fault_tasks.
#include "tasks.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include <cask/cask.hpp>

namespace fault_tasks {

namespace {

int pid() { return static_cast<int>(getpid()); }

/// One line, appended (O_APPEND) in one write: processes may share the log.
void append_line(const std::string& log, const std::string& line) {
  std::ofstream out(log, std::ios::app);
  out << line + "\n" << std::flush;
}

enum class GateResult { open, stopped, timeout };

/// Polls every 1 ms for `gate`, honouring the task's stop token, for at most `limit_ms`.
GateResult wait_for_gate(const std::string& gate, int limit_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  const std::stop_token stop = cask::this_task::stop_token();
  for (;;) {
    if (std::filesystem::exists(gate)) return GateResult::open;
    if (stop.stop_requested()) return GateResult::stopped;
    if (std::chrono::steady_clock::now() > until) return GateResult::timeout;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

int inc(int x) { return x + 1; }

int worker_pid() { return pid(); }

std::vector<int> counted_value(std::string log, int value) {
  append_line(log, "run " + std::to_string(pid()));
  return {pid(), value};
}

int plus_value(std::vector<int> made, int extra) {
  if (made.size() != 2) throw std::invalid_argument("plus_value: expected {pid, value}");
  return made[1] + extra;
}

int gated(std::string gate, std::string log, int value, int limit_ms) {
  const std::string me = " " + std::to_string(pid());
  append_line(log, "start" + me);
  switch (wait_for_gate(gate, limit_ms)) {
    case GateResult::open:
      append_line(log, "done" + me);
      return value;
    case GateResult::stopped:
      append_line(log, "stopped" + me);
      return -1;
    default:
      append_line(log, "timeout" + me);
      throw std::runtime_error("gated: " + gate + " did not appear in time");
  }
}

std::string big_value(long long n, std::string tag, std::string gate, std::string log) {
  if (!log.empty()) append_line(log, "start " + tag + " " + std::to_string(pid()));
  if (!gate.empty()) {
    const GateResult r = wait_for_gate(gate, 60000);
    if (r != GateResult::open)
      throw std::runtime_error("big_value: " + gate + (r == GateResult::stopped ? ": stopped" : ": timeout"));
  }
  return std::string(static_cast<std::size_t>(n), 'x');
}

std::vector<long long> total_size(std::string a, std::string b) {
  const auto x = [](char c) { return c == 'x'; };
  if (!std::all_of(a.begin(), a.end(), x) || !std::all_of(b.begin(), b.end(), x))
    throw std::runtime_error("total_size: the inputs are not all 'x'");
  return {static_cast<long long>(a.size() + b.size()), pid()};
}

std::vector<long long> size_and_pid(std::string a) {
  return {static_cast<long long>(a.size()), pid()};
}

int kill_self(std::string log) {
  append_line(log, std::to_string(pid()));
  ::kill(getpid(), SIGKILL);
  for (;;) pause();  // SIGKILL is delivered before kill() returns; never reached
}

CASK_REMOTE(inc);
CASK_REMOTE(worker_pid);
CASK_REMOTE(counted_value);
CASK_REMOTE(plus_value);
CASK_REMOTE(gated);
CASK_REMOTE(big_value);
CASK_REMOTE(total_size);
CASK_REMOTE(size_and_pid);
CASK_REMOTE(kill_self);

}  // namespace fault_tasks
