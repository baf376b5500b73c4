// The actor owning one cask::Queue: a FIFO of values and a FIFO of waiting gets.
#include <caf/actor_system.hpp>

#include "actors/coordination_object.hpp"

namespace cask::detail {
namespace {

class QueueActor final : public CoordinationObject {
 public:
  using CoordinationObject::CoordinationObject;

 private:
  void handle(CoordRequest& req) override {
    switch (req.op) {
      case CoordOp::put:
        items_.push_back(std::move(req.value));
        answer(req);
        serve();
        return;
      case CoordOp::get:
      case CoordOp::get_batch:
        drop_abandoned();
        if (parked_.empty() && items_.size() >= wanted(req)) {
          take(req);
        } else {
          park(std::move(req));
        }
        return;
      case CoordOp::get_all:
        answer(req, [&](CoordAnswer& a) {
          a.values.assign(std::make_move_iterator(items_.begin()), std::make_move_iterator(items_.end()));
          items_.clear();
        });
        return;
      case CoordOp::size:
        answer(req, [&](CoordAnswer& a) { a.number = items_.size(); });
        return;
      default:
        refuse(req, "a queue does not support this operation");
    }
  }

  static std::size_t wanted(const CoordRequest& req) { return req.op == CoordOp::get ? 1 : req.count; }

  /// Hands the request its items; takes nothing when its caller gave up.
  void take(const CoordRequest& req) {
    const std::size_t n = wanted(req);
    answer(req, [&](CoordAnswer& a) {
      if (req.op == CoordOp::get) {
        a.value = std::move(items_.front());
        items_.pop_front();
        return;
      }
      a.values.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        a.values.push_back(std::move(items_.front()));
        items_.pop_front();
      }
    });
  }

  /// Answers waiting gets in arrival order while there are items for the first one.
  void serve() {
    drop_abandoned();
    while (!parked_.empty() && items_.size() >= wanted(parked_.front().req)) {
      CoordRequest req = std::move(parked_.front().req);
      parked_.pop_front();
      take(req);
    }
  }

  void serve_waiting() override { serve(); }
  void time_out(CoordRequest& req) override { timed_out_error(req, "nothing to get in time"); }
  bool holds_nothing() const override { return items_.empty(); }

  std::deque<Value> items_;
};

}  // namespace

coordination_actor spawn_queue(caf::actor_system& sys, CoordInit init) {
  return sys.spawn<QueueActor>(std::move(init));
}

}  // namespace cask::detail
