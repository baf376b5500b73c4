// Futures crossing processes inside coordination values: the thread's scope and the
// claim of a received key (see cask/detail/future_wire.hpp).
#include "cask/detail/future_wire.hpp"

#include "actors/cluster_protocols.hpp"
#include "cask/errors.hpp"
#include "cask/detail/task_spec.hpp"
#include "runtime/client_state.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {
namespace {

thread_local FutureWireScope* g_scope = nullptr;

/// "slow" for "slow-3f2a...": what the received future prints as its function.
std::string name_of(const std::string& key) {
  const auto dash = key.rfind('-');
  return dash == std::string::npos || dash == 0 ? key : key.substr(0, dash);
}

}  // namespace

FutureWireScope::FutureWireScope(std::shared_ptr<ClientState> client) noexcept
    : client_(std::move(client)), previous_(g_scope) {
  g_scope = this;
}

FutureWireScope::~FutureWireScope() { g_scope = previous_; }

void FutureWireScope::note_key(const std::string& key) {
  if (!g_scope)
    throw SerializationError("cask::SerializationError: future " + key +
                             " can cross processes only inside a Queue, Variable or Pub value; "
                             "pass it to submit as an argument of its own (a dependency)");
  g_scope->keys_.push_back(key);
}

CorePtr claim_future(const std::string& key, const std::type_info& type,
                     std::shared_ptr<const void> (*decode)(const Bytes&)) {
  std::shared_ptr<ClientState> client;
  if (g_scope) client = g_scope->client_;
  if (!client)
    if (TaskContext* task = current_task(); task && task->client) client = task->client->shared_from_this();
  if (!client) client = default_client();
  if (!client || !client->remote())
    throw Error("cask::Error: future " + key + " arrived outside a client of a remote cluster");
  // The scheduler answers the claim with the key's outcome, or as cancelled when it no
  // longer knows the key; the client releases it when the last handle goes, as any other.
  auto call = std::make_shared<RemoteCall>();
  call->function = kClaimFunction;
  call->decode = decode;
  TaskSpec spec;
  spec.key = key;
  spec.name = name_of(key);
  spec.type = &type;
  spec.remote = std::move(call);
  auto core = std::make_shared<FutureCore>(client, spec.key, spec.name, type);
  auto batch = std::make_shared<std::vector<Submission>>();
  batch->push_back(Submission{std::move(spec), core->shared_key(), core, reinterpret_cast<std::uintptr_t>(core.get())});
  client->submit(std::move(batch));
  return core;
}

}  // namespace cask::detail
