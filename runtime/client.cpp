#include "cask/client.hpp"

#include <algorithm>
#include <cstdlib>

#include "cask/this_task.hpp"
#include "runtime/client_state.hpp"

namespace cask {
namespace {
// Submissions per scheduler message: big enough to amortise the message, small enough
// that the scheduler stays responsive while a huge map is being admitted.
constexpr std::size_t kBatch = 1024;

std::uintptr_t holder_of(const detail::CorePtr& core) {
  return reinterpret_cast<std::uintptr_t>(core.get());
}

/// Work submitted from inside a task inherits the task's deadline unless it has its own.
void inherit_deadline(detail::TaskSpec& spec) {
  if (!spec.deadline)
    if (auto d = this_task::deadline()) spec.deadline = d;
}
}  // namespace

namespace {
ClientOptions from_environment() {
  ClientOptions opts;
  if (const char* address = std::getenv("CASK_SCHEDULER_ADDRESS"); address && *address)
    opts.address = address;
  return opts;
}
}  // namespace

Client::Client() : Client(from_environment()) {}

Client::Client(ClientOptions opts)
    : state_(std::make_shared<detail::ClientState>(opts)), remote_(state_->remote()) {
  detail::set_default_client(state_);
}

Client::~Client() {
  if (state_ && owner_) state_->close();
}

detail::CorePtr Client::submit_one(detail::TaskSpec spec) {
  inherit_deadline(spec);
  auto core = std::make_shared<detail::FutureCore>(state_, spec.key, spec.name, *spec.type);
  auto batch = std::make_shared<std::vector<detail::Submission>>();
  batch->push_back(detail::Submission{std::move(spec), core->shared_key(), core, holder_of(core)});
  state_->submit(std::move(batch));
  return core;
}

std::vector<detail::CorePtr> Client::submit_many(std::vector<detail::TaskSpec> specs) {
  std::vector<detail::CorePtr> cores;
  cores.reserve(specs.size());
  for (std::size_t begin = 0; begin < specs.size(); begin += kBatch) {
    const std::size_t end = std::min(specs.size(), begin + kBatch);
    auto batch = std::make_shared<std::vector<detail::Submission>>();
    batch->reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) {
      auto& spec = specs[i];
      inherit_deadline(spec);
      auto core = std::make_shared<detail::FutureCore>(state_, spec.key, spec.name, *spec.type);
      batch->push_back(detail::Submission{std::move(spec), core->shared_key(), core, holder_of(core)});
      cores.push_back(std::move(core));
    }
    state_->submit(std::move(batch));
  }
  return cores;
}

detail::CorePtr Client::scatter_value(std::string key, const std::type_info& type, detail::Value v) {
  auto core = std::make_shared<detail::FutureCore>(state_, key, detail::type_name(type), type);
  core->complete(Status::finished, v, nullptr);  // it is local data: done at once
  state_->scatter(core, std::move(v));
  return core;
}

ClusterStats Client::stats() const { return state_->stats(); }

namespace detail {
void fire_and_forget(const std::vector<CorePtr>& cores) {
  // Group by client: one message per cluster.
  std::vector<std::pair<ClientState*, std::vector<std::string>>> groups;
  for (const auto& c : cores) {
    if (!c) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == c->client().get(); });
    if (it == groups.end()) it = groups.insert(groups.end(), {c->client().get(), {}});
    it->second.push_back(c->key());
  }
  for (auto& [client, keys] : groups) client->fire_and_forget(std::move(keys));
}
}  // namespace detail

}  // namespace cask
