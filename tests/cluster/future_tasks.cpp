// tests/cluster/future_tasks.cpp: see future_tasks.hpp.
#include "future_tasks.hpp"

#include <chrono>

#include <cask/cask.hpp>

#include "tasks.hpp"

namespace cluster_tasks {

namespace {
constexpr auto kWait = std::chrono::seconds(10);
}

int variable_future_plus(std::string name, int delta) {
  cask::Future<int> f = cask::Variable<cask::Future<int>>{name}.get(kWait);
  return cask::get_client().submit(add, f, delta).result(kWait);
}

int queue_future_result(std::string queue) {
  return cask::Queue<cask::Future<int>>{queue}.get(kWait).result(kWait);
}

CASK_REMOTE(variable_future_plus);
CASK_REMOTE(queue_future_result);

}  // namespace cluster_tasks
