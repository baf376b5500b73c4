// tests/both/coord_actor_tasks.cpp: the functions of coord_actor_tasks.hpp, registered with
// CASK_REMOTE / CASK_ACTOR.
#include "coord_actor_tasks.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include <cask/cask.hpp>

#include "tasks.hpp"

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

int queue_put_via_get_client(std::string queue, int value) {
  cask::Client client = cask::get_client();
  cask::Queue<int>{queue, client}.put(value);
  return value;
}

int queue_put_range(std::string queue, int first, int n) {
  cask::Queue<int> q{queue};
  for (int i = 0; i < n; ++i) q.put(first + i);
  return n;
}

int queue_put_then_get(std::string queue, int value) {
  cask::Queue<int> q{queue};
  q.put(value);
  return q.get();
}

int queue_sum(std::string queue, int n) {
  cask::Queue<int> q{queue};
  int total = 0;
  for (int i = 0; i < n; ++i) total += q.get();
  return total;
}

int queue_get_noting_cancel(std::string queue, std::string log) {
  cask::Queue<int> q{queue};
  append(log, "waiting");
  try {
    return q.get();
  } catch (const cask::CancelledError&) {
    append(log, "cancelled");
    throw;
  }
}

int queue_get_batch_logged(std::string queue, int n, std::string log) {
  cask::Queue<int> q{queue};
  append(log, "waiting");
  return static_cast<int>(q.get_batch(static_cast<std::size_t>(n)).size());
}

int queue_put_inc_futures(std::string queue, int n) {
  cask::Client client = cask::get_client();
  cask::Queue<cask::Future<int>> out{queue, client};
  cask::options fresh;
  fresh.pure = false;
  for (int i = 1; i <= n; ++i) out.put(client.submit(fresh, cluster_tasks::inc, i));
  return n;
}

int Recorder::throw_non_std() { throw 42; }

Keyed::Keyed(int v) : value(v), ctor_key(cask::this_task::key()) {}

ThrowingCtor::ThrowingCtor(int code) { throw std::invalid_argument("constructor failed " + std::to_string(code)); }

int increments_in_order(cask::Actor<cluster_tasks::Counter> counter, int calls) {
  std::vector<cask::Future<int>> fs;
  for (int i = 0; i < calls; ++i) fs.push_back(counter.call(&cluster_tasks::Counter::increment));
  int last = 0, in_order = 1;
  for (auto& f : fs) {
    const int v = f.result();
    if (v <= last) in_order = 0;
    last = v;
  }
  return in_order;
}

int increments_waited(cask::Actor<cluster_tasks::Counter> counter, int calls) {
  int last = 0;
  for (int i = 0; i < calls; ++i) last = counter.call(&cluster_tasks::Counter::increment).result();
  return last;
}

std::vector<std::string> notes_sent(cask::Actor<Recorder> recorder, int n) {
  for (int i = 0; i < n; ++i) (void)recorder.call(&Recorder::note, std::to_string(i));
  return recorder.call(&Recorder::notes).result();
}

std::string ping_after_gate(cask::Actor<cluster_tasks::Tracker> tracker, std::string gate) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(gate)) {
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("ping_after_gate: no gate " + gate);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return tracker.call(&cluster_tasks::Tracker::ping).result();
}

CASK_REMOTE(lock_then_fail);
CASK_REMOTE(lock_until_stopped);
CASK_REMOTE(locked_section);
CASK_REMOTE(semaphore_then_fail);
CASK_REMOTE(variable_get_logged);
CASK_REMOTE(publish_many);
CASK_REMOTE(queue_put_via_get_client);
CASK_REMOTE(queue_put_range);
CASK_REMOTE(queue_put_then_get);
CASK_REMOTE(queue_sum);
CASK_REMOTE(queue_get_noting_cancel);
CASK_REMOTE(queue_get_batch_logged);
CASK_REMOTE(queue_put_inc_futures);
CASK_ACTOR(Recorder, note, notes, throw_non_std);
CASK_ACTOR(Keyed, get, add, task_key);
CASK_ACTOR_INIT(Keyed, int);
CASK_ACTOR(ThrowingCtor, get);
CASK_ACTOR_INIT(ThrowingCtor, int);
CASK_REMOTE(increments_in_order);
CASK_REMOTE(increments_waited);
CASK_REMOTE(notes_sent);
CASK_REMOTE(ping_after_gate);

}  // namespace both_tasks
