// The objects gateway of a cluster scheduler: opens coordination objects for handles in
// other processes and relays their operations to the object actors (see the header).
#include "actors/cluster_objects.hpp"

#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/cluster_protocols.hpp"
#include "actors/registry.hpp"
#include "actors/reply.hpp"
#include "cask/errors.hpp"
#include "runtime/log.hpp"

namespace cask::detail {

void put_error(WireCoordAnswer& answer, const std::exception_ptr& error) {
  auto kind = WireCoordError::error;
  try {
    std::rethrow_exception(error);
  } catch (const TimeoutError& e) {
    kind = WireCoordError::timeout;
    answer.error = e.what();
  } catch (const CommError& e) {
    kind = WireCoordError::comm;
    answer.error = e.what();
  } catch (const SerializationError& e) {
    kind = WireCoordError::serialization;
    answer.error = e.what();
  } catch (const std::exception& e) {
    answer.error = e.what();
  } catch (...) {
    answer.error = "cask::Error: unknown error";
  }
  answer.error_kind = static_cast<std::uint8_t>(kind);
}

std::exception_ptr error_of(const WireCoordAnswer& answer) {
  switch (static_cast<WireCoordError>(answer.error_kind)) {
    case WireCoordError::none: return nullptr;
    case WireCoordError::timeout: return std::make_exception_ptr(TimeoutError(answer.error));
    case WireCoordError::comm: return std::make_exception_ptr(CommError(answer.error));
    case WireCoordError::serialization: return std::make_exception_ptr(SerializationError(answer.error));
    default: return std::make_exception_ptr(Error(answer.error));
  }
}

namespace {

constexpr auto kLastOp = CoordOp::subscribe;
constexpr auto kLastKind = CoordKind::topic;

/// One handle in another process: its object and the requests it may still cancel.
struct RemoteHandle {
  coordination_actor object;
  caf::actor_addr owner;  // the stand-in
  caf::actor client;      // its client proxy
  std::unordered_map<std::uint64_t, std::weak_ptr<Reply>> waiting;
  std::size_t pruned_at = 0;  // size of `waiting` after the last sweep of answered ones
};

struct GatewayState {
  GatewayState() = default;  // not an aggregate: CAF would construct it from the actor pointer
  caf::actor scheduler;
  Registry registry;
  std::unordered_map<std::uint64_t, RemoteHandle> handles;
  std::unordered_map<caf::actor_addr, std::uint64_t> by_owner;
  std::uint64_t next_handle = 1;
};

using self_ptr = cluster_objects_actor::stateful_pointer<GatewayState>;

const Bytes& bytes_of(const Value& v) { return *static_cast<const Bytes*>(v.get()); }

/// The deleter of a stored value that names futures: their keys stay held on the
/// scheduler as long as the value exists.
struct HeldKeys {
  caf::actor scheduler;
  std::vector<std::string> keys;
  void operator()(const Bytes* bytes) const noexcept {
    delete bytes;
    try {
      caf::anon_send(scheduler, unhold_atom::value, keys);
    } catch (const std::exception& e) {  // a deleter must not throw: the keys stay held
      log::warn(std::string("cannot release the futures of a coordination value: ") + e.what());
    }
  }
};

/// The value of an operation, holding the futures it names on the scheduler (sent before
/// the object can see the value, so that no release overtakes the hold).
Value stored_value(self_ptr self, Bytes bytes, std::vector<std::string> keys) {
  if (keys.empty()) return std::make_shared<const Bytes>(std::move(bytes));
  self->send(caf::actor_cast<cluster_scheduler_actor>(self->state.scheduler), hold_atom::value, keys);
  return std::shared_ptr<const Bytes>(new Bytes(std::move(bytes)), HeldKeys{self->state.scheduler, std::move(keys)});
}

/// `client` read the values of an answer: it holds the futures they name from now on.
void share_futures(const caf::actor& scheduler, const caf::actor& client, const CoordAnswer& answer) {
  std::vector<std::string> keys;
  auto add = [&](const Value& v) {
    if (const auto* held = std::get_deleter<HeldKeys>(v)) keys.insert(keys.end(), held->keys.begin(), held->keys.end());
  };
  if (answer.value) add(answer.value);
  for (const auto& v : answer.values) add(v);
  if (!keys.empty() && client) caf::anon_send(scheduler, share_atom::value, client, std::move(keys));
}

/// What the object answered, for the wire (values are bytes on this side).
WireCoordAnswer wire_answer(std::uint64_t request, const Reply& r) {
  WireCoordAnswer a;
  a.request = request;
  if (r.error) {
    put_error(a, r.error);
    return a;
  }
  if (r.answer.value) {
    a.has_value = true;
    a.value = bytes_of(r.answer.value);
  }
  a.values.reserve(r.answer.values.size());
  for (const auto& v : r.answer.values) a.values.push_back(bytes_of(v));
  a.number = r.answer.number;
  a.flag = r.answer.flag;
  return a;
}

void answer_error(const caf::actor& to, std::uint64_t request, const std::string& what) {
  if (request == 0 || !to) return;
  WireCoordAnswer a;
  a.request = request;
  a.error_kind = static_cast<std::uint8_t>(WireCoordError::error);
  a.error = what;
  caf::anon_send(to, std::move(a));
}

/// The handle is gone: the object releases what it held and forgets its waiting requests.
void detach(self_ptr self, std::uint64_t id) {
  auto it = self->state.handles.find(id);
  if (it == self->state.handles.end()) return;
  self->send(it->second.object, detach_atom::value, static_cast<std::uintptr_t>(id));
  for (auto& [request, w] : it->second.waiting)
    if (auto r = w.lock()) r->abandon();
  self->state.by_owner.erase(it->second.owner);
  self->state.handles.erase(it);
}

WireOpened open(self_ptr self, WireCoordOpen& o) {
  WireOpened out;
  out.gateway = caf::actor_cast<caf::actor>(self);
  if (o.kind > static_cast<std::uint8_t>(kLastKind)) {
    out.error = "cask::Error: unknown coordination object kind " + std::to_string(o.kind);
    return out;
  }
  auto owner = caf::actor_cast<caf::actor>(self->current_sender());
  if (!owner) {
    out.error = "cask::Error: an open without a sender";
    return out;
  }
  // The Registry answers at once; its retire requests come back to this actor.
  auto reply = std::make_shared<Reply>();
  OpenRequest req{static_cast<CoordKind>(o.kind), std::move(o.name), std::move(o.type),
                  static_cast<std::size_t>(o.limit), std::make_shared<ReplyToken>(reply)};
  self->state.registry.open(self, caf::actor_cast<scheduler_actor>(self), req);
  req.reply.reset();
  if (reply->error) {
    try {
      std::rethrow_exception(reply->error);
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    return out;
  }
  // A stand-in opens once; should it open again, its earlier handle goes first.
  if (auto it = self->state.by_owner.find(owner.address()); it != self->state.by_owner.end())
    detach(self, it->second);
  const std::uint64_t id = self->state.next_handle++;
  self->state.handles[id] = RemoteHandle{reply->actor, owner.address(), std::move(o.client), {}, 0};
  self->state.by_owner[owner.address()] = id;
  self->monitor(owner);
  out.handle = id;
  return out;
}

void coord(self_ptr self, WireCoord& w) {
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  auto it = self->state.handles.find(w.handle);
  if (it == self->state.handles.end())
    return answer_error(sender, w.request, "cask::Error: coordination handle " + std::to_string(w.handle) +
                                               " is not open (its object was closed)");
  if (w.op > static_cast<std::uint8_t>(kLastOp))
    return answer_error(sender, w.request, "cask::Error: unknown operation " + std::to_string(w.op));
  CoordRequest req;
  req.op = static_cast<CoordOp>(w.op);
  if (w.has_value) req.value = stored_value(self, std::move(w.value), std::move(w.keys));
  req.count = static_cast<std::size_t>(w.count);
  req.holder = static_cast<std::uintptr_t>(w.handle);
  if (w.timeout_ns >= 0) req.timeout = std::chrono::nanoseconds(w.timeout_ns);
  RemoteHandle& h = it->second;
  if (w.request != 0) {
    auto reply = std::make_shared<Reply>();
    reply->on_publish = [to = sender, id = w.request, client = h.client,
                         scheduler = self->state.scheduler](const Reply& r) {
      try {
        if (!r.error) share_futures(scheduler, client, r.answer);
        caf::anon_send(to, wire_answer(id, r));
      } catch (const std::exception& e) {  // publish() must not throw; the caller's request stays
        log::warn(std::string("cannot answer a remote coordination request: ") + e.what());
      }
    };
    // Answered requests leave only an expired entry: swept once they could add up.
    if (h.waiting.size() >= 2 * h.pruned_at + 64) {
      std::erase_if(h.waiting, [](const auto& p) { return p.second.expired(); });
      h.pruned_at = h.waiting.size();
    }
    h.waiting[w.request] = reply;
    req.reply = std::make_shared<ReplyToken>(std::move(reply));
  }
  self->send(h.object, coord_atom::value, std::move(req));
}

/// The caller gave up: abandon its request unless the object took it already (then the
/// answer is on its way and the stand-in deals with it).
void cancel(self_ptr self, std::uint64_t handle, std::uint64_t request) {
  auto it = self->state.handles.find(handle);
  if (it == self->state.handles.end()) return;
  auto w = it->second.waiting.find(request);
  if (w == it->second.waiting.end()) return;
  auto reply = w->second.lock();
  it->second.waiting.erase(w);
  if (!reply || !reply->abandon()) return;
  self->send(it->second.object, cancel_atom::value);  // serve the requests behind it
  WireCoordAnswer a;
  a.request = request;
  a.error_kind = static_cast<std::uint8_t>(WireCoordError::cancelled);
  caf::anon_send(caf::actor_cast<caf::actor>(self->current_sender()), std::move(a));
}

cluster_objects_actor::behavior_type gateway_main(self_ptr self, caf::actor scheduler) {
  self->state.scheduler = scheduler;
  self->monitor(scheduler);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source == self->state.scheduler.address()) {
      self->state.registry.shutdown();
      self->quit();
      return;
    }
    // A handle's stand-in ended, or its process is unreachable.
    if (auto it = self->state.by_owner.find(msg.source); it != self->state.by_owner.end()) detach(self, it->second);
  });
  return {
      [self](open_atom, WireCoordOpen& o) { return open(self, o); },
      [self](coord_atom, WireCoord& w) { coord(self, w); },
      [self](cancel_atom, std::uint64_t handle, std::uint64_t request) { cancel(self, handle, request); },
      [self](detach_atom, std::uint64_t handle) {
        auto it = self->state.handles.find(handle);
        if (it == self->state.handles.end()) return;
        // Only the handle's own stand-in may close it.
        if (self->current_sender() && it->second.owner != self->current_sender()->address()) return;
        self->demonitor(it->second.owner);
        detach(self, handle);
      },
      [self](retire_atom, CoordKind kind, std::string& name, std::uint64_t attaches) {
        self->state.registry.retire(kind, name, attaches, self->current_sender());
      },
      [self](stats_atom) { return std::uint64_t(self->state.registry.objects()); },
  };
}

}  // namespace

cluster_objects_actor spawn_cluster_objects(caf::actor_system& sys, caf::actor scheduler) {
  return sys.spawn(gateway_main, std::move(scheduler));
}

}  // namespace cask::detail
