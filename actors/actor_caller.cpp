#include "actors/actor_caller.hpp"

#include <chrono>
#include <memory>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cask/errors.hpp"

namespace cask::detail {
namespace {

using Pending = std::unordered_map<std::string, CallRequestPtr>;

struct CallerState {
  CallerState() = default;  // not an aggregate: CAF would construct it from the actor pointer
  CallerInit init;
  // Shared with the cleanup functor, which runs after the state may be gone.
  std::shared_ptr<Pending> pending = std::make_shared<Pending>();
  std::exception_ptr lost;  // the worker is gone: every call fails with this
  bool releasing = false;
  std::size_t cancels = 0;  // Actor::cancel requests the worker has not answered yet
  // Set while calls are pending: the handles may all be gone by then, and an actor
  // without handles ends as "unreachable" (an error its link would pass on to the
  // client's supervisor) instead of answering them.
  caf::actor keep_alive;
};

using self_ptr = actor_caller_actor::stateful_pointer<CallerState>;

// A worker that does not answer a cancel in this time is lost or stuck; the anchor goes
// then anyway.
constexpr auto kCancelPatience = std::chrono::seconds(30);

void complete(const CallRequestPtr& req, Status status, Value value, std::exception_ptr error) {
  if (auto core = req->core.lock()) core->complete(status, std::move(value), std::move(error));
}

void maybe_quit(self_ptr self) {
  if (!self->state.pending->empty() || self->state.cancels != 0) return;
  self->state.keep_alive = nullptr;
  if (self->state.releasing) self->quit();
}

void on_outcome(self_ptr self, WireOutcome& o) {
  auto& pending = *self->state.pending;
  auto it = pending.find(o.key);
  if (it == pending.end()) return;
  auto req = std::move(it->second);
  pending.erase(it);
  switch (o.status) {
    case WireStatus::finished:
      try {
        complete(req, Status::finished, req->decode(o.value.get_bytes()), nullptr);
      } catch (...) {
        complete(req, Status::error, nullptr, std::current_exception());
      }
      break;
    case WireStatus::error:
      try {
        rethrow_remote(o.error);
      } catch (...) {
        complete(req, Status::error, nullptr, std::current_exception());
      }
      break;
    default:
      complete(req, Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(o.key)));
      break;
  }
}

actor_caller_actor::behavior_type caller_main(self_ptr self, CallerInit init) {
  self->state.init = std::move(init);
  self->link_to(self->state.init.supervisor);
  self->monitor(self->state.init.worker);
  // The client closes (or the caller fails): nobody will answer the pending calls.
  self->attach_functor([pending = self->state.pending] {
    for (auto& [key, req] : *pending)
      complete(req, Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(key)));
    pending->clear();
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.init.worker.address()) return;
    st.lost = std::make_exception_ptr(CommError("cask::CommError: the worker hosting actor " +
                                                st.init.actor_key + " was lost (" +
                                                self->system().render(msg.reason) + ")"));
    for (auto& [key, req] : *st.pending) complete(req, Status::error, nullptr, st.lost);
    st.pending->clear();
    maybe_quit(self);
  });
  return {
      [self](call_atom, CallRequestPtr& req) {
        auto& st = self->state;
        if (st.lost) return complete(req, Status::error, nullptr, st.lost);
        req->wire.reply_to = caf::actor_cast<caf::actor>(self);
        (*st.pending)[req->wire.key] = req;
        st.keep_alive = caf::actor_cast<caf::actor>(self);
        self->send(caf::actor_cast<cluster_worker_actor>(st.init.worker), acall_atom::value,
                   req->wire);
        req->wire.args.clear();  // sent: no need to keep the bytes
      },
      [self](outcome_atom, std::vector<WireOutcome>& outcomes) {
        for (auto& o : outcomes) on_outcome(self, o);
        maybe_quit(self);
      },
      [self](ccancel_atom, std::string& call_key, CancelAck& ack) {
        // Settled already (answered, or the worker is lost): the ack is dropped here.
        if (!self->state.pending->count(call_key) || self->state.lost) return;
        auto settled = [ack] { ack->set_value(); };
        self->request(caf::actor_cast<cluster_worker_actor>(self->state.init.worker), kCancelPatience,
                      ccancel_atom::value, std::move(call_key))
            .then([settled](bool) { settled(); }, [settled](caf::error&) { settled(); });
      },
      [self](acancel_atom, CorePtr& anchor) {
        auto& st = self->state;
        if (st.lost) return;  // the scheduler forgets the instance with its worker
        ++st.cancels;
        st.keep_alive = caf::actor_cast<caf::actor>(self);
        // The anchor goes with the answer (or the error), after the instance.
        auto done = [self, held = std::make_shared<CorePtr>(std::move(anchor))] {
          held->reset();
          --self->state.cancels;
          maybe_quit(self);
        };
        self->request(caf::actor_cast<cluster_worker_actor>(st.init.worker), kCancelPatience, acancel_atom::value,
                      st.init.actor_key)
            .then([done](bool) { done(); }, [done](caf::error&) { done(); });
      },
      [self](release_atom) {
        self->state.releasing = true;
        maybe_quit(self);
      },
  };
}

}  // namespace

actor_caller_actor spawn_actor_caller(caf::actor_system& sys, CallerInit init) {
  return sys.spawn(caller_main, std::move(init));
}

}  // namespace cask::detail
