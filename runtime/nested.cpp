// get_client, secede, rejoin, and the "current client" they fall back on.
#include "cask/nested.hpp"

#include <mutex>

#include "runtime/client_state.hpp"
#include "runtime/execution_pool.hpp"
#include "runtime/task_context.hpp"

namespace cask {
namespace detail {
namespace {
std::mutex g_clients_mu;
std::vector<std::weak_ptr<ClientState>> g_clients;  // owning Clients, oldest first
}  // namespace

void set_default_client(const std::shared_ptr<ClientState>& state) {
  std::lock_guard lk(g_clients_mu);
  std::erase_if(g_clients, [](const auto& w) { return w.expired(); });
  g_clients.push_back(state);
}

std::shared_ptr<ClientState> default_client() {
  std::lock_guard lk(g_clients_mu);
  for (auto it = g_clients.rbegin(); it != g_clients.rend(); ++it)
    if (auto s = it->lock(); s && s->is_open()) return s;
  return nullptr;
}
}  // namespace detail

Client get_client() {
  if (auto* task = detail::current_task(); task && task->client)
    return Client(task->client->shared_from_this());
  if (auto state = detail::default_client()) return Client(std::move(state));
  throw Error("cask::get_client: not inside a task and no Client exists");
}

void secede() {
  auto* task = detail::current_task();
  if (!task || !task->pool || task->seceded) return;
  task->seceded = true;
  task->pool->secede();
}

void rejoin() {
  auto* task = detail::current_task();
  if (!task || !task->pool || !task->seceded) return;
  task->pool->rejoin();
  task->seceded = false;
}

}  // namespace cask
