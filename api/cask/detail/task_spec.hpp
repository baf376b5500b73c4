// cask/detail/task_spec.hpp: a task as the client hands it to the cluster.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <typeinfo>
#include <vector>

#include "cask/detail/future_core.hpp"

namespace cask::detail {

/// Runs the user's callable. `deps` holds the values of the futures the task was given as
/// arguments, in the order make_task flattened them.
using TaskFn = std::function<Value(std::span<const Value> deps)>;

struct RemoteCall;  // cask/remote.hpp: the task as a remote cluster runs it

struct TaskSpec {
  std::string key;
  std::string name;
  TaskFn fn;
  std::vector<CorePtr> deps;  // keeps the inputs referenced until the scheduler has them
  int priority = 0;
  int retries = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  const std::type_info* type = &typeid(void);
  std::shared_ptr<const RemoteCall> remote;  // set for a remote client only
};

}  // namespace cask::detail
