// CoordRef: a handle's link to the actor owning a coordination object; and the
// constructors of the non-template handles (Lock, Semaphore, Event).
#include "cask/detail/coordination.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>

#include "actors/coordination.hpp"
#include "actors/reply.hpp"
#include "cask/client.hpp"
#include "cask/errors.hpp"
#include "cask/event.hpp"
#include "cask/lock.hpp"
#include "cask/semaphore.hpp"
#include "runtime/client_state.hpp"
#include "runtime/log.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {

struct CoordChannel {
  std::shared_ptr<ClientState> client;
  coordination_actor actor;
};

namespace {

/// The client a handle without an explicit Client& belongs to: inside a task its
/// cluster's, otherwise the newest live Client.
std::shared_ptr<ClientState> current_client(Client* explicit_client) {
  if (explicit_client) return explicit_client->state();
  if (auto* task = current_task(); task && task->client) return task->client->shared_from_this();
  if (auto state = default_client()) return state;
  throw Error("cask::Error: a coordination object needs a Client (none exists)");
}

bool may_block(CoordOp op) {
  return op == CoordOp::get || op == CoordOp::get_batch || op == CoordOp::acquire || op == CoordOp::wait;
}

const char* closed = "cask::CommError: the client is closed";

}  // namespace

CoordRef::CoordRef(Client* client, CoordKind kind, std::string name, std::string type, std::size_t limit,
                   bool crossable)
    : kind_(kind), name_(std::move(name)) {
  auto state = current_client(client);
  remote_ = state->remote();
  if (remote_ && !crossable)
    throw SerializationError("cask::SerializationError: " + std::string(kind_name(kind)) + " '" + name_ +
                             "' holds " + type + ", which cannot cross processes to the remote cluster: "
                             "the type has no to_json/from_json");
  auto reply = std::make_shared<Reply>();
  OpenRequest req{kind, name_, std::move(type), limit, std::make_shared<ReplyToken>(reply)};
  if (!state->send(open_atom::value, std::move(req))) throw CommError(closed);
  reply->await(false);
  channel_ = std::make_shared<CoordChannel>(CoordChannel{std::move(state), std::move(reply->actor)});
}

const std::shared_ptr<ClientState>& CoordRef::client() const noexcept { return channel_->client; }

CoordRef::~CoordRef() {
  if (channel_) channel_->client->send_to(channel_->actor, detach_atom::value, reinterpret_cast<std::uintptr_t>(this));
}

CoordAnswer CoordRef::call(CoordOp op, Value value, std::size_t count, std::optional<std::chrono::nanoseconds> timeout) {
  const auto holder = reinterpret_cast<std::uintptr_t>(this);
  auto reply = std::make_shared<Reply>();
  if (may_block(op)) {
    // A caller that gives up (its task was cancelled) tells the object, so that the
    // requests waiting behind its own are served now. A remote object hears it through
    // its stand-in, which also makes sure nothing is taken for it there
    // (actors/cluster_objects.hpp).
    reply->on_abandon = [to = channel_->actor.address(), remote = remote_,
                         id = std::uint64_t(reinterpret_cast<std::uintptr_t>(reply.get()))] {
      try {
        auto actor = caf::actor_cast<caf::actor>(to);
        if (!actor) return;
        if (remote)
          caf::anon_send(actor, cancel_atom::value, id);
        else
          caf::anon_send(actor, cancel_atom::value);
      } catch (const std::exception& e) {  // abandon() must not throw
        log::warn(std::string("cannot tell an object that a request was given up: ") + e.what());
      }
    };
  }
  CoordRequest req{op, std::move(value), count, holder, timeout, std::make_shared<ReplyToken>(reply)};
  if (!channel_->client->send_to(channel_->actor, coord_atom::value, std::move(req))) throw CommError(closed);
  reply->await(may_block(op));
  if (op == CoordOp::acquire && reply->answer.flag) count_lease(+1);
  if (op == CoordOp::release) count_lease(-1);
  return std::move(reply->answer);
}

void CoordRef::count_lease(int delta) {
  // A task that fails while holding leases it took gives them back (it cannot release them
  // any more); leases the handle holds for others (the client, another task) stay.
  TaskContext* task = current_task();
  if (!task || !task->job) return;
  const auto holder = reinterpret_cast<std::uintptr_t>(this);
  auto it = std::find_if(task->leases.begin(), task->leases.end(), [&](const auto& l) { return l.first == holder; });
  if (it == task->leases.end()) {
    if (delta < 0) return;
    task->leases.emplace_back(holder, 0);
    it = std::prev(task->leases.end());
    task->on_failure.push_back([task, holder, channel = std::weak_ptr<CoordChannel>(channel_)] {
      auto c = channel.lock();
      if (!c) return;  // the handle is gone: its destructor gave everything back
      for (const auto& [h, n] : task->leases)
        if (h == holder)
          for (int i = 0; i < n; ++i)
            c->client->send_to(c->actor, coord_atom::value, CoordRequest{CoordOp::release, nullptr, 0, holder, {}, nullptr});
    });
  }
  it->second = std::max(0, it->second + delta);
}

void CoordRef::tell(CoordOp op, Value value) {
  // A value naming futures waits until the object's process holds their keys: otherwise
  // the putter could drop its last handle and release a key before the hold arrives.
  if (remote_ && std::get_deleter<FutureKeys>(value)) {
    call(op, std::move(value));
    return;
  }
  CoordRequest req{op, std::move(value), 0, reinterpret_cast<std::uintptr_t>(this), {}, nullptr};
  if (!channel_->client->send_to(channel_->actor, coord_atom::value, std::move(req))) throw CommError(closed);
}

}  // namespace cask::detail

namespace cask {

Lock::Lock(std::string name)
    : ref_(std::make_shared<detail::CoordRef>(nullptr, detail::CoordKind::lock, std::move(name), "", 1)) {}
Lock::Lock(std::string name, Client& client)
    : ref_(std::make_shared<detail::CoordRef>(&client, detail::CoordKind::lock, std::move(name), "", 1)) {}

namespace {
std::size_t checked_leases(std::size_t max_leases) {
  if (max_leases == 0) throw Error("cask::Error: a Semaphore needs max_leases >= 1");
  return max_leases;
}
}  // namespace

Semaphore::Semaphore(std::string name, std::size_t max_leases)
    : max_(checked_leases(max_leases)),
      ref_(std::make_shared<detail::CoordRef>(nullptr, detail::CoordKind::semaphore, std::move(name), "", max_)) {}
Semaphore::Semaphore(std::string name, std::size_t max_leases, Client& client)
    : max_(checked_leases(max_leases)),
      ref_(std::make_shared<detail::CoordRef>(&client, detail::CoordKind::semaphore, std::move(name), "", max_)) {}

Event::Event(std::string name)
    : ref_(std::make_shared<detail::CoordRef>(nullptr, detail::CoordKind::event, std::move(name), "", 0)) {}
Event::Event(std::string name, Client& client)
    : ref_(std::make_shared<detail::CoordRef>(&client, detail::CoordKind::event, std::move(name), "", 0)) {}

}  // namespace cask
