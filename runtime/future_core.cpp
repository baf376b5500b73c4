#include "cask/detail/future_core.hpp"

#include <thread>

#include "actors/protocols.hpp"
#include "cask/errors.hpp"
#include "runtime/client_state.hpp"
#include "runtime/task_context.hpp"

namespace cask::detail {

FutureCore::FutureCore(std::shared_ptr<ClientState> client, std::string key, std::string name,
                       const std::type_info& type)
    : client_(std::move(client)), key_(std::make_shared<const std::string>(std::move(key))), name_(std::move(name)), type_(&type) {}

FutureCore::~FutureCore() {
  if (client_ && !direct_) client_->release(key_, reinterpret_cast<std::uintptr_t>(this));
}

void FutureCore::set_direct(const std::shared_ptr<Job>& job) {
  direct_ = true;
  direct_job_ = job;
}

std::weak_ptr<Job> FutureCore::direct_job() const { return direct_job_; }

namespace {
/// Cancels a direct job: it never starts, or is asked to stop; the core is cancelled at
/// once unless the job's outcome was already published.
void cancel_direct(FutureCore& core) {
  auto job = core.direct_job().lock();
  if (!job) return;  // ran: the core has (or is getting) its outcome
  job->stop.request_stop();
  auto expected = JobPhase::queued;
  if (!job->phase.compare_exchange_strong(expected, JobPhase::cancelled) && job->published.load(std::memory_order_acquire))
    return;
  core.complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(core.key())));
}
}  // namespace

void FutureCore::wait() const {
  if (done_flag_.load(std::memory_order_acquire) != 0) return;
  TaskContext* task = current_task();
  if (!task || !task->job) {
    // Poll briefly first: a small task is often back sooner than a futex wake-up.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(30);
    for (unsigned i = 1; done_flag_.load(std::memory_order_acquire) == 0; ++i) {
      if ((i & 63) == 0) {
        if (std::chrono::steady_clock::now() > until) break;
        std::this_thread::yield();
      }
    }
    while (done_flag_.load(std::memory_order_acquire) == 0) done_flag_.wait(0, std::memory_order_acquire);
    return;
  }
  // Inside a task: refuse to wait for itself, give the slot back while blocked, and stop
  // waiting (CancelledError) when the task is cancelled.
  if (*task->job->key == *key_)
    throw Error("cask::Error: task " + *key_ + " waits for its own result, which would never come");
  auto latch = std::make_shared<WaitLatch>();
  const_cast<FutureCore*>(this)->subscribe(std::make_shared<LatchSubscriber>(latch), 0);
  latch->wait();
}

bool FutureCore::wait_for(std::chrono::nanoseconds timeout) const {
  if (done()) return true;
  if (timeout <= std::chrono::nanoseconds::zero()) return false;
  auto self = std::const_pointer_cast<FutureCore>(shared_from_this());
  if (auto* task = current_task(); task && task->job && *task->job->key == *key_)
    throw Error("cask::Error: task " + *key_ + " waits for its own result, which would never come");
  auto latch = client_->wait({self}, WaitMode::all, timeout);
  if (!latch) return done();  // client closed: nothing will change any more
  return latch->wait() == WaitLatch::satisfied;
}

std::exception_ptr FutureCore::exception() const {
  const Status s = status();
  if (s == Status::error || s == Status::cancelled || s == Status::lost) return error_;
  return nullptr;
}

void FutureCore::get() const {
  wait();
  if (status() == Status::finished) return;
  if (error_) std::rethrow_exception(error_);
  throw CancelledError(*key_);
}

bool FutureCore::complete(Status status, Value value, std::exception_ptr error) {
  std::vector<std::function<void()>> callbacks;
  std::vector<Listener> listeners;
  {
    std::lock_guard lk(mu_);
    if (status_.load(std::memory_order_relaxed) != Status::pending) return false;
    value_ = std::move(value);
    error_ = std::move(error);
    status_.store(status, std::memory_order_release);
    callbacks.swap(callbacks_);
    listeners.swap(listeners_);
  }
  done_flag_.store(1, std::memory_order_release);
  done_flag_.notify_all();
  for (const auto& l : listeners) l.sub->on_complete(l.token);
  for (auto& cb : callbacks) client_->callbacks().post(std::move(cb));
  return true;
}

void cancel_all(const std::vector<CorePtr>& cores) {
  // Synchronous, like Dask's: the scheduler answers each handle at once, with cancelled
  // or with the outcome the task already had. One message per client, so that a batch is
  // cancelled as a whole.
  std::vector<CorePtr> pending;
  for (const auto& c : cores) {
    if (!c || c->done()) continue;
    if (c->is_direct())
      cancel_direct(*c);
    else
      pending.push_back(c);
  }
  while (!pending.empty()) {
    auto* client = pending.front()->client().get();
    std::vector<CorePtr> mine;
    std::erase_if(pending, [&](const CorePtr& c) {
      if (c->client().get() != client) return false;
      mine.push_back(c);
      return true;
    });
    if (!client->cancel(mine))  // closed: nothing will answer
      for (auto& c : mine) c->complete(Status::cancelled, nullptr, std::make_exception_ptr(CancelledError(c->key())));
  }
  for (const auto& c : cores) {
    if (!c) continue;
    // A task cancelling itself does not wait for the answer.
    if (auto* task = current_task(); task && task->job && *task->job->key == c->key()) continue;
    c->wait();
  }
}

void FutureCore::cancel() {
  if (done()) return;  // cancelling a finished future leaves its value alone
  cancel_all({shared_from_this()});
}

void FutureCore::add_callback(std::function<void()> fn) {
  {
    std::lock_guard lk(mu_);
    if (status_.load(std::memory_order_relaxed) == Status::pending) {
      callbacks_.push_back(std::move(fn));
      return;
    }
  }
  client_->callbacks().post(std::move(fn));
}

void FutureCore::subscribe(std::shared_ptr<Subscriber> sub, std::size_t token) {
  {
    std::lock_guard lk(mu_);
    if (status_.load(std::memory_order_relaxed) == Status::pending) {
      listeners_.push_back(Listener{std::move(sub), token});
      return;
    }
  }
  sub->on_complete(token);
}

}  // namespace cask::detail
