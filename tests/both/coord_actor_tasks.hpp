// tests/both/coord_actor_tasks.hpp: the tasks and the actor types the two-mode coordination
// (locks, semaphores, variables, pub/sub, queues) and actor cases need beyond
// tests/cluster/{coord,actor}_tasks.hpp. Built, like both_tasks.cpp, into the test binary
// and into the module cask_both_tasks.
#pragma once

#include <string>
#include <vector>

#include <cask/cask.hpp>

#include "actor_tasks.hpp"

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

/// Opens Queue<int>{queue} through cask::get_client() and puts `value`; returns value.
int queue_put_via_get_client(std::string queue, int value);

/// Puts first, first+1, ..., first+n-1 into Queue<int>{queue}, in that order; returns n.
int queue_put_range(std::string queue, int first, int n);

/// Queue<int>{queue}: put(value), then get() in the same task (one handle opened and
/// dropped inside the task).
int queue_put_then_get(std::string queue, int value);

/// Takes n items from Queue<int>{queue} one get() at a time; returns their sum.
int queue_sum(std::string queue, int n);

/// Appends "waiting" to `log`, then Queue<int>{queue}.get(); appends "cancelled" when the
/// get ends in a CancelledError (which it rethrows).
int queue_get_noting_cancel(std::string queue, std::string log);

/// Appends "waiting" to `log`, then Queue<int>{queue}.get_batch(n); returns the batch size.
int queue_get_batch_logged(std::string queue, int n, std::string log);

/// Submits inc(1) .. inc(n) (pure=false) from inside the task and puts their futures into
/// Queue<Future<int>>{queue}; returns n without waiting for them.
int queue_put_inc_futures(std::string queue, int n);

/// An actor with a void method and a method throwing a non-std exception.
struct Recorder {
  std::vector<std::string> lines;
  void note(std::string line) { lines.push_back(std::move(line)); }
  std::vector<std::string> notes() const { return lines; }
  /// Throws the int 42.
  int throw_non_std();
};

/// An actor remembering the key of the task that constructed it.
struct Keyed {
  int value = 0;
  std::string ctor_key;
  explicit Keyed(int v);
  int get() const { return value; }
  int add(int k) { return value += k; }
  std::string task_key() const { return ctor_key; }
};

/// An actor whose constructor throws std::invalid_argument("constructor failed <code>").
struct ThrowingCtor {
  explicit ThrowingCtor(int code);
  int get() const { return 0; }
};

/// Through the handle: `calls` pipelined increments of the counter; 1 when the values the
/// calls got back increase (they ran in the order sent), else 0.
int increments_in_order(cask::Actor<cluster_tasks::Counter> counter, int calls);

/// Through the handle: `calls` increments, each waited for; returns the last value.
int increments_waited(cask::Actor<cluster_tasks::Counter> counter, int calls);

/// Through the handle: notes "0" .. "<n-1>" with the futures dropped at once, then returns
/// the recorder's notes.
std::vector<std::string> notes_sent(cask::Actor<Recorder> recorder, int n);

/// Waits (polling, at most 20 s) for the file `gate`, then pings the tracker through the
/// handle it was given.
std::string ping_after_gate(cask::Actor<cluster_tasks::Tracker> tracker, std::string gate);

}  // namespace both_tasks
