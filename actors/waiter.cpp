#include "actors/waiter.hpp"

#include <optional>
#include <stop_token>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/protocols.hpp"
#include "cask/errors.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {
namespace {

using waiter_actor = caf::typed_actor<caf::reacts_to<notify_atom>, caf::reacts_to<timeout_atom>>;

/// What one wait is waiting for. The futures' completions are counted right where they
/// happen (on_complete), so that the blocked thread wakes without an extra actor hop; the
/// waiter actor owns the deadline and is told when the condition came true.
struct WaitCondition {
  WaitMode mode = WaitMode::all;
  std::atomic<std::size_t> remaining{0};
  // Weak: the waiting thread holds the futures. If it gives up (timeout, or its task was
  // cancelled), the wait must not keep them, or their tasks, alive.
  std::vector<std::weak_ptr<FutureCore>> cores;
  std::shared_ptr<WaitLatch> latch;
  waiter_actor waiter;  // set before any core is subscribed
};

class ConditionSubscriber : public Subscriber {
 public:
  explicit ConditionSubscriber(std::shared_ptr<WaitCondition> c) : cond_(std::move(c)) {}
  void on_complete(std::size_t index) override {
    auto& c = *cond_;
    const std::size_t left = c.remaining.fetch_sub(1, std::memory_order_acq_rel) - 1;
    bool met = left == 0 || c.mode == WaitMode::any;
    if (!met && c.mode == WaitMode::first_exception) {
      auto core = c.cores[index].lock();
      met = core && core->status() == Status::error;
    }
    if (met) {
      c.latch->open(WaitLatch::satisfied);
      caf::anon_send(c.waiter, notify_atom::value);  // the waiter can quit now
    }
  }

 private:
  std::shared_ptr<WaitCondition> cond_;
};

}  // namespace

std::uint32_t WaitLatch::wait() {
  std::uint32_t s = state_.load(std::memory_order_acquire);
  if (s != closed) return s;
  TaskContext* task = current_task();
  auto open_stopped = [this] { open(stopped); };
  std::optional<std::stop_callback<decltype(open_stopped)>> on_stop;
  if (task && task->job) on_stop.emplace(task->job->stop.get_token(), open_stopped);
  {
    SlotHandoff handoff;
    while ((s = state_.load(std::memory_order_acquire)) == closed) state_.wait(closed);
  }
  if (s == stopped) throw CancelledError(*task->job->key);
  return s;
}

namespace {

using timer_actor = caf::typed_actor<caf::reacts_to<timeout_atom>, caf::reacts_to<shutdown_atom>>;

timer_actor::behavior_type timer_main(timer_actor::pointer self, std::chrono::nanoseconds delay,
                                      std::function<void()> fire, caf::actor supervisor) {
  self->link_to(supervisor);
  self->delayed_send(self, std::max(delay, std::chrono::nanoseconds::zero()), timeout_atom::value);
  return {
      [self, fire](timeout_atom) {
        fire();
        self->quit();
      },
      [self](shutdown_atom) { self->quit(); },
  };
}

waiter_actor::behavior_type waiter_main(waiter_actor::pointer self, std::shared_ptr<WaitLatch> latch,
                                        std::optional<std::chrono::nanoseconds> timeout,
                                        caf::actor supervisor) {
  // Linked to the client's supervisor: when the client closes, the waiter dies with it
  // and opens its latch on the way out, so no thread stays blocked.
  self->link_to(supervisor);
  self->attach_functor([latch] { latch->open(WaitLatch::satisfied); });
  if (timeout) self->delayed_send(self, *timeout, timeout_atom::value);
  return {
      [self](notify_atom) { self->quit(); },
      [self, latch](timeout_atom) {
        latch->open(WaitLatch::timed_out);
        self->quit();
      },
  };
}

}  // namespace

std::function<void()> start_timer(caf::actor_system& sys, std::chrono::nanoseconds delay,
                                  std::function<void()> fire, const caf::actor& supervisor) {
  auto timer = sys.spawn(timer_main, delay, std::move(fire), supervisor);
  return [timer] { caf::anon_send(timer, shutdown_atom::value); };
}

std::shared_ptr<WaitLatch> start_waiter(caf::actor_system& sys, std::vector<CorePtr> cores,
                                        WaitMode mode,
                                        std::optional<std::chrono::nanoseconds> timeout,
                                        const caf::actor& supervisor) {
  auto latch = std::make_shared<WaitLatch>();
  if (cores.empty()) {
    latch->open(WaitLatch::satisfied);
    return latch;
  }
  auto cond = std::make_shared<WaitCondition>();
  cond->mode = mode;
  cond->remaining.store(cores.size(), std::memory_order_relaxed);
  cond->cores.assign(cores.begin(), cores.end());
  cond->latch = latch;
  cond->waiter = sys.spawn(waiter_main, latch, timeout, supervisor);
  auto sub = std::make_shared<ConditionSubscriber>(cond);
  for (std::size_t i = 0; i < cores.size(); ++i) cores[i]->subscribe(sub, i);
  return latch;
}

}  // namespace cask::detail
