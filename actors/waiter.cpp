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

using waiter_actor = caf::typed_actor<caf::reacts_to<notify_atom, std::size_t>,
                                      caf::reacts_to<timeout_atom>>;

struct WaiterState {
  // Weak: the waiting thread holds the futures. If it gives up (timeout, or its task was
  // cancelled), the waiter must not keep them, or their tasks alive.
  std::vector<std::weak_ptr<FutureCore>> cores;
  WaitMode mode = WaitMode::all;
  std::size_t remaining = 0;
  std::shared_ptr<WaitLatch> latch;
};

/// Forwards a core's completion into the waiter's mailbox.
class MailboxSubscriber : public Subscriber {
 public:
  explicit MailboxSubscriber(waiter_actor a) : actor_(std::move(a)) {}
  void on_complete(std::size_t token) override {
    caf::anon_send(actor_, notify_atom::value, token);
  }

 private:
  waiter_actor actor_;
};

bool satisfied(const WaiterState& st, std::size_t index) {
  switch (st.mode) {
    case WaitMode::all: return st.remaining == 0;
    case WaitMode::any: return true;
    case WaitMode::first_exception: {
      if (st.remaining == 0) return true;
      auto core = st.cores[index].lock();
      return core && core->status() == Status::error;
    }
  }
  return true;
}

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

struct WaiterArgs {
  std::vector<CorePtr> cores;
  WaitMode mode;
  std::optional<std::chrono::nanoseconds> timeout;
  std::shared_ptr<WaitLatch> latch;
  caf::actor supervisor;
};

using waiter_self = waiter_actor::stateful_pointer<WaiterState>;

waiter_actor::behavior_type waiter_main(waiter_self self, std::shared_ptr<WaiterArgs> args) {
  // Linked to the client's supervisor: when the client closes, the waiter dies with it
  // and opens its latch on the way out, so no thread stays blocked.
  self->link_to(args->supervisor);
  self->attach_functor([latch = args->latch] { latch->open(WaitLatch::satisfied); });
  auto& st = self->state;
  st.cores.assign(args->cores.begin(), args->cores.end());
  args->cores.clear();
  st.mode = args->mode;
  st.remaining = st.cores.size();
  st.latch = args->latch;
  if (args->timeout) self->delayed_send(self, *args->timeout, timeout_atom::value);
  return {
      [self](notify_atom, std::size_t index) {
        auto& st = self->state;
        --st.remaining;
        if (satisfied(st, index)) {
          st.latch->open(WaitLatch::satisfied);
          self->quit();
        }
      },
      [self](timeout_atom) {
        self->state.latch->open(WaitLatch::timed_out);
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
  auto args = std::make_shared<WaiterArgs>(WaiterArgs{cores, mode, timeout, latch, supervisor});
  auto waiter = sys.spawn(waiter_main, std::move(args));
  auto sub = std::make_shared<MailboxSubscriber>(waiter);
  for (std::size_t i = 0; i < cores.size(); ++i) cores[i]->subscribe(sub, i);
  return latch;
}

}  // namespace cask::detail
