#include "actors/registry.hpp"

#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "actors/reply.hpp"
#include "cask/errors.hpp"

namespace cask::detail {
namespace {

void fail(const ReplyPtr& reply, const std::string& what) {
  if (reply) (*reply)->fail(std::make_exception_ptr(Error("cask::Error: " + what)));
}

std::string label(CoordKind kind, const std::string& name) {
  return std::string(kind_name(kind)) + " '" + name + "'";
}

}  // namespace

void Registry::open(caf::local_actor* self, const scheduler_actor& scheduler, OpenRequest& req) {
  auto [it, fresh] = objects_.try_emplace({req.kind, req.name});
  Object& obj = it->second;
  if (fresh) {
    obj.type = req.type;
    obj.limit = req.limit;
    obj.actor = spawn_coordination(self->system(), CoordInit{req.kind, req.name, req.limit, scheduler});
  } else if (obj.type != req.type) {
    return fail(req.reply, label(req.kind, req.name) + " holds " + obj.type + ", not " + req.type);
  } else if (obj.limit != req.limit) {
    return fail(req.reply, label(req.kind, req.name) + " exists with max_leases " + std::to_string(obj.limit) +
                               ", not " + std::to_string(req.limit));
  }
  // attach is in the object's mailbox before the handle can send it anything.
  caf::anon_send(obj.actor, attach_atom::value);
  ++obj.attaches;
  Reply& r = **req.reply;
  if (!r.claim()) return;  // cannot happen: opening is not abandoned; the attach is undone by
                           // the token's CommError only if the handle never learns the actor
  r.actor = obj.actor;
  r.publish();
}

void Registry::retire(CoordKind kind, const std::string& name, std::uint64_t attaches,
                      const caf::strong_actor_ptr& sender) {
  auto it = objects_.find({kind, name});
  if (it == objects_.end() || caf::actor_cast<caf::strong_actor_ptr>(it->second.actor) != sender) return;
  if (it->second.attaches != attaches) return;  // a new handle is on its way to it
  caf::anon_send(it->second.actor, retire_atom::value);
  objects_.erase(it);
}

void Registry::name(NameRequest& req) {
  switch (req.op) {
    case NameOp::add: {
      auto& slot = actors_[req.name];
      if (!slot.ref.expired())
        return fail(req.reply, "an actor named '" + req.name + "' already exists");
      slot = Named{req.type, req.ref};
      if (req.reply && (*req.reply)->claim()) (*req.reply)->publish();
      return;
    }
    case NameOp::find: {
      auto it = actors_.find(req.name);
      std::shared_ptr<void> ref = it == actors_.end() ? nullptr : it->second.ref.lock();
      if (!ref) {
        if (it != actors_.end()) actors_.erase(it);
        return fail(req.reply, "no actor named '" + req.name + "'");
      }
      if (it->second.type != req.type)
        return fail(req.reply, "the actor named '" + req.name + "' is a " + it->second.type + ", not a " + req.type);
      Reply& r = **req.reply;
      if (!r.claim()) return;
      r.object = std::move(ref);
      r.publish();
      return;
    }
    case NameOp::remove: {
      auto it = actors_.find(req.name);
      // Only the actor the name belongs to may free it.
      if (it != actors_.end() && !it->second.ref.owner_before(req.ref) && !req.ref.owner_before(it->second.ref))
        actors_.erase(it);
      return;
    }
  }
}

void Registry::shutdown() {
  for (auto& [key, obj] : objects_) caf::anon_send(obj.actor, shutdown_atom::value);
  objects_.clear();
  actors_.clear();
}

}  // namespace cask::detail
