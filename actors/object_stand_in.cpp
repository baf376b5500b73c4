// The client side of a coordination object in a cluster: one stand-in actor per handle,
// speaking coordination_actor to the handle and the gateway's wire protocol to the
// scheduler's process (see actors/cluster_objects.hpp).
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/cluster_objects.hpp"
#include "actors/cluster_protocols.hpp"
#include "actors/reply.hpp"
#include "cask/errors.hpp"
#include "cask/remote.hpp"

namespace cask::detail {
namespace {

// How long opening may take: one round trip to the scheduler, so this only bounds a
// scheduler that is alive but does not answer.
constexpr auto kOpenTimeout = std::chrono::seconds(30);
// How long a closing stand-in waits for the answers to its callers' cancelled requests
// (the gateway answers each at once; this only bounds a gateway that went silent).
constexpr auto kCloseTimeout = std::chrono::seconds(10);

using stand_in_actor = coordination_actor::extend<
    caf::reacts_to<WireCoordAnswer>,               // gateway: the answer to a request
    caf::reacts_to<cancel_atom, std::uint64_t>>;   // the caller of this request gave up

struct Waiting {
  ReplyPtr reply;
  CoordOp op;
  bool cancelled = false;
};

struct StandInState {
  StandInState() = default;  // not an aggregate: CAF would construct it from the actor pointer
  caf::actor scheduler;
  caf::actor proxy;
  caf::actor gateway;
  std::string address;
  std::string label;  // "Queue 'jobs'"
  std::uint64_t handle = 0;
  bool closing = false;  // the handle is gone: detach once every request is settled
  std::unordered_map<std::uint64_t, Waiting> waiting;  // by request id (the Reply's address)
};

using self_ptr = stand_in_actor::stateful_pointer<StandInState>;

std::uint64_t request_id(const ReplyToken& token) { return reinterpret_cast<std::uintptr_t>(&*token); }

/// Fails every waiting request with `error` and ends the stand-in: later requests reach
/// no actor, and their tokens fail them with CommError.
void end(self_ptr self, const std::exception_ptr& error) {
  for (auto& [id, w] : std::exchange(self->state.waiting, {})) (*w.reply)->fail(error);
  self->quit();
}

/// The caller gave up after the object had taken items for it: they go back to the queue
/// (at its end), so that nothing is lost.
void put_back(self_ptr self, const Waiting& w, WireCoordAnswer& a) {
  if (w.op != CoordOp::get && w.op != CoordOp::get_batch) return;
  if (static_cast<WireCoordError>(a.error_kind) != WireCoordError::none) return;
  auto again = [&](std::vector<char>& bytes) {
    WireCoord c;
    c.handle = self->state.handle;
    c.op = static_cast<std::uint8_t>(CoordOp::put);
    c.has_value = true;
    c.value = std::move(bytes);
    self->send(caf::actor_cast<cluster_objects_actor>(self->state.gateway), coord_atom::value, std::move(c));
  };
  if (a.has_value) again(a.value);
  for (auto& v : a.values) again(v);
}

/// Detaches the handle on the gateway (which releases what it held) and ends.
void finish(self_ptr self) {
  if (self->state.gateway)
    self->send(caf::actor_cast<cluster_objects_actor>(self->state.gateway), detach_atom::value, self->state.handle);
  end(self, std::make_exception_ptr(CommError("cask::CommError: " + self->state.label + " was closed")));
}

/// The handle is gone. Requests whose callers gave up may still be answered with items
/// the object took for them; those are put back before the handle detaches (a detached
/// handle can put nothing), so the stand-in cancels what is left and waits for the
/// answers, boundedly.
void close(self_ptr self) {
  auto& st = self->state;
  if (st.closing || st.waiting.empty()) return finish(self);
  st.closing = true;
  for (auto& [id, w] : st.waiting) {
    if (w.cancelled) continue;
    w.cancelled = true;
    self->send(caf::actor_cast<cluster_objects_actor>(st.gateway), cancel_atom::value, st.handle, id);
  }
  self->delayed_send(self, kCloseTimeout, detach_atom::value, std::uintptr_t{0});
}

void on_answer(self_ptr self, WireCoordAnswer& a) {
  auto it = self->state.waiting.find(a.request);
  if (it == self->state.waiting.end()) return;
  Waiting w = std::move(it->second);
  self->state.waiting.erase(it);
  Reply& r = **w.reply;
  if (!r.claim()) {  // the caller gave up
    // The queue is the only kind whose taken items can be handed back; a subscriber's
    // message taken in that moment is dropped (its Sub was cancelled).
    if (w.op == CoordOp::get || w.op == CoordOp::get_batch) put_back(self, w, a);
    if (self->state.closing && self->state.waiting.empty()) finish(self);
    return;
  }
  if (auto error = error_of(a)) {
    r.error = error;
  } else {
    if (a.has_value) r.answer.value = std::make_shared<const Bytes>(std::move(a.value));
    r.answer.values.reserve(a.values.size());
    for (auto& v : a.values) r.answer.values.push_back(std::make_shared<const Bytes>(std::move(v)));
    r.answer.number = static_cast<std::size_t>(a.number);
    r.answer.flag = a.flag;
  }
  r.publish();
  if (self->state.closing && self->state.waiting.empty()) finish(self);
}

void on_request(self_ptr self, CoordRequest& req) {
  WireCoord w;
  w.handle = self->state.handle;
  w.op = static_cast<std::uint8_t>(req.op);
  if (req.value) {  // a remote handle's values are MessagePack bytes (detail::wrap)
    w.has_value = true;
    w.value = *static_cast<const Bytes*>(req.value.get());
    if (const auto* futures = std::get_deleter<FutureKeys>(req.value)) w.keys = futures->keys;
  }
  w.count = req.count;
  if (req.timeout) w.timeout_ns = std::max<std::int64_t>(0, req.timeout->count());
  if (req.reply) {
    w.request = request_id(*req.reply);
    self->state.waiting.emplace(w.request, Waiting{std::move(req.reply), req.op});
  }
  self->send(caf::actor_cast<cluster_objects_actor>(self->state.gateway), coord_atom::value, std::move(w));
}

stand_in_actor::behavior_type stand_in_main(self_ptr self, caf::actor scheduler, caf::actor proxy,
                                            std::string address, OpenRequest req) {
  auto& st = self->state;
  st.scheduler = std::move(scheduler);
  st.proxy = std::move(proxy);
  st.address = std::move(address);
  st.label = std::string(kind_name(req.kind)) + " '" + req.name + "'";
  self->monitor(st.scheduler);
  self->monitor(st.proxy);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    const std::string why = msg.source == st.proxy.address()
                                ? "the client closed while waiting on " + st.label
                                : "lost the connection to the scheduler at " + st.address;
    end(self, std::make_exception_ptr(CommError("cask::CommError: " + why)));
  });
  // Opening: the scheduler hands the request to its objects gateway, which answers.
  auto open_reply = req.reply;
  WireCoordOpen open{static_cast<std::uint8_t>(req.kind), req.name, req.type, req.limit, st.proxy};
  self->request(caf::actor_cast<cluster_scheduler_actor>(st.scheduler), kOpenTimeout, open_atom::value, std::move(open))
      .then(
          [self, open_reply](WireOpened& o) {
            Reply& r = **open_reply;
            if (!o.error.empty() || !o.gateway) {
              r.fail(std::make_exception_ptr(Error(o.error.empty() ? "cask::Error: no objects gateway" : o.error)));
              self->quit();
              return;
            }
            self->state.handle = o.handle;
            self->state.gateway = o.gateway;
            // The gateway lives and dies with the scheduler, which is monitored already.
            if (!r.claim()) return;
            r.actor = caf::actor_cast<coordination_actor>(self);
            r.publish();
          },
          [self, open_reply](caf::error& e) {
            (*open_reply)->fail(std::make_exception_ptr(CommError(
                "cask::CommError: cannot open " + self->state.label + " on the scheduler at " +
                self->state.address + ": " + self->system().render(e))));
            self->quit();
          });
  return {
      [self](coord_atom, CoordRequest& req) { on_request(self, req); },
      [](attach_atom) {},
      // The handle is gone (or, when closing, the wait for the last answers ran out).
      [self](detach_atom, std::uintptr_t) { close(self); },
      [](timeout_atom, std::uint64_t) {},
      [](retire_atom) {},
      [](cancel_atom) {},  // a handle's callers cancel by request id (below)
      [self](shutdown_atom) {
        end(self, std::make_exception_ptr(
                      CommError("cask::CommError: the client closed while waiting on " + self->state.label)));
      },
      [self](WireCoordAnswer& a) { on_answer(self, a); },
      [self](cancel_atom, std::uint64_t request) {
        auto it = self->state.waiting.find(request);
        if (it == self->state.waiting.end() || it->second.cancelled) return;
        it->second.cancelled = true;
        self->send(caf::actor_cast<cluster_objects_actor>(self->state.gateway), cancel_atom::value,
                   self->state.handle, request);
      },
  };
}

}  // namespace

void open_remote_object(caf::actor_system& sys, caf::actor scheduler, caf::actor proxy, std::string address,
                        OpenRequest req) {
  sys.spawn(stand_in_main, std::move(scheduler), std::move(proxy), std::move(address), std::move(req));
}

}  // namespace cask::detail
