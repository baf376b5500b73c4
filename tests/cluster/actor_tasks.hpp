// tests/cluster/actor_tasks.hpp: the CASK_ACTOR types of the cluster-mode actor tests.
//
// actor_tasks.cpp is compiled into the test binary (so that submit_actor and call find
// their registrations) and into cask_test_tasks, which the tests' workers preload (so that
// the workers construct and run them by name). In the preloaded copy, CASK_TEST_WORKER_BUILD
// is defined: Counter::scale has another signature there, which the signature-mismatch
// test relies on.
#pragma once

#include <string>

#include <cask/cask.hpp>

namespace cluster_tasks {

/// A counter whose calls are observable from the test process.
struct Counter {
  int n = 0;
  Counter() = default;
  explicit Counter(int start) : n(start) {}
  Counter(int a, int b) : n(a * b) {}  // not registered
  int increment() { return ++n; }
  int add(int k) { return n += k; }
  int get() const { return n; }
  /// Throws TaskFailure("negative <k>") when k < 0; otherwise adds k.
  int fail_if(int k);
  /// Blocks the actor (and so every call behind it) until the file `gate` exists, as
  /// cluster_tasks::gated does; appends "start"/"done"/"stopped" to `log`; returns n.
  int hold(std::string gate, std::string log);
  /// The process running the call (which worker hosts the instance).
  int pid() const;
#ifdef CASK_TEST_WORKER_BUILD
  int scale(std::string factor);
#else
  int scale(int factor);
#endif
  /// Not listed in CASK_ACTOR.
  int unlisted() { return -1; }
};

/// Appends "destroyed" to its log when destroyed (on its worker); not default-constructible.
struct Tracker {
  std::string log;
  explicit Tracker(std::string log_path);
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;
  std::string ping() { return "pong"; }
};

/// No CASK_ACTOR at all.
struct Unlisted {
  int f() { return 1; }
};

/// A task: looks up the named Counter from inside the task (get_client().get_actor),
/// increments it `times` times and returns its value.
int bump_named(std::string name, int times);

/// A task given an actor handle as its argument: adds k through it, returns the result.
int add_through(cask::Actor<Counter> counter, int k);

}  // namespace cluster_tasks
