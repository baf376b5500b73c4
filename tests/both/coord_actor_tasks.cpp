// tests/both/coord_actor_tasks.cpp: the functions of coord_actor_tasks.hpp, registered with
// CASK_REMOTE / CASK_ACTOR.
#include "coord_actor_tasks.hpp"

#include <chrono>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include <cask/cask.hpp>

namespace both_tasks {

namespace {

void append(const std::string& log, const std::string& line) { std::ofstream(log, std::ios::app) << line << "\n"; }

}  // namespace

int lock_then_fail(std::string lock, std::string log) {
  cask::Lock l{lock};
  l.acquire();
  append(log, "locked");
  throw std::runtime_error("failed holding " + lock);
}

int lock_until_stopped(std::string lock, std::string log) {
  cask::Lock l{lock};
  l.acquire();
  append(log, "locked");
  const std::stop_token stop = cask::this_task::stop_token();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!stop.stop_requested()) {
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("lock_until_stopped: never stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

int locked_section(std::string lock, std::string log, int id) {
  cask::Lock l{lock};
  std::lock_guard guard{l};
  append(log, "enter " + std::to_string(id));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  append(log, "leave " + std::to_string(id));
  return id;
}

int semaphore_then_fail(std::string name, int max, int leases) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  for (int i = 0; i < leases; ++i) s.acquire();
  throw std::runtime_error("failed holding " + std::to_string(leases) + " leases");
}

std::string variable_get_logged(std::string name, std::string log) {
  cask::Variable<std::string> v{name};
  append(log, "waiting");
  return v.get();
}

int publish_many(std::string topic, std::string tag, int n) {
  cask::Pub<std::string> pub{topic};
  for (int i = 0; i < n; ++i) pub.put(tag + " " + std::to_string(i));
  return n;
}

int Recorder::throw_non_std() { throw 42; }

CASK_REMOTE(lock_then_fail);
CASK_REMOTE(lock_until_stopped);
CASK_REMOTE(locked_section);
CASK_REMOTE(semaphore_then_fail);
CASK_REMOTE(variable_get_logged);
CASK_REMOTE(publish_many);
CASK_ACTOR(Recorder, note, notes, throw_non_std);

}  // namespace both_tasks
