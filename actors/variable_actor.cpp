// The actor owning one cask::Variable: a value (or none) and the gets waiting for one.
#include <caf/actor_system.hpp>

#include "actors/coordination_object.hpp"

namespace cask::detail {
namespace {

class VariableActor final : public CoordinationObject {
 public:
  using CoordinationObject::CoordinationObject;

 private:
  void handle(CoordRequest& req) override {
    switch (req.op) {
      case CoordOp::set:
        value_ = std::move(req.value);
        answer(req);
        for (auto& p : std::exchange(parked_, {})) give(p.req);
        return;
      case CoordOp::get:
        if (value_)
          give(req);
        else
          park(std::move(req));
        return;
      case CoordOp::erase:
        value_ = nullptr;
        answer(req);
        return;
      default:
        refuse(req, "a variable does not support this operation");
    }
  }

  void give(const CoordRequest& req) const {
    answer(req, [&](CoordAnswer& a) { a.value = value_; });
  }
  void time_out(CoordRequest& req) override { timed_out_error(req, "not set in time"); }
  bool holds_nothing() const override { return value_ == nullptr; }

  Value value_;  // shared with every reader: values are immutable
};

}  // namespace

coordination_actor spawn_variable(caf::actor_system& sys, CoordInit init) {
  return sys.spawn<VariableActor>(std::move(init));
}

}  // namespace cask::detail
