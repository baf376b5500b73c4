// tests/cluster/actor_tasks.cpp: the actor types of the cluster tests (see actor_tasks.hpp).
#include "actor_tasks.hpp"

#include <unistd.h>

#include <fstream>

#include <cask/cask.hpp>

#include "tasks.hpp"

namespace cluster_tasks {

int Counter::fail_if(int k) {
  if (k < 0) throw TaskFailure("negative " + std::to_string(k));
  return n += k;
}

int Counter::hold(std::string gate, std::string log) {
  gated(std::move(gate), std::move(log), 0, 30000);
  return n;
}

int Counter::pid() const { return static_cast<int>(::getpid()); }

#ifdef CASK_TEST_WORKER_BUILD
int Counter::scale(std::string factor) { return n *= std::stoi(factor); }
#else
int Counter::scale(int factor) { return n *= factor; }
#endif

Tracker::Tracker(std::string log_path) : log(std::move(log_path)) {}
Tracker::~Tracker() { std::ofstream(log, std::ios::app) << "destroyed\n"; }

int bump_named(std::string name, int times) {
  auto counter = cask::get_client().get_actor<Counter>(name);
  for (int i = 0; i < times; ++i) counter.call(&Counter::increment).result();
  return counter.call(&Counter::get).result();
}

int add_through(cask::Actor<Counter> counter, int k) { return counter.call(&Counter::add, k).result(); }

CASK_ACTOR(Counter, increment, add, get, fail_if, hold, pid, scale);
CASK_ACTOR_INIT(Counter, int);
CASK_ACTOR(Tracker, ping);
CASK_ACTOR_INIT(Tracker, std::string);
CASK_REMOTE(bump_named);
CASK_REMOTE(add_through);

}  // namespace cluster_tasks
