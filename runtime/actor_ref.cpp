// ActorRef: what the copies of one Actor<T> share; calls go straight to the host actor.
#include "cask/actor.hpp"

#include <atomic>

#include "actors/actor_host.hpp"
#include "actors/reply.hpp"
#include "cask/errors.hpp"
#include "runtime/client_state.hpp"
#include "runtime/remote_actor.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {

struct HostLink {
  std::shared_ptr<ClientState> client;
  actor_host host;
  std::atomic<bool> cancelled{false};
};

ActorRef::ActorRef(std::shared_ptr<void> instance, std::string type, std::string name)
    : type_(std::move(type)), name_(std::move(name)), host_(std::make_shared<HostLink>()) {
  TaskContext* task = current_task();
  if (!task || !task->job || !task->pool || !task->client)
    throw Error("cask::Error: actors are created with Client::submit_actor");
  key_ = *task->job->key;
  host_->client = task->client->shared_from_this();
  host_->host = host_->client->spawn_host(task->pool, key_, std::move(instance));
}

ActorRef::~ActorRef() {
  if (host_) host_->client->send_to(host_->host, release_atom::value);
  // remote_: the RemoteLink's destructor lets go of the instance.
}

CorePtr ActorRef::call(std::string call_name, const std::type_info& result, TaskFn fn) const {
  auto core = std::make_shared<FutureCore>(host_->client, fresh_key(call_name), std::move(call_name), result);
  auto job = std::make_shared<Job>();
  job->key = core->shared_key();
  job->fn = std::move(fn);
  job->submitter = core;
  core->set_direct(job);
  if (host_->cancelled.load(std::memory_order_acquire)) {
    core->complete(Status::error, nullptr, released_error(key_));
    return core;
  }
  if (!host_->client->send_to(host_->host, call_atom::value, std::move(job)))
    throw CommError("cask::CommError: the client is closed");
  return core;
}

void ActorRef::cancel() const {
  if (remote_) return cancel_remote(*remote_);
  if (host_->cancelled.exchange(true)) return;
  host_->client->send_to(host_->host, cancel_atom::value);
  if (!name_.empty())  // the name is free again
    host_->client->send(name_atom::value,
                        NameRequest{NameOp::remove, name_, type_, std::weak_ptr<void>(std::const_pointer_cast<ActorRef>(shared_from_this())), nullptr});
}

namespace {
std::shared_ptr<Reply> ask_registry(ClientState& client, NameRequest req) {
  auto reply = std::make_shared<Reply>();
  req.reply = std::make_shared<ReplyToken>(reply);
  if (!client.send(name_atom::value, std::move(req))) throw CommError("cask::CommError: the client is closed");
  reply->await(false);
  return reply;
}
}  // namespace

void name_actor(const std::shared_ptr<ActorRef>& ref) {
  auto* task = current_task();
  auto& client = task && task->client ? *task->client : throw Error("cask::Error: actors are named by Client::submit_actor");
  ask_registry(client, NameRequest{NameOp::add, ref->name(), ref->type(), std::weak_ptr<ActorRef>(ref), nullptr});
}

std::shared_ptr<ActorRef> find_actor(const std::shared_ptr<ClientState>& client, const std::string& name,
                                     const std::string& type) {
  auto reply = ask_registry(*client, NameRequest{NameOp::find, name, type, {}, nullptr});
  return std::static_pointer_cast<ActorRef>(reply->object);
}

}  // namespace cask::detail
