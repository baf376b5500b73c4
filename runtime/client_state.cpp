#include "runtime/client_state.hpp"

#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/actor_cast.hpp>

#include "actors/client_proxy.hpp"
#include "actors/future_actor.hpp"
#include "actors/scheduler.hpp"
#include "actors/worker.hpp"
#include "cask/errors.hpp"
#include "cask/remote.hpp"
#include "runtime/execution_pool.hpp"
#include "runtime/cluster_node.hpp"
#include "runtime/coordinator.hpp"

namespace cask::detail {
namespace {

/// Does nothing but exist: waiters and timers link to it, and close() kills it.
class Supervisor : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    return {[](shutdown_atom) {}};
  }
};

std::size_t hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

std::unique_ptr<caf::actor_system_config> make_config() {
  auto cfg = std::make_unique<caf::actor_system_config>();
  // Work sharing that polls before sleeping (runtime/spinning_sharing.hpp), and no more
  // CAF threads than cores: CAF's default is max(4, cores) (CAF_NOTES.md, traps 2-4).
  use_cask_scheduling(*cfg);
  return cfg;
}

}  // namespace

ClientState::ClientState(const ClientOptions& opts) {
  if (!opts.address.empty()) {
    connect(opts);
    return;
  }
  config_ = make_config();
  if (opts.workers < 0 || opts.threads_per_worker < 1)
    throw Error("cask::Client: workers must be >= 0 and threads_per_worker >= 1");
  system_ = std::make_shared<caf::actor_system>(*config_);
  const std::size_t n = opts.workers == 0 ? hardware_threads() : std::size_t(opts.workers);
  std::vector<WorkerInfo> infos;
  // The scheduler is spawned after the workers, but pools report capacity changes to it;
  // they reach it through this holder, filled in below before any task can run.
  auto scheduler_slot = std::make_shared<scheduler_actor>();
  for (std::size_t i = 0; i < n; ++i) {
    PoolHooks hooks;
    hooks.on_done = [scheduler_slot](JobPtr job) {
      caf::anon_send(*scheduler_slot, job_done_atom::value, std::move(job));
    };
    hooks.on_capacity = [scheduler_slot, i](int delta) {
      caf::anon_send(*scheduler_slot, capacity_atom::value, i, delta);
    };
    pools_.push_back(std::make_unique<ExecutionPool>(opts.threads_per_worker, this, std::move(hooks)));
    infos.push_back(WorkerInfo{spawn_worker(*system_, pools_.back().get()),
                               std::size_t(opts.threads_per_worker)});
  }
  scheduler_ = spawn_scheduler(*system_, std::move(infos));
  *scheduler_slot = scheduler_;
  supervisor_ = system_->spawn<Supervisor>();
  open_ = true;
}

void ClientState::connect(const ClientOptions& opts) {
  remote_ = true;
  const Address address = Address::parse(opts.address);
  address_ = address.str();
  system_ = node_system();
  try {
    // Twice: the process's connection to this address may be to a scheduler that has just
    // died (one restarted on the same port, say) and is not yet known to be gone.
    for (int attempt = 0;; ++attempt) {
      remote_scheduler_ = connect_scheduler(*system_, address, opts.connect_timeout);
      link_up_ = std::make_shared<std::atomic<bool>>(true);
      auto proxy = spawn_client_proxy(*system_, ProxyInit{remote_scheduler_, address_, link_up_});
      const auto each = std::max(std::chrono::milliseconds(200), opts.connect_timeout / 4);
      auto info = ask_patiently<ClusterInfo>(*system_, remote_scheduler_, 4, each, hello_atom::value,
                                             caf::actor_cast<caf::actor>(proxy));
      if (info && link_up_->load()) {
        for (auto& f : info->functions) functions_[f.name] = f.signature;
        connect_peers(*system_, info->peers, opts.connect_timeout);
        scheduler_ = proxy;
        break;
      }
      caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
      forget_scheduler(address_);
      if (attempt == 1)
        throw CommError("cask::CommError: the scheduler at " + address_ + " did not answer: " +
                        (info ? std::string("the connection was lost") : system_->render(info.error())));
    }
  } catch (...) {
    remote_scheduler_ = nullptr;
    system_.reset();
    throw;
  }
  supervisor_ = system_->spawn<Supervisor>();
  open_ = true;
}

void ClientState::check_runnable(const RemoteCall& call) {
  auto verdict = [&]() -> std::string {
    auto it = functions_.find(call.function);
    if (it == functions_.end())
      return "cask::NotRegisteredError: no worker of the cluster at " + address_ + " runs " +
             call.function + " (register it with CASK_REMOTE and preload it into the workers)";
    if (it->second != call.signature)
      return "cask::NotRegisteredError: " + call.function + " is " + call.signature +
             " here but " + it->second + " on the workers of " + address_;
    return {};
  };
  std::lock_guard lk(functions_mu_);
  if (verdict().empty()) return;
  ClusterInfo info;
  bool answered = false;
  {
    caf::scoped_actor self{*system_};
    self->request(remote_scheduler_, std::chrono::seconds(10), functions_atom::value)
        .receive([&](ClusterInfo& i) { info = std::move(i); answered = true; }, [](caf::error&) {});
  }
  if (!answered) throw CommError("cask::CommError: the scheduler at " + address_ + " did not answer");
  functions_.clear();
  for (auto& f : info.functions) functions_[f.name] = f.signature;
  if (auto why = verdict(); !why.empty()) throw NotRegisteredError(why);
}

bool is_remote(const ClientState& state) noexcept { return state.remote(); }

ClientState::~ClientState() { close(); }

void ClientState::close() {
  if (closing_.exchange(true)) return;
  {
    caf::scoped_actor self{*system_};
    // fire_and_forget work runs to completion first, then everything else stops.
    self->request(scheduler_, caf::infinite, drain_atom::value).receive([](bool) {}, [](caf::error&) {});
    self->request(scheduler_, caf::infinite, shutdown_atom::value).receive([](bool) {}, [](caf::error&) {});
  }
  caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
  // Running tasks were asked to stop; wait for them (a thread cannot be killed) and hand
  // queued jobs back so that every future actor can quit.
  for (auto& pool : pools_) pool->stop();
  {
    std::unique_lock lk(mu_);
    open_ = false;
    scheduler_ = nullptr;
    supervisor_ = nullptr;
    remote_scheduler_ = nullptr;
  }
  system_.reset();  // embedded: waits until every actor is gone
  pools_.clear();
  // Every future is final now; before stopping the callback thread, whose callbacks may
  // be waiting for exactly that.
  closed_.store(true, std::memory_order_release);
  closed_.notify_all();
  callbacks_.stop();
}

void ClientState::submit(SubmissionBatch batch) {
  if (remote_) {
    if (!link_up_->load())
      throw CommError("cask::CommError: lost the connection to the scheduler at " + address_);
    for (const auto& s : *batch)
      if (s.spec.remote->function != kClaimFunction) check_runnable(*s.spec.remote);  // claims never run
  }
  if (!send(submit_atom::value, std::move(batch)))
    throw CommError("cask::CommError: the client is closed");
}

void ClientState::scatter(const CorePtr& handle, Value value) {
  if (remote_) throw Error("cask::Error: scatter is not available on a remote cluster yet");
  if (!send(scatter_atom::value, handle->shared_key(), Outcome{Status::finished, std::move(value), nullptr},
            std::weak_ptr<FutureCore>(handle), reinterpret_cast<std::uintptr_t>(handle.get())))
    throw CommError("cask::CommError: the client is closed");
}

void ClientState::release(const Key& key, std::uintptr_t holder) {
  send(release_atom::value, key, holder);
}

bool ClientState::cancel(const std::vector<CorePtr>& handles) {
  auto batch = std::make_shared<std::vector<Cancellation>>();
  batch->reserve(handles.size());
  for (const auto& h : handles) batch->push_back(Cancellation{h->shared_key(), h});
  return send(cancel_atom::value, std::move(batch));
}

void ClientState::fire_and_forget(std::vector<std::string> keys) {
  send(forget_atom::value, std::move(keys));
}

ClusterStats ClientState::stats() {
  std::shared_lock lk(mu_);
  if (!open_) throw CommError("cask::CommError: the client is closed");
  ClusterStats out;
  caf::error failure;
  {
    caf::scoped_actor self{*system_};
    self->request(scheduler_, std::chrono::seconds(10), stats_atom::value)
        .receive([&](ClusterStats& s) { out = s; }, [&](caf::error& e) { failure = e; });
  }
  if (failure) throw CommError("cask::CommError: scheduler did not answer: " + system_->render(failure));
  out.future_actors = live_future_actors();
  if (!remote_) out.actors = live_actor_instances();  // remote: the scheduler counted them
  for (const auto& pool : pools_) out.slots_busy += pool->busy();
  return out;
}

std::shared_ptr<WaitLatch> ClientState::wait(std::vector<CorePtr> cores, WaitMode mode,
                                             std::optional<std::chrono::nanoseconds> timeout) {
  std::shared_lock lk(mu_);
  if (!open_) return nullptr;
  return start_waiter(*system_, std::move(cores), mode, timeout, supervisor_);
}

actor_host ClientState::spawn_host(ExecutionPool* pool, std::string key, Value instance) {
  std::shared_lock lk(mu_);
  if (!open_) throw CommError("cask::CommError: the client is closed");
  return detail::spawn_host(*system_, HostInit{pool, std::move(key), std::move(instance), supervisor_});
}

std::function<void()> ClientState::start_timer(std::chrono::nanoseconds delay,
                                               std::function<void()> fire) {
  std::shared_lock lk(mu_);
  if (!open_) return nullptr;
  return detail::start_timer(*system_, delay, std::move(fire), supervisor_);
}

}  // namespace cask::detail
