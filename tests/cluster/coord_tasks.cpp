// tests/cluster/coord_tasks.cpp: see coord_tasks.hpp.
#include "coord_tasks.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <cask/cask.hpp>

namespace cluster_tasks {

namespace {
void append_line(const std::string& log, const std::string& line) {
  std::ofstream out(log, std::ios::app);
  out << line << "\n";
}
std::chrono::milliseconds ms(int n) { return std::chrono::milliseconds(n); }
}  // namespace

int queue_put(std::string queue, int value) {
  cask::Queue<int>{queue}.put(value);
  return value;
}

int queue_get(std::string queue, int timeout_ms) {
  cask::Queue<int> q{queue};
  return timeout_ms < 0 ? q.get() : q.get(ms(timeout_ms));
}

int queue_get_logged(std::string queue, std::string log) {
  cask::Queue<int> q{queue};
  append_line(log, "waiting");
  return q.get();
}

std::vector<int> queue_get_batch(std::string queue, int n) {
  return cask::Queue<int>{queue}.get_batch(static_cast<std::size_t>(n));
}

int queue_size(std::string queue) { return static_cast<int>(cask::Queue<int>{queue}.size()); }

int queue_put_text(std::string queue, std::string text) {
  cask::Queue<std::string>{queue}.put(text);
  return 1;
}

int variable_set(std::string name, std::string value) {
  cask::Variable<std::string>{name}.set(value);
  return 1;
}

std::string variable_get(std::string name, int timeout_ms) {
  cask::Variable<std::string> v{name};
  return timeout_ms < 0 ? v.get() : v.get(ms(timeout_ms));
}

int lock_hold(std::string lock, std::string log, std::string gate, int limit_ms) {
  cask::Lock l{lock};
  l.acquire();
  append_line(log, "locked");
  const auto until = std::chrono::steady_clock::now() + ms(limit_ms);
  while (!std::filesystem::exists(gate)) {
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("lock_hold: no gate in time");
    std::this_thread::sleep_for(ms(1));
  }
  return 1;
}

int lock_try(std::string lock, int timeout_ms) {
  cask::Lock l{lock};
  if (!l.acquire(ms(timeout_ms))) return 0;
  l.release();
  return 1;
}

int lock_release_unheld(std::string lock) {
  cask::Lock{lock}.release();
  return 1;
}

int semaphore_try(std::string name, int max, int timeout_ms) {
  cask::Semaphore s{name, static_cast<std::size_t>(max)};
  if (!s.acquire(ms(timeout_ms))) return 0;
  s.release();
  return 1;
}

int event_wait(std::string name, std::string log, int timeout_ms) {
  cask::Event e{name};
  append_line(log, "waiting");
  if (timeout_ms < 0) {
    e.wait();
    return 1;
  }
  return e.wait(ms(timeout_ms)) ? 1 : 0;
}

int event_set(std::string name) {
  cask::Event{name}.set();
  return 1;
}

int publish(std::string topic, std::string message) {
  cask::Pub<std::string>{topic}.put(message);
  return 1;
}

std::string subscribe_get(std::string topic, std::string log, int timeout_ms) {
  cask::Sub<std::string> sub{topic};
  append_line(log, "subscribed");
  return timeout_ms < 0 ? sub.get() : sub.get(ms(timeout_ms));
}

CASK_REMOTE(queue_put);
CASK_REMOTE(queue_get);
CASK_REMOTE(queue_get_logged);
CASK_REMOTE(queue_get_batch);
CASK_REMOTE(queue_size);
CASK_REMOTE(queue_put_text);
CASK_REMOTE(variable_set);
CASK_REMOTE(variable_get);
CASK_REMOTE(lock_hold);
CASK_REMOTE(lock_try);
CASK_REMOTE(lock_release_unheld);
CASK_REMOTE(semaphore_try);
CASK_REMOTE(event_wait);
CASK_REMOTE(event_set);
CASK_REMOTE(publish);
CASK_REMOTE(subscribe_get);

}  // namespace cluster_tasks
