// tests/both/coord_actor_tasks.hpp: the tasks and the actor type the two-mode coordination
// and actor cases need beyond tests/cluster/{coord,actor}_tasks.hpp. Built, like
// both_tasks.cpp, into the test binary and into the module cask_both_tasks.
#pragma once

#include <string>
#include <vector>

namespace both_tasks {

/// Lock{lock}.acquire(), appends "locked" to `log`, then throws std::runtime_error: the lock
/// must come back when the failed task's handle goes.
int lock_then_fail(std::string lock, std::string log);

/// Lock{lock}.acquire(), appends "locked" to `log`, then holds it until the task's stop
/// token is requested (at most 20 s, then throws); returns -1 when stopped.
int lock_until_stopped(std::string lock, std::string log);

/// Under Lock{lock}, appends "enter <id>" then "leave <id>" to `log`, with 2 ms of work in
/// between (a window for another holder to interleave, were exclusion broken); returns id.
int locked_section(std::string lock, std::string log, int id);

/// Takes `leases` leases of Semaphore{name, max}, then throws std::runtime_error.
int semaphore_then_fail(std::string name, int max, int leases);

/// Appends "waiting" to `log`, then Variable<std::string>{name}.get() without a timeout.
std::string variable_get_logged(std::string name, std::string log);

/// Publishes "<tag> 0" .. "<tag> n-1" to Pub<std::string>{topic}; returns n.
int publish_many(std::string topic, std::string tag, int n);

/// An actor with a void method and a method throwing a non-std exception.
struct Recorder {
  std::vector<std::string> lines;
  void note(std::string line) { lines.push_back(std::move(line)); }
  std::vector<std::string> notes() const { return lines; }
  /// Throws the int 42.
  int throw_non_std();
};

}  // namespace both_tasks
