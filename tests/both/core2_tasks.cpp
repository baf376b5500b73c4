// tests/both/core2_tasks.cpp: the functions of core2_tasks.hpp, each registered with
// CASK_REMOTE. Built into the test binary and into the module cask_both_tasks.
#include "core2_tasks.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <cask/cask.hpp>

#include "tasks.hpp"

namespace core2_tasks {

namespace {

using Clock = std::chrono::steady_clock;

void append(const std::string& log, const std::string& line) { std::ofstream(log, std::ios::app) << line << "\n"; }

/// Polls (1 ms) without handing the slot back until `ready()`; false when 20 s pass first.
template <class Ready>
bool poll_until(Ready ready) {
  const auto until = Clock::now() + std::chrono::seconds(20);
  while (!ready()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string status_word(cask::Status s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

cask::options fresh() {
  cask::options opts;
  opts.pure = false;
  return opts;
}

}  // namespace

std::int64_t deadline_ns(int) {
  const auto d = cask::this_task::deadline();
  if (!d) return -1;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d->time_since_epoch()).count();
}

std::int64_t child_deadline_ns(int) { return cask::get_client().submit(fresh(), deadline_ns, 0).result(); }

std::vector<std::int64_t> children_deadlines_ns(std::int64_t own_ns) {
  cask::Client c = cask::get_client();
  auto inherited = c.submit(fresh(), deadline_ns, 1);
  cask::options given = fresh();
  given.deadline = Clock::time_point(std::chrono::nanoseconds(own_ns));
  auto own = c.submit(given, deadline_ns, 2);
  auto mapped = c.map(fresh(), deadline_ns, std::vector{3, 4});
  auto grand = c.submit(fresh(), child_deadline_ns, 5);
  return {inherited.result(), own.result(), mapped[0].result(), mapped[1].result(), grand.result()};
}

bool stop_token_ready(int) {
  const auto token = cask::this_task::stop_token();
  return token.stop_possible() && !token.stop_requested();
}

int parent_of_late_children(std::string log, std::string gate, std::string runs_log, int own_ms) {
  cask::Client c = cask::get_client();
  auto inherited = c.submit(fresh(), cluster_tasks::count_run, runs_log, 1);
  cask::options own_opts = fresh();
  own_opts.deadline = Clock::now() + std::chrono::milliseconds(own_ms);
  auto own = c.submit(own_opts, cluster_tasks::inc, 1);
  if (!poll_until([&] { return inherited.done(); }))
    throw std::runtime_error("parent_of_late_children: the inherited child never finished");
  append(log, "inherited " + status_word(inherited.status()));
  append(log, "own " + status_word(own.status()));
  if (!poll_until([&] { return std::filesystem::exists(gate); }))
    throw std::runtime_error("parent_of_late_children: " + gate + " did not appear in time");
  return own.result();
}

int count_plus(std::vector<int> xs, int extra) { return static_cast<int>(xs.size()) + extra; }

double half(int x) { return x / 2.0; }

int meet(std::string mine, std::string other, int value) {
  std::ofstream{mine};
  if (!poll_until([&] { return std::filesystem::exists(other); }))
    throw std::runtime_error("meet: " + other + " did not appear in time");
  return value;
}

CASK_REMOTE(deadline_ns);
CASK_REMOTE(child_deadline_ns);
CASK_REMOTE(children_deadlines_ns);
CASK_REMOTE(stop_token_ready);
CASK_REMOTE(parent_of_late_children);
CASK_REMOTE(count_plus);
CASK_REMOTE(half);
CASK_REMOTE(meet);

}  // namespace core2_tasks
