// tests/both/coord_more_tasks.hpp: the tasks the two-mode Lock, Semaphore, Event, Variable
// and Pub/Sub cases need beyond tests/cluster/coord_tasks.hpp and coord_actor_tasks.hpp.
// Built, like both_tasks.cpp, into the test binary and into the module cask_both_tasks.
// Tasks that must be observed while they block append a line to a log file first.
#pragma once

#include <string>

namespace coord_more_tasks {

/// Appends "waiting" to `log`, then Lock{lock}.acquire() without a timeout, release();
/// returns 1.
int lock_wait_logged(std::string lock, std::string log);

/// Lock{lock}.acquire() then release(), appends "released" to `log`, waits for the file
/// `gate` (at most 20 s), then throws std::runtime_error("failed after releasing"): a task
/// that fails holding nothing must release nothing.
int lock_release_then_fail(std::string lock, std::string log, std::string gate);

/// Under Lock{lock}: appends "locked" to `log`, then waits for Event{event} to be set
/// (handing its slot back meanwhile, like any coordination wait); returns 1.
int lock_hold_until_event(std::string lock, std::string log, std::string event);

/// Lock{lock}.acquire(), then throws std::runtime_error("failed holding <lock>"), with no
/// log: with retries, every run takes the lock again.
int lock_then_throw(std::string lock);

/// Under one lease of Semaphore{name, max}: appends "in" to `log`, secedes (so a broken
/// semaphore could admit more holders than the pool has slots), waits until the log holds
/// at least `max` "in" lines (at most 20 s), rejoins, appends "out", and returns 1 when it
/// saw `max` holders in, 0 when it gave up waiting.
int semaphore_wait_until_full(std::string name, int max, std::string log);

/// Semaphore{name, max}.release() without a lease: throws cask::Error.
int semaphore_release_unheld(std::string name, int max);

/// Opens Semaphore{name, max} (throws cask::Error on another max); returns 1.
int semaphore_open(std::string name, int max);

/// Takes one lease of Semaphore{name, max} and returns get_value(); the handle (and its
/// lease) goes when the task returns.
int semaphore_hold_and_return(std::string name, int max);

/// Takes one lease of Semaphore{name, max}, appends "holding" to `log`, then waits for its
/// stop token (at most 20 s, then throws); returns -1 when stopped.
int semaphore_until_stopped(std::string name, int max, std::string log);

/// Takes two leases of Semaphore{name, max}, gives one back, then throws
/// std::runtime_error("failed holding one of two").
int semaphore_take_two_give_one_fail(std::string name, int max);

/// Appends "waiting" to `log`, then one lease of Semaphore{name, max} without a timeout,
/// released at once; returns 1.
int semaphore_wait_logged(std::string name, int max, std::string log);

/// Event{name}.is_set(): 1 or 0.
int event_is_set(std::string name);
/// Event{name}.clear(); returns 1.
int event_clear(std::string name);
/// Appends "waiting" to `log`, then Event{name}.wait(20 ms) and wait(30 s): returns
/// 10 * first + second (1 when only the second saw it set).
int event_wait_twice(std::string name, std::string log);
/// Appends "waiting" to `log`, then Event{name}.wait() without a timeout; appends
/// "cancelled" when the wait ends in cask::CancelledError (rethrown). Returns 1 when set.
int event_wait_logging_cancel(std::string name, std::string log);

/// Variable<std::string>{name}.erase(); returns 1.
int variable_erase(std::string name);
/// Opens Variable<double>{name}: a type mismatch when it holds another type.
int variable_open_double(std::string name);
/// Appends "waiting" to `log`, then Variable<std::string>{name}.get() without a timeout;
/// appends "cancelled" when the get ends in cask::CancelledError (rethrown).
std::string variable_get_logging_cancel(std::string name, std::string log);
/// Variable<int>{name}.set(t * 1000 + i) for i = 1 .. n; returns t.
int variable_set_many(std::string name, int t, int n);

/// Sub<int>{topic}, appends "subscribed" to `log`, then sums the messages (range-for) until
/// a negative one.
int subscribe_sum_until_negative(std::string topic, std::string log);
/// Pub<int>{topic}: puts 1 .. n, then -1; returns n.
int publish_ints_then_end(std::string topic, int n);
/// Sub<int>{topic}, appends "subscribed" to `log`, then takes n messages (each within 20 s):
/// their sum when they were 0 .. n-1 in order, -1 otherwise.
int subscribe_in_order(std::string topic, std::string log, int n);

}  // namespace coord_more_tasks
