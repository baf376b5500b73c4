#include "cask/detail/completion_stream.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

#include "actors/protocols.hpp"
#include "cask/errors.hpp"
#include "runtime/client_state.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {

struct CompletionStream::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::size_t> done;  // completed, not yet taken
  std::size_t outstanding = 0;   // added, not yet taken
  bool timed_out = false;
  bool stopped = false;          // the consuming task was cancelled
  bool sleeping = false;         // the consumer waits on cv: only then is it signalled
  std::atomic<std::size_t> ready{0};  // done.size(), for the consumer's short poll
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::function<void()> cancel_timer;
};

namespace {

/// Pushes a core's completion into the stream, on whichever thread completed it.
class StreamSubscriber : public Subscriber {
 public:
  explicit StreamSubscriber(std::weak_ptr<CompletionStream::Shared> s) : shared_(std::move(s)) {}
  void on_complete(std::size_t token) override {
    auto s = shared_.lock();
    if (!s) return;  // the AsCompleted is gone
    std::lock_guard lk(s->mu);
    s->done.push_back(token);
    s->ready.fetch_add(1, std::memory_order_release);
    if (s->sleeping) s->cv.notify_one();
  }

 private:
  std::weak_ptr<CompletionStream::Shared> shared_;
};

/// Blocks on the stream until `ready` holds: hands a task's slot back meanwhile and wakes
/// up if the task is cancelled. Returns with the lock held.
template <class Ready>
void block(CompletionStream::Shared& s, std::unique_lock<std::mutex>& lk, Ready ready) {
  if (ready()) return;
  TaskContext* task = current_task();
  auto wake = [&s] {
    std::lock_guard g(s.mu);
    s.stopped = true;
    s.cv.notify_all();  // stops are rare: no need to check `sleeping`
  };
  std::optional<std::stop_callback<decltype(wake)>> on_stop;
  if (task && task->job) {
    lk.unlock();  // the callback may run at once and takes the lock
    on_stop.emplace(task->job->stop.get_token(), wake);
    lk.lock();
  }
  if (!ready() && !s.stopped) {
    // Poll briefly: completions often come faster than a futex wake-up (4-20 µs here).
    lk.unlock();
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(30);
    for (unsigned i = 1; s.ready.load(std::memory_order_acquire) == 0; ++i) {
      if ((i & 63) == 0) {
        if (std::chrono::steady_clock::now() > until) break;
        std::this_thread::yield();  // the producers need this core more than we do
      }
    }
    lk.lock();
  }
  if (!ready() && !s.stopped) {
    lk.unlock();
    SlotHandoff handoff;
    lk.lock();
    s.sleeping = true;
    s.cv.wait(lk, [&] { return ready() || s.stopped; });
    s.sleeping = false;
  }
  if (s.stopped && !ready()) throw CancelledError(task ? *task->job->key : "as_completed");
}

}  // namespace

CompletionStream::CompletionStream(std::optional<std::chrono::steady_clock::time_point> deadline)
    : shared_(std::make_shared<Shared>()) {
  shared_->deadline = deadline;
}

CompletionStream::~CompletionStream() {
  if (shared_ && shared_->cancel_timer) shared_->cancel_timer();
}

void CompletionStream::add(const CorePtr& core, std::size_t token) {
  if (const TaskContext* task = current_task(); task && task->job && *task->job->key == core->key())
    throw Error("cask::Error: task " + core->key() + " waits for its own result, which would never come");
  bool arm = false;
  {
    std::lock_guard lk(shared_->mu);
    ++shared_->outstanding;
    arm = shared_->deadline && !shared_->cancel_timer;
  }
  if (arm && core->client()) {
    // The deadline is a delayed message to a timer actor of the futures' cluster.
    std::weak_ptr<Shared> weak = shared_;
    auto cancel = core->client()->start_timer(*shared_->deadline - std::chrono::steady_clock::now(), [weak] {
      if (auto s = weak.lock()) {
        std::lock_guard lk(s->mu);
        s->timed_out = true;
        s->cv.notify_all();  // rare: no need to check `sleeping`
      }
    });
    std::lock_guard lk(shared_->mu);
    shared_->cancel_timer = cancel ? std::move(cancel) : [] {};
  }
  core->subscribe(std::make_shared<StreamSubscriber>(shared_), token);
}

std::optional<std::size_t> CompletionStream::next() {
  auto& s = *shared_;
  std::unique_lock lk(s.mu);
  block(s, lk, [&] { return !s.done.empty() || s.outstanding == 0 || s.timed_out; });
  if (!s.done.empty()) {
    const std::size_t token = s.done.front();
    s.done.pop_front();
    s.ready.fetch_sub(1, std::memory_order_relaxed);
    --s.outstanding;
    return token;
  }
  if (s.outstanding == 0) return std::nullopt;
  throw TimeoutError("cask::TimeoutError: as_completed: " + std::to_string(s.outstanding) +
                     " futures not done by the deadline");
}

std::vector<std::size_t> CompletionStream::next_batch() {
  auto& s = *shared_;
  std::unique_lock lk(s.mu);
  block(s, lk, [&] { return !s.done.empty() || s.outstanding == 0 || s.timed_out; });
  if (s.done.empty() && s.outstanding != 0)
    throw TimeoutError("cask::TimeoutError: as_completed: " + std::to_string(s.outstanding) +
                       " futures not done by the deadline");
  std::vector<std::size_t> out(s.done.begin(), s.done.end());
  s.done.clear();
  s.ready.store(0, std::memory_order_relaxed);
  s.outstanding -= out.size();
  return out;
}

std::size_t CompletionStream::outstanding() const {
  std::lock_guard lk(shared_->mu);
  return shared_->outstanding;
}

}  // namespace cask::detail
