// The actor owning one Pub/Sub name: each subscriber's inbox, and its waiting gets.
#include <unordered_map>

#include <caf/actor_system.hpp>

#include "actors/coordination_object.hpp"

namespace cask::detail {
namespace {

class TopicActor final : public CoordinationObject {
 public:
  using CoordinationObject::CoordinationObject;

 private:
  void handle(CoordRequest& req) override {
    switch (req.op) {
      case CoordOp::subscribe:
        inboxes_.try_emplace(req.holder);
        answer(req);
        return;
      case CoordOp::publish:
        for (auto& [holder, inbox] : inboxes_) inbox.push_back(req.value);
        answer(req);
        serve();
        return;
      case CoordOp::get: {
        auto it = inboxes_.find(req.holder);
        if (it == inboxes_.end()) {
          refuse(req, "get() by a handle that is not a subscriber");
        } else if (!it->second.empty() && !waiting(req.holder)) {
          give(req, it->second);
        } else {
          park(std::move(req));
        }
        return;
      }
      default:
        refuse(req, "does not support this operation");
    }
  }

  bool waiting(std::uintptr_t holder) const {
    for (const auto& p : parked_)
      if (p.req.holder == holder) return true;
    return false;
  }

  static void give(const CoordRequest& req, std::deque<Value>& inbox) {
    answer(req, [&](CoordAnswer& a) {
      a.value = std::move(inbox.front());
      inbox.pop_front();
    });
  }

  /// Answers waiting gets, each subscriber's in arrival order, while its inbox has messages.
  void serve() {
    for (auto it = parked_.begin(); it != parked_.end();) {
      auto inbox = inboxes_.find(it->req.holder);
      if (inbox == inboxes_.end() || inbox->second.empty()) {
        ++it;
        continue;
      }
      CoordRequest req = std::move(it->req);
      it = parked_.erase(it);
      give(req, inbox->second);
    }
  }

  void release_holder(std::uintptr_t holder) override { inboxes_.erase(holder); }
  void time_out(CoordRequest& req) override { timed_out_error(req, "no message in time"); }
  bool holds_nothing() const override { return inboxes_.empty(); }

  std::unordered_map<std::uintptr_t, std::deque<Value>> inboxes_;  // subscriber -> messages
};

}  // namespace

coordination_actor spawn_topic(caf::actor_system& sys, CoordInit init) {
  return sys.spawn<TopicActor>(std::move(init));
}

}  // namespace cask::detail
