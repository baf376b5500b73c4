// tests/both/core_tasks.cpp: the functions of core_tasks.hpp, each registered with
// CASK_REMOTE. Built into the test binary and into the module cask_both_tasks.
#include "core_tasks.hpp"

#include <chrono>
#include <fstream>
#include <stdexcept>

#include <cask/cask.hpp>

#include "tasks.hpp"

namespace core_tasks {

int nap_logged(std::string log, int ms) {
  { std::ofstream(log, std::ios::app) << "start\n"; }
  const bool full = cask::this_task::sleep_for(std::chrono::milliseconds(ms));
  std::ofstream out(log, std::ios::app);
  out << (full ? "full" : "woken") << "\n";
  if (cask::this_task::stop_requested()) out << "stop\n";
  return full ? 1 : 0;
}

int log_value(std::string log, int value) {
  std::ofstream(log, std::ios::app) << value << "\n";
  return value;
}

int fail_out_of_range(std::string message) { throw std::out_of_range(message); }

int fail_object(int value) { throw NotAnException{value}; }

int gated_fail(std::string gate, std::string log, int code) {
  if (cluster_tasks::gated(gate, log, 0, 20000) < 0) return -1;
  throw cluster_tasks::TaskFailure("failure " + std::to_string(code));
}

void fail_void(std::string message) { throw cluster_tasks::TaskFailure(message); }

bool sleep_completes(int ms) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool full = cask::this_task::sleep_for(std::chrono::milliseconds(ms));
  return full && std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(ms) &&
         !cask::this_task::stop_requested();
}

CASK_REMOTE(nap_logged);
CASK_REMOTE(log_value);
CASK_REMOTE(fail_out_of_range);
CASK_REMOTE(fail_object);
CASK_REMOTE(gated_fail);
CASK_REMOTE(fail_void);
CASK_REMOTE(sleep_completes);

}  // namespace core_tasks
