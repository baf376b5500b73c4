// Actors on a remote cluster, the client's side: submit_actor, get_actor, calls, cancel.
#include <algorithm>
#include <future>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "actors/actor_host.hpp"
#include "cask/actor.hpp"
#include "cask/errors.hpp"
#include "runtime/client_state.hpp"
#include "runtime/remote_actor.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {
namespace {

thread_local const caf::actor* g_decoding_holder = nullptr;

// How long cancelling a remote call waits for its worker to confirm; a lost or silent
// worker lets cancel() return then (the call's future is cancelled either way).
constexpr auto kCallCancelPatience = std::chrono::seconds(10);

/// A named actor's constructor task has this key on the cluster, so that a second submit
/// of the name, or a get_actor, meets the same task (the scheduler deduplicates keys).
std::string named_key(const std::string& name) { return "actor-name:" + name; }

CorePtr submit_task(const std::shared_ptr<ClientState>& client, TaskSpec spec) {
  auto core = std::make_shared<FutureCore>(client, spec.key, spec.name, *spec.type);
  auto batch = std::make_shared<std::vector<Submission>>();
  batch->push_back(Submission{std::move(spec), core->shared_key(), core,
                              reinterpret_cast<std::uintptr_t>(core.get())});
  client->submit(std::move(batch));
  return core;
}

std::shared_ptr<RemoteCall> constructor_call(std::string function, std::string signature,
                                             std::vector<Bytes> args) {
  auto call = std::make_shared<RemoteCall>();
  call->function = std::move(function);
  call->signature = std::move(signature);
  call->args = std::move(args);
  call->decode = &decode_actor_info;
  return call;
}

/// The handle of the instance `anchor` (a finished constructor task) made. Throws the
/// task's error; cask::Error when the instance is not of `type`, or (with a token) when
/// another submit made it, i.e. the name was taken already.
std::shared_ptr<ActorRef> make_ref(const std::shared_ptr<ClientState>& client, const CorePtr& anchor,
                                   const std::string& type, const std::string& name,
                                   const std::string* token) {
  if (anchor->status() != Status::finished) std::rethrow_exception(anchor->exception());
  const auto& info = *static_cast<const RemoteActorInfo*>(anchor->value().get());
  if (token && info.token != *token)
    throw Error("cask::Error: an actor named \"" + name + "\" is alive already (a " + info.type + ")");
  if (info.type != type)
    throw Error("cask::Error: the actor named \"" + name + "\" is a " + info.type + ", not a " + type);
  if (!info.worker)
    throw Error("cask::Error: actor " + info.key + " came without the worker hosting it");
  auto link = std::make_shared<RemoteLink>();
  link->client = client;
  link->key = info.key;
  link->type = info.type;
  link->name = name;
  link->worker = info.worker;
  link->anchor = anchor;
  link->caller = client->spawn_caller(CallerInit{info.worker, info.key, {}});
  return std::make_shared<ActorRef>(std::move(link));
}

}  // namespace

HolderScope::HolderScope(const caf::actor& holder) : previous_(std::exchange(g_decoding_holder, &holder)) {}
HolderScope::~HolderScope() { g_decoding_holder = previous_; }

std::shared_ptr<const void> decode_actor_info(const Bytes& bytes) {
  const nlohmann::json j = from_bytes(bytes, "cask::Actor");
  if (!j.is_object() || !j.contains("key") || !j.contains("type") || !j.contains("token"))
    throw SerializationError("cask: cannot decode a value of type cask::Actor: expected an object "
                             "with \"key\", \"type\" and \"token\"");
  auto info = std::make_shared<RemoteActorInfo>();
  info->key = from_json_value<std::string>(j["key"], "actor key");
  info->type = from_json_value<std::string>(j["type"], "actor type");
  info->token = from_json_value<std::string>(j["token"], "actor token");
  if (g_decoding_holder) info->worker = *g_decoding_holder;
  return info;
}

RemoteLink::~RemoteLink() {
  if (caller) client->send_to(caller, release_atom::value);
}

CorePtr ActorRef::remote_anchor() const {
  if (!remote_) return nullptr;
  std::lock_guard lk(remote_->mu);
  return remote_->anchor;
}

namespace {
thread_local ActorHoldScope* g_actor_holds = nullptr;
}  // namespace

ActorHoldScope::ActorHoldScope() noexcept : previous_(g_actor_holds) { g_actor_holds = this; }
ActorHoldScope::~ActorHoldScope() { g_actor_holds = previous_; }

std::vector<CorePtr> ActorHoldScope::take() { return std::exchange(anchors_, {}); }

void ActorHoldScope::note(const ActorRef& ref) {
  if (!g_actor_holds) return;
  CorePtr anchor = ref.remote_anchor();
  if (!anchor) return;  // cancelled: the worker reports the instance gone
  auto& anchors = g_actor_holds->anchors_;
  if (std::find(anchors.begin(), anchors.end(), anchor) == anchors.end()) anchors.push_back(std::move(anchor));
}

void cancel_remote(RemoteLink& link) {
  if (link.cancelled.exchange(true)) return;
  CorePtr anchor;
  {
    std::lock_guard lk(link.mu);
    anchor = std::move(link.anchor);
  }
  // Through the caller, behind the calls it sent; it lets go of the anchor once the worker
  // has destroyed the instance (see actors/actor_caller.hpp).
  link.client->send_to(link.caller, acancel_atom::value, std::move(anchor));
}

actor_caller_actor ClientState::spawn_caller(CallerInit init) {
  std::shared_lock lk(mu_);
  if (!open_) throw CommError("cask::CommError: the client is closed");
  init.supervisor = supervisor_;
  return spawn_actor_caller(*system_, std::move(init));
}

ActorRef::ActorRef(std::shared_ptr<RemoteLink> remote)
    : key_(remote->key), type_(remote->type), name_(remote->name), remote_(std::move(remote)) {}

CorePtr ActorRef::call_remote(const void* method, const std::string& label, const std::type_info& result,
                              Bytes args, std::shared_ptr<const void> (*decode)(const Bytes&)) const {
  RemoteLink& link = *remote_;
  const ActorMethod* m = actor_registry::find(type_, method);
  if (!m)
    throw NotRegisteredError("cask::NotRegisteredError: " + type_ + "." + label +
                             " is not registered: list it in CASK_ACTOR(" + type_ +
                             ", ...) to call it on a remote cluster");
  const std::string call_name = type_ + "." + m->name;
  auto core = std::make_shared<FutureCore>(link.client, fresh_key(call_name), call_name, result);
  auto job = std::make_shared<Job>();
  job->key = core->shared_key();
  core->set_direct(job);  // cancel() cancels the job, which tells the worker
  if (link.cancelled.load(std::memory_order_acquire)) {
    core->complete(Status::error, nullptr, released_error(key_));
    return core;
  }
  auto req = std::make_shared<CallRequest>();
  req->core = core;
  req->decode = decode;
  req->job = job;
  req->wire = WireActorCall{key_, type_, m->name, m->signature, std::move(args), core->key(), {}};
  // The future may outlive every handle (and the link): the callback keeps what it uses.
  // Synchronous, like cancelling a task: cancel() returns once the worker has it, so that
  // nothing the canceller does next (say, letting the running call finish) starts the call.
  // Only Future::cancel stops this job, on the caller's thread, never a CAF one.
  req->on_cancel.emplace(job->stop.get_token(),
                         std::function<void()>([client = link.client, caller = link.caller, key = core->key()] {
                           auto ack = std::make_shared<std::promise<void>>();
                           auto settled = ack->get_future();
                           if (client->send_to(caller, ccancel_atom::value, key, std::move(ack)))
                             (void)settled.wait_for(kCallCancelPatience);
                         }));
  if (!link.client->send_to(link.caller, call_atom::value, std::move(req)))
    throw CommError("cask::CommError: the client is closed");
  return core;
}

CorePtr submit_remote_actor(const std::shared_ptr<ClientState>& client, const std::string& type,
                            const ActorConstructor& ctor, std::vector<Bytes> args,
                            const std::string& name, const std::type_info& result,
                            std::shared_ptr<const void> (*wrap)(std::shared_ptr<ActorRef>)) {
  if (!remote_registry::find(ctor.function))
    throw NotRegisteredError("cask::NotRegisteredError: actor type " + type + " has no registered constructor " +
                             ctor.function.substr(ctor.function.find(':') + 1) +
                             " (CASK_ACTOR registers T(), CASK_ACTOR_INIT(T, Args...) others)");
  const std::string token = fresh_key("token");
  args.insert(args.begin(), encode(token));
  TaskSpec spec;
  spec.key = name.empty() ? fresh_key(type) : named_key(name);
  spec.name = type;
  spec.type = &typeid(RemoteActorInfo);
  spec.remote = constructor_call(ctor.function, ctor.signature, std::move(args));
  CorePtr anchor = submit_task(client, std::move(spec));
  // The future has the constructor task's key, as the actor has (Dask: actor.key ==
  // future.key); it is not that task, so as an argument its value goes to the cluster under
  // a key of its own (direct_value_key in actors/client_proxy.cpp).
  auto future = std::make_shared<FutureCore>(client, anchor->key(), type, result);
  auto job = std::make_shared<Job>();  // stands in for the constructor: cancel() cancels it
  job->key = future->shared_key();
  future->set_direct(job);
  std::weak_ptr<FutureCore> weak = future;
  anchor->add_callback([client, anchor, weak, job, type, name, token, wrap] {
    auto future = weak.lock();
    if (!future) return;  // dropped: the anchor goes with this callback, and the instance
    if (anchor->status() != Status::finished) {
      future->complete(anchor->status(), nullptr, anchor->exception());
      return;
    }
    try {
      future->complete(Status::finished, wrap(make_ref(client, anchor, type, name, name.empty() ? nullptr : &token)),
                       nullptr);
    } catch (...) {
      future->complete(Status::error, nullptr, std::current_exception());
    }
  });
  return future;
}

namespace {
/// Meets the live task with `key` (or runs the lookup, which fails) and makes a handle.
std::shared_ptr<ActorRef> lookup(const std::shared_ptr<ClientState>& client, const std::string& key,
                                 const std::string& name, const std::string& type, const std::string& what) {
  TaskSpec spec;
  spec.key = key;
  spec.name = "get_actor";
  spec.type = &typeid(RemoteActorInfo);
  spec.remote = constructor_call(kLookupFunction, kLookupSignature, {encode(what)});
  CorePtr anchor = submit_task(client, std::move(spec));
  anchor->wait();  // inside a task, its slot is handed back meanwhile
  return make_ref(client, anchor, type, name, nullptr);
}
}  // namespace

std::shared_ptr<ActorRef> remote_actor_by_key(const std::string& key, const std::string& name,
                                              const std::string& type) {
  TaskContext* task = current_task();
  auto client = task && task->client ? task->client->shared_from_this() : default_client();
  if (!client || !client->remote())
    throw Error("cask::Error: actor " + key + " arrived outside a cluster client");
  return lookup(client, key, name, type, key);
}

std::shared_ptr<ActorRef> find_remote_actor(const std::shared_ptr<ClientState>& client, const std::string& name,
                                            const std::string& type) {
  return lookup(client, named_key(name), name, type, name);
}

}  // namespace cask::detail
