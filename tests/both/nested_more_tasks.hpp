// tests/both/nested_more_tasks.hpp: CASK_REMOTE tasks of the two-mode nested cases beyond
// both_tasks.hpp and tests/cluster/tasks.hpp: submitting, waiting and blocking inside tasks,
// secede/rejoin, cancelling parents, waiting on oneself. Built, like both_tasks.cpp, into
// the test binary and into the module cask_both_tasks. Tasks that must be observed while
// they block append lines to a log file; gates are files (see harness.hpp).
#pragma once

#include <string>
#include <vector>

#include <cask/cask.hpp>

namespace nested_more_tasks {

/// How a task blocks on a future.
enum BlockMode : int { block_result = 0, block_result_timeout = 1, block_wait = 2, block_as_completed = 3 };

/// Inside a task: inc(11) and add(inc(3), 1) submitted fresh, their results summed (17).
int submit_and_result(int unused);

/// Inside a task: wait() on a map of 3 fresh incs (300 + not-done count), a 50 ms
/// FIRST_COMPLETED wait on a child gated on `gate` (+10 on TimeoutError), then creates
/// `gate` itself and waits again (+1 per done future): 311 when all is right.
int wait_with_timeout(std::string gate, std::string log);

/// Inside a task: inc over 0..n-1 (fresh), summed through as_completed: n(n+1)/2.
int as_completed_sum(int n);

/// Takes a Future<int> from Queue<Future<int>>{queue} and returns twice its result.
int double_from_queue(std::string queue);

/// Inside a task: a = inc(x) fresh, b = add(a, 10) with a as argument; returns b.result().
int chain_inside(int x);

/// Returns the fresh future of gated(gate, log, value, 20000), without waiting for it.
cask::Future<int> start_gated(std::string gate, std::string log, int value);

/// Returns the fresh futures of inc(1) .. inc(n), without waiting for them.
std::vector<cask::Future<int>> start_incs(int n);

/// Fibonacci that submits both children (fresh keys) and blocks on them.
int fib(int n);

/// Submits inc(x) fresh and returns its result + 1 (x + 2).
int one_child(int x);

/// secede(), appends "seceded" to `log`, waits for `gate1`, rejoin(), appends "rejoined",
/// then waits for `gate2` holding its slot again; returns 1 (-1 when a gate never came).
int rejoin_then_hold(std::string gate1, std::string gate2, std::string log);

/// rejoin() without secede, secede() twice, rejoin() twice; returns 1.
int secede_rejoin_repeated(int unused);

/// secede() and return `value` without rejoining.
int end_seceded(int value);

/// Submits gated(gate, log, 1, 20000) fresh and blocks on it as `mode` says; appends
/// "left" to `parent_log` when its body is left (normally or by an exception).
int parent_blocking_on_gated(std::string gate, std::string log, std::string parent_log, int mode);

/// Submits parent_blocking_on_gated(gate, log, parent_log, block_result) fresh and returns
/// its result: a grandchild blocked on the gate.
int grandparent_of_gated(std::string gate, std::string log, std::string parent_log);

/// Submits gated(gate, log, 7, 20000) fresh, puts its future into Queue<Future<int>>{queue}
/// (someone else holds it too), and returns its result; appends "left" to `parent_log` when
/// its body is left.
int parent_sharing_gated(std::string queue, std::string gate, std::string log, std::string parent_log);

/// Takes its own future from Queue<Future<int>>{queue} and blocks on it as `mode` says.
int block_on_own_future(std::string queue, int mode);

/// A pure task that submits itself with the same argument: the same key, its own future.
int waits_for_own_key(int x);

}  // namespace nested_more_tasks
