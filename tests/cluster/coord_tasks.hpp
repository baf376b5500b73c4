// tests/cluster/coord_tasks.hpp: CASK_REMOTE tasks that use coordination objects from
// inside the worker processes (their handles go through the worker's own client).
//
// Built like tasks.cpp: into the test binary and into the cask_test_tasks module every
// test worker preloads. A timeout_ms < 0 means "wait without a timeout". Tasks that must
// be observed while they block append a line to a log file first (see tasks.hpp).
#pragma once

#include <string>
#include <vector>

namespace cluster_tasks {

/// Queue<int>{queue}.put(value); returns value.
int queue_put(std::string queue, int value);
/// Queue<int>{queue}.get() (or get(timeout)); TimeoutError crosses as TimeoutError.
int queue_get(std::string queue, int timeout_ms);
/// Appends "waiting" to `log`, then queue_get(queue, -1).
int queue_get_logged(std::string queue, std::string log);
/// Queue<int>{queue}.get_batch(n).
std::vector<int> queue_get_batch(std::string queue, int n);
int queue_size(std::string queue);
/// Queue<std::string>{queue}: a type mismatch when the queue holds int.
int queue_put_text(std::string queue, std::string text);

/// Variable<std::string>{name}.set(value); returns 1.
int variable_set(std::string name, std::string value);
std::string variable_get(std::string name, int timeout_ms);

/// Lock{lock}.acquire(), appends "locked" to `log`, waits (polling) for the file `gate`
/// without releasing: the lock is released when the task's handle goes, at return.
int lock_hold(std::string lock, std::string log, std::string gate, int limit_ms);
/// Lock{lock}.acquire(timeout): 1 when acquired (then released), 0 when not.
int lock_try(std::string lock, int timeout_ms);
/// Lock{lock}.release() without holding it: throws cask::Error.
int lock_release_unheld(std::string lock);

/// Semaphore{name, max}.acquire(timeout): 1 when acquired (then released), 0 when not.
int semaphore_try(std::string name, int max, int timeout_ms);

/// Event{name}.wait(timeout): 1 when set, 0 when not in time. Appends "waiting" to `log`.
int event_wait(std::string name, std::string log, int timeout_ms);
int event_set(std::string name);

/// Pub<std::string>{topic}.put(message).
int publish(std::string topic, std::string message);
/// Sub<std::string>{topic}, appends "subscribed" to `log`, then get(timeout).
std::string subscribe_get(std::string topic, std::string log, int timeout_ms);

}  // namespace cluster_tasks
