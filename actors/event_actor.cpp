// The actor owning one cask::Event: a flag and the waits for it.
#include <caf/actor_system.hpp>

#include "actors/coordination_object.hpp"

namespace cask::detail {
namespace {

class EventActor final : public CoordinationObject {
 public:
  using CoordinationObject::CoordinationObject;

 private:
  void handle(CoordRequest& req) override {
    switch (req.op) {
      case CoordOp::set:
        set_ = true;
        answer(req);
        for (auto& p : std::exchange(parked_, {})) answer(p.req, [](CoordAnswer& a) { a.flag = true; });
        return;
      case CoordOp::clear:
        set_ = false;
        answer(req);
        return;
      case CoordOp::is_set:
        answer(req, [&](CoordAnswer& a) { a.flag = set_; });
        return;
      case CoordOp::wait:
        if (set_)
          answer(req, [](CoordAnswer& a) { a.flag = true; });
        else
          park(std::move(req));
        return;
      default:
        refuse(req, "an event does not support this operation");
    }
  }

  bool holds_nothing() const override { return !set_; }

  bool set_ = false;
};

}  // namespace

coordination_actor spawn_event(caf::actor_system& sys, CoordInit init) {
  return sys.spawn<EventActor>(std::move(init));
}

}  // namespace cask::detail
