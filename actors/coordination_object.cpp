#include "actors/coordination_object.hpp"

#include <algorithm>
#include <atomic>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "cask/errors.hpp"

namespace cask::detail {
namespace {
std::atomic<std::size_t> g_live{0};
}

const char* kind_name(CoordKind kind) noexcept {
  switch (kind) {
    case CoordKind::queue: return "Queue";
    case CoordKind::variable: return "Variable";
    case CoordKind::lock: return "Lock";
    case CoordKind::semaphore: return "Semaphore";
    case CoordKind::event: return "Event";
    case CoordKind::topic: return "Pub/Sub";
  }
  return "object";
}

CoordinationObject::CoordinationObject(caf::actor_config& cfg, CoordInit init)
    : coordination_actor::base(cfg), kind_(init.kind), name_(std::move(init.name)), registry_(std::move(init.registry)) {
  g_live.fetch_add(1, std::memory_order_relaxed);
}

CoordinationObject::~CoordinationObject() { g_live.fetch_sub(1, std::memory_order_relaxed); }

std::size_t CoordinationObject::live() noexcept { return g_live.load(std::memory_order_relaxed); }

std::string CoordinationObject::label() const { return std::string(kind_name(kind_)) + " '" + name_ + "'"; }

bool CoordinationObject::answer(const CoordRequest& req, const std::function<void(CoordAnswer&)>& fill) {
  if (!req.reply) return true;  // one-way
  Reply& r = **req.reply;
  if (!r.claim()) return false;
  if (fill) fill(r.answer);
  r.publish();
  return true;
}

void CoordinationObject::refuse(const CoordRequest& req, const std::string& what) const {
  if (req.reply) (*req.reply)->fail(std::make_exception_ptr(Error("cask::Error: " + label() + ": " + what)));
}

void CoordinationObject::timed_out_error(const CoordRequest& req, const std::string& what) const {
  if (req.reply) (*req.reply)->fail(std::make_exception_ptr(TimeoutError("cask::TimeoutError: " + label() + ": " + what)));
}

void CoordinationObject::time_out(CoordRequest& req) {
  answer(req, [](CoordAnswer& a) { a.flag = false; });
}

void CoordinationObject::park(CoordRequest req) {
  if (req.timeout && *req.timeout <= std::chrono::nanoseconds::zero()) {
    time_out(req);
    return;
  }
  const std::uint64_t id = next_id_++;
  if (req.timeout) delayed_send(this, *req.timeout, timeout_atom::value, id);
  parked_.push_back(Parked{id, std::move(req)});
}

void CoordinationObject::drop_abandoned() {
  std::erase_if(parked_, [](const Parked& p) { return p.req.reply && (*p.req.reply)->is_abandoned(); });
}

void CoordinationObject::maybe_retire() {
  if (handles_ != 0 || !parked_.empty() || !holds_nothing()) return;
  send(registry_, retire_atom::value, kind_, name_, attaches_);
}

CoordinationObject::behavior_type CoordinationObject::make_behavior() {
  return {
      [this](coord_atom, CoordRequest& req) { handle(req); },
      [this](attach_atom) {
        ++handles_;
        ++attaches_;
      },
      [this](detach_atom, std::uintptr_t holder) {
        release_holder(holder);
        // Requests of a gone handle are nobody's any more (its replies are abandoned or
        // answered); drop them so that they cannot hold the object.
        if (handles_ > 0) --handles_;
        std::erase_if(parked_, [holder](const Parked& p) { return p.req.holder == holder; });
        serve_waiting();
        maybe_retire();
      },
      [this](timeout_atom, std::uint64_t id) {
        auto it = std::find_if(parked_.begin(), parked_.end(), [id](const Parked& p) { return p.id == id; });
        if (it == parked_.end()) return;  // answered meanwhile
        CoordRequest req = std::move(it->req);
        parked_.erase(it);
        time_out(req);
      },
      [this](cancel_atom) {
        serve_waiting();
        maybe_retire();
      },
      [this](retire_atom) { quit(); },
      [this](shutdown_atom) {
        for (auto& p : parked_)
          if (p.req.reply)
            (*p.req.reply)->fail(std::make_exception_ptr(CommError("cask::CommError: the client closed while waiting on " + label())));
        parked_.clear();
        quit();
      },
  };
}

coordination_actor spawn_coordination(caf::actor_system& sys, CoordInit init) {
  switch (init.kind) {
    case CoordKind::queue: return spawn_queue(sys, std::move(init));
    case CoordKind::variable: return spawn_variable(sys, std::move(init));
    case CoordKind::lock:
    case CoordKind::semaphore: return spawn_semaphore(sys, std::move(init));
    case CoordKind::event: return spawn_event(sys, std::move(init));
    case CoordKind::topic: return spawn_topic(sys, std::move(init));
  }
  return {};
}

}  // namespace cask::detail
