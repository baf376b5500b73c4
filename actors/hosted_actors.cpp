#include "actors/hosted_actors.hpp"

#include <mutex>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "actors/actor_host.hpp"
#include "actors/cluster_protocols.hpp"
#include "cask/errors.hpp"
#include "cask/remote_actor.hpp"
#include "runtime/client_state.hpp"
#include "runtime/remote_actor.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {
namespace {

struct Hosted {
  actor_host host;
  std::shared_ptr<ClientState> client;  // the worker's own client: the host lives in it
  std::string type;
};

/// A call queued or running on a host.
struct Running {
  JobPtr job;
  CorePtr core;  // completed by the host; its subscriber sends the outcome
};

struct Table {
  std::mutex mu;
  std::unordered_map<std::string, Hosted> actors;  // by constructor task key
  std::unordered_map<std::string, Running> calls;  // by call key
};

Table& table() {
  static Table* t = new Table;  // never destroyed: hosts may finish calls during exit
  return *t;
}

void send_outcome(const caf::actor& to, WireOutcome o) {
  caf::anon_send(caf::actor_cast<outcome_listener_actor>(to), outcome_atom::value,
                 std::vector<WireOutcome>{std::move(o)});
}

WireOutcome error_outcome(const std::string& key, const std::exception_ptr& error) {
  WireOutcome o;
  o.key = key;
  o.status = WireStatus::error;
  o.error = encode_error(error);
  return o;
}

/// Sends a call's outcome to its caller once the host has completed the call's core.
class OutcomeSender : public Subscriber {
 public:
  OutcomeSender(std::weak_ptr<FutureCore> core, caf::actor reply_to)
      : core_(std::move(core)), reply_to_(std::move(reply_to)) {}

  void on_complete(std::size_t) override {
    auto core = core_.lock();
    if (!core) return;
    {
      std::lock_guard lk(table().mu);
      table().calls.erase(core->key());
    }
    WireOutcome o;
    o.key = core->key();
    switch (core->status()) {
      case Status::finished: {
        o.status = WireStatus::finished;
        o.has_value = true;
        o.value = SharedBytes(std::static_pointer_cast<const Bytes>(core->value()));
        break;
      }
      case Status::error:
        o = error_outcome(o.key, core->exception());
        break;
      default:
        o.status = WireStatus::cancelled;
        o.reason = "the call was cancelled on its worker";
        break;
    }
    send_outcome(reply_to_, std::move(o));
  }

 private:
  std::weak_ptr<FutureCore> core_;
  caf::actor reply_to_;
};

std::exception_ptr method_error(const Hosted& h, const WireActorCall& c, const ActorMethod* m) {
  if (c.type != h.type)
    return std::make_exception_ptr(Error("cask::Error: actor " + c.actor + " is a " + h.type +
                                         ", not a " + c.type));
  if (!m)
    return std::make_exception_ptr(NotRegisteredError(
        "cask::NotRegisteredError: " + h.type + "." + c.method +
        " is not registered on this worker (list it in CASK_ACTOR(" + h.type + ", ...))"));
  if (m->signature != c.signature)
    return std::make_exception_ptr(NotRegisteredError(
        "cask::NotRegisteredError: " + h.type + "." + c.method + " is " + m->signature +
        " on this worker but was called as " + c.signature));
  return nullptr;
}

Bytes lookup_missing_actor(std::span<const ByteView> args) {
  auto [name] = decode_params<std::string>(args, kLookupFunction);
  throw Error("cask::Error: no live actor is named \"" + name + "\" (or has that key)");
}
// Here, in the worker's code, so that every worker has it.
const RemoteRegistrar lookup_registrar{
    RemoteFunction{kLookupFunction, kLookupSignature, &lookup_missing_actor, nullptr}};

}  // namespace

Bytes host_remote_instance(std::shared_ptr<void> instance, const std::string& type,
                           const std::string& token) {
  TaskContext* task = current_task();
  if (!task || !task->job || !task->pool || !task->client)
    throw Error("cask::Error: actors are created with Client::submit_actor");
  const std::string key = *task->job->key;
  auto client = task->client->shared_from_this();
  auto host = client->spawn_host(task->pool, key, Value(std::move(instance)));
  actor_host replaced;
  {
    std::lock_guard lk(table().mu);
    auto& entry = table().actors[key];
    replaced = std::exchange(entry.host, host);
    entry.client = client;
    entry.type = type;
  }
  if (replaced) client->send_to(replaced, release_atom::value);  // the key was computed again
  return to_bytes(nlohmann::json{{"key", key}, {"type", type}, {"token", token}});
}

namespace hosted_actors {

void call(WireActorCall& c) {
  Hosted h;
  {
    std::lock_guard lk(table().mu);
    auto it = table().actors.find(c.actor);
    if (it != table().actors.end()) h = it->second;
  }
  if (!h.host)
    return send_outcome(c.reply_to, error_outcome(c.key, released_error(c.actor)));
  const ActorMethod* method = actor_registry::find(h.type, c.method);
  if (auto error = method_error(h, c, method)) return send_outcome(c.reply_to, error_outcome(c.key, error));
  auto job = std::make_shared<Job>();
  job->key = std::make_shared<const std::string>(c.key);
  job->fn = [method, args = std::move(c.args)](std::span<const Value> in) -> Value {
    // The host passes the instance as the call's only input; it is the worker's own T.
    return std::make_shared<const Bytes>(method->invoke(const_cast<void*>(in[0].get()), args));
  };
  auto core = std::make_shared<FutureCore>(h.client, c.key, h.type + "." + c.method, typeid(Bytes));
  core->set_direct(job);  // not a task of the scheduler: nothing to release there
  job->submitter = core;
  {
    std::lock_guard lk(table().mu);
    table().calls[c.key] = Running{job, core};
  }
  core->subscribe(std::make_shared<OutcomeSender>(core, c.reply_to), 0);
  if (!h.client->send_to(h.host, call_atom::value, job))
    core->complete(Status::error, nullptr,
                   std::make_exception_ptr(CommError("cask::CommError: the worker is stopping")));
}

void cancel_call(const std::string& call_key) {
  JobPtr job;
  {
    std::lock_guard lk(table().mu);
    auto it = table().calls.find(call_key);
    if (it == table().calls.end()) return;
    job = it->second.job;
  }
  job->cancel();
}

void cancel(const std::string& actor_key) {
  Hosted h;
  {
    std::lock_guard lk(table().mu);
    auto it = table().actors.find(actor_key);
    if (it == table().actors.end()) return;
    h = std::move(it->second);
    table().actors.erase(it);
  }
  h.client->send_to(h.host, cancel_atom::value);
  // Then quit: dropping the last handle of a live host would end it as "unreachable", an
  // error that its link passes on to the client's supervisor (and everything linked to it).
  h.client->send_to(h.host, release_atom::value);
}

void release(const std::vector<std::string>& keys) {
  std::vector<Hosted> gone;
  {
    std::lock_guard lk(table().mu);
    if (table().actors.empty()) return;  // every free message passes here: most workers host none
    for (const auto& k : keys)
      if (auto it = table().actors.find(k); it != table().actors.end()) {
        gone.push_back(std::move(it->second));
        table().actors.erase(it);
      }
  }
  for (auto& h : gone) h.client->send_to(h.host, release_atom::value);
}

}  // namespace hosted_actors
}  // namespace cask::detail
