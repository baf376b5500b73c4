// tests/cluster/future_tasks.hpp: CASK_REMOTE tasks that take futures out of coordination
// objects inside the worker processes (built like coord_tasks.cpp: into the test binary
// and into the cask_test_tasks module every test worker preloads).
#pragma once

#include <string>

namespace cluster_tasks {

/// Variable<Future<int>>{name}.get() (at most 10 s), then a nested submit(add, f, delta)
/// with the received future as a dependency; returns that task's result.
int variable_future_plus(std::string name, int delta);

/// Queue<Future<int>>{queue}.get() (at most 10 s), returns its result().
int queue_future_result(std::string queue);

}  // namespace cluster_tasks
