// tests/both/both_tasks.cpp: the functions of both_tasks.hpp, each registered with
// CASK_REMOTE. Built into the test binary and into the module cask_both_tasks.
#include "both_tasks.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include <cask/cask.hpp>

#include "tasks.hpp"

namespace both_tasks {

namespace {

int append_and_count(const std::string& log, const std::string& line) {
  { std::ofstream(log, std::ios::app) << line << "\n"; }
  std::ifstream in(log);
  int n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

/// Polls (1 ms) until `ready()` or the stop token; false when 20 s pass first.
template <class Ready>
bool poll_until(Ready ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

int fail_times(std::string log, int failures, int value) {
  const int runs = append_and_count(log, "run");
  if (runs <= failures) throw std::runtime_error("attempt " + std::to_string(runs));
  return value;
}

int log_tag(std::string log, std::string tag) { return append_and_count(log, tag); }

std::string own_key(int) { return cask::this_task::key(); }

int seceded_gated(std::string gate, std::string log, int value) {
  cask::secede();
  append_and_count(log, "seceded");
  const bool opened = poll_until([&] { return std::filesystem::exists(gate); });
  cask::rejoin();
  if (!opened) throw std::runtime_error("seceded_gated: " + gate + " did not appear in time");
  append_and_count(log, "rejoined");
  return value;
}

int nested_compute(int x) {
  auto d = cask::delayed(cluster_tasks::add)(cask::delayed(cluster_tasks::inc)(x), 10);
  return cask::compute(d);
}

int parent_of_gated(std::string gate, std::string log) {
  cask::Client client = cask::get_client();
  return client.submit(cluster_tasks::gated, gate, log, 7, 20000).result();
}

int wait_for_stop(std::string log) {
  const std::stop_token stop = cask::this_task::stop_token();
  std::stop_callback on_stop(stop, [&] { append_and_count(log, "callback"); });
  append_and_count(log, "start");
  if (!poll_until([&] { return stop.stop_requested(); }))
    throw std::runtime_error("wait_for_stop: never stopped");
  return -1;
}

int fail_invalid(std::string message) { throw std::invalid_argument(message); }

CASK_REMOTE(fail_times);
CASK_REMOTE(log_tag);
CASK_REMOTE(own_key);
CASK_REMOTE(seceded_gated);
CASK_REMOTE(nested_compute);
CASK_REMOTE(parent_of_gated);
CASK_REMOTE(wait_for_stop);
CASK_REMOTE(fail_invalid);

}  // namespace both_tasks
