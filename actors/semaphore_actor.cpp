// The actor owning one cask::Semaphore or cask::Lock (a semaphore of one lease): who holds
// how many leases, and the acquires waiting for one, served in arrival order.
#include <unordered_map>

#include <caf/actor_system.hpp>

#include "actors/coordination_object.hpp"

namespace cask::detail {
namespace {

class SemaphoreActor final : public CoordinationObject {
 public:
  SemaphoreActor(caf::actor_config& cfg, CoordInit init)
      : CoordinationObject(cfg, init), limit_(init.limit == 0 ? 1 : init.limit) {}

 private:
  void handle(CoordRequest& req) override {
    switch (req.op) {
      case CoordOp::acquire:
        drop_abandoned();
        if (parked_.empty() && used_ < limit_)
          grant(req);
        else
          park(std::move(req));
        return;
      case CoordOp::release: {
        auto it = leases_.find(req.holder);
        if (it == leases_.end()) {
          refuse(req, "released by a handle that does not hold it");
          return;
        }
        if (--it->second == 0) leases_.erase(it);
        --used_;
        answer(req);
        serve();
        return;
      }
      case CoordOp::held:
        answer(req, [&](CoordAnswer& a) {
          a.number = used_;
          a.flag = used_ > 0;
        });
        return;
      default:
        refuse(req, "does not support this operation");
    }
  }

  void grant(const CoordRequest& req) {
    if (!answer(req, [](CoordAnswer& a) { a.flag = true; })) return;  // the caller gave up
    ++leases_[req.holder];
    ++used_;
  }

  void serve() {
    drop_abandoned();
    while (!parked_.empty() && used_ < limit_) {
      CoordRequest req = std::move(parked_.front().req);
      parked_.pop_front();
      grant(req);
    }
  }

  void release_holder(std::uintptr_t holder) override {
    auto it = leases_.find(holder);
    if (it == leases_.end()) return;
    used_ -= it->second;
    leases_.erase(it);
    serve();
  }

  bool holds_nothing() const override { return used_ == 0; }

  const std::size_t limit_;
  std::size_t used_ = 0;
  std::unordered_map<std::uintptr_t, std::size_t> leases_;  // holder -> leases
};

}  // namespace

coordination_actor spawn_semaphore(caf::actor_system& sys, CoordInit init) {
  return sys.spawn<SemaphoreActor>(std::move(init));
}

}  // namespace cask::detail
