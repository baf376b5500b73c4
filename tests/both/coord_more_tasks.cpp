// tests/both/coord_more_tasks.cpp: the functions of coord_more_tasks.hpp, registered with
// CASK_REMOTE.
#include "coord_more_tasks.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include <cask/cask.hpp>

namespace coord_more_tasks {

namespace {

void append(const std::string& log, const std::string& line) { std::ofstream(log, std::ios::app) << line << "\n"; }

/// Polls for the file `gate` (the test creates it); throws after 20 s so a failed case
/// never leaves a task blocked on a shared cluster.
void wait_for_gate(const std::string& gate, const char* who) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(gate)) {
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error(std::string(who) + ": no gate in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

/// How many lines of `log` are `line`.
int count_lines(const std::string& log, const std::string& line) {
  std::ifstream in(log);
  int n = 0;
  for (std::string l; std::getline(in, l);) n += (l == line);
  return n;
}

/// Blocks until the running task's stop token is requested; throws after 20 s.
void wait_for_stop(const char* who) {
  const std::stop_token stop = cask::this_task::stop_token();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!stop.stop_requested()) {
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error(std::string(who) + ": never stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

int lock_wait_logged(std::string lock, std::string log) {
  cask::Lock l{lock};
  append(log, "waiting");
  l.acquire();
  l.release();
  return 1;
}

int lock_release_then_fail(std::string lock, std::string log, std::string gate) {
  cask::Lock l{lock};
  l.acquire();
  l.release();
  append(log, "released");
  wait_for_gate(gate, "lock_release_then_fail");
  throw std::runtime_error("failed after releasing");
}

int lock_hold_until_event(std::string lock, std::string log, std::string event) {
  cask::Lock l{lock};
  std::lock_guard guard{l};
  append(log, "locked");
  cask::Event{event}.wait();
  return 1;
}

int lock_then_throw(std::string lock) {
  cask::Lock l{lock};
  l.acquire();
  throw std::runtime_error("failed holding " + lock);
}

int semaphore_wait_until_full(std::string name, int max, std::string log) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  std::lock_guard lease{s};
  append(log, "in");
  cask::secede();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool full = false;
  while (!(full = count_lines(log, "in") >= max) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cask::rejoin();
  append(log, "out");
  return full ? 1 : 0;
}

int semaphore_release_unheld(std::string name, int max) {
  cask::Semaphore{name, static_cast<std::size_t>(max)}.release();
  return 1;
}

int semaphore_open(std::string name, int max) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  return 1;
}

int semaphore_hold_and_return(std::string name, int max) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  s.acquire();
  return static_cast<int>(s.get_value());
}

int semaphore_until_stopped(std::string name, int max, std::string log) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  s.acquire();
  append(log, "holding");
  wait_for_stop("semaphore_until_stopped");
  return -1;
}

int semaphore_take_two_give_one_fail(std::string name, int max) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  s.acquire();
  s.acquire();
  s.release();
  throw std::runtime_error("failed holding one of two");
}

int semaphore_wait_logged(std::string name, int max, std::string log) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  append(log, "waiting");
  std::lock_guard lease{s};
  return 1;
}

int event_is_set(std::string name) { return cask::Event{name}.is_set() ? 1 : 0; }

int event_clear(std::string name) {
  cask::Event{name}.clear();
  return 1;
}

int event_wait_twice(std::string name, std::string log) {
  cask::Event e{name};
  append(log, "waiting");
  const bool first = e.wait(std::chrono::milliseconds(20));
  const bool second = e.wait(std::chrono::seconds(30));
  return (first ? 10 : 0) + (second ? 1 : 0);
}

int event_wait_logging_cancel(std::string name, std::string log) {
  cask::Event e{name};
  append(log, "waiting");
  try {
    e.wait();
    return 1;
  } catch (const cask::CancelledError&) {
    append(log, "cancelled");
    throw;
  }
}

int variable_erase(std::string name) {
  cask::Variable<std::string>{name}.erase();
  return 1;
}

int variable_open_double(std::string name) {
  cask::Variable<double> v{name};
  return 1;
}

std::string variable_get_logging_cancel(std::string name, std::string log) {
  cask::Variable<std::string> v{name};
  append(log, "waiting");
  try {
    return v.get();
  } catch (const cask::CancelledError&) {
    append(log, "cancelled");
    throw;
  }
}

int variable_set_many(std::string name, int t, int n) {
  cask::Variable<int> v{name};
  for (int i = 1; i <= n; ++i) v.set(t * 1000 + i);
  return t;
}

int subscribe_sum_until_negative(std::string topic, std::string log) {
  cask::Sub<int> sub{topic};
  append(log, "subscribed");
  int total = 0;
  for (const int& m : sub) {
    if (m < 0) break;
    total += m;
  }
  return total;
}

int publish_ints_then_end(std::string topic, int n) {
  cask::Pub<int> pub{topic};
  for (int i = 1; i <= n; ++i) pub.put(i);
  pub.put(-1);
  return n;
}

int subscribe_in_order(std::string topic, std::string log, int n) {
  cask::Sub<int> sub{topic};
  append(log, "subscribed");
  int total = 0;
  for (int expected = 0; expected < n; ++expected) {
    const int m = sub.get(std::chrono::seconds(20));
    if (m != expected) return -1;
    total += m;
  }
  return total;
}

CASK_REMOTE(lock_wait_logged);
CASK_REMOTE(lock_release_then_fail);
CASK_REMOTE(lock_hold_until_event);
CASK_REMOTE(lock_then_throw);
CASK_REMOTE(semaphore_wait_until_full);
CASK_REMOTE(semaphore_release_unheld);
CASK_REMOTE(semaphore_open);
CASK_REMOTE(semaphore_hold_and_return);
CASK_REMOTE(semaphore_until_stopped);
CASK_REMOTE(semaphore_take_two_give_one_fail);
CASK_REMOTE(semaphore_wait_logged);
CASK_REMOTE(event_is_set);
CASK_REMOTE(event_clear);
CASK_REMOTE(event_wait_twice);
CASK_REMOTE(event_wait_logging_cancel);
CASK_REMOTE(variable_erase);
CASK_REMOTE(variable_open_double);
CASK_REMOTE(variable_get_logging_cancel);
CASK_REMOTE(variable_set_many);
CASK_REMOTE(subscribe_sum_until_negative);
CASK_REMOTE(publish_ints_then_end);
CASK_REMOTE(subscribe_in_order);

}  // namespace coord_more_tasks
