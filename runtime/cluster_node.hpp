// runtime/cluster_node.hpp: what a process of a cask cluster runs (cask-scheduler,
// cask-worker) and how any process reaches a scheduler.
//
// Each node has its own CAF actor system with the io middleman loaded and the wire types
// of actors/cluster_protocols.hpp registered. Nodes identify as the CAF application
// "cask": a CAF program of another kind is refused at the handshake.
//
// Thread-safety: the run_* functions block the calling thread until stop is requested;
// request_stop() may be called from any thread (and from a signal handler).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <optional>

#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "actors/cluster_protocols.hpp"

namespace cask::detail {

/// "host:port" split; throws cask::Error on a malformed address.
struct Address {
  std::string host;
  std::uint16_t port = 0;
  static Address parse(const std::string& text);
  std::string str() const { return host + ":" + std::to_string(port); }
};

/// cask's CAF scheduling (polling work sharing, at most 2 threads), for every actor system.
void use_cask_scheduling(caf::actor_system_config& cfg);

/// A config for a network node: io middleman, wire types, "cask" app identifier, and at
/// most 2 CAF threads with cask's polling scheduler policy.
std::unique_ptr<caf::actor_system_config> make_node_config();

/// The actor system of this process's network node, shared by every remote client and the
/// worker or scheduler of the process, created on first use. One per process: CAF names a
/// node after its process id, so two systems in one process would be one node to their
/// peers, which confused their connections (joins that never got an answer). It lives
/// until the process exits: destroying a CAF 0.17 system whose middleman has had
/// connections was seen to hang now and then (in await_detached_threads), and clients may
/// come and go many times in one process. The executables end with std::_Exit for that
/// reason, once they have stopped serving.
std::shared_ptr<caf::actor_system> node_system();

/// Connects to the scheduler at `address` within `timeout`, or returns this process's
/// existing connection to it. `sys` must be node_system()'s (a connect that times out
/// finishes on its own thread later). Throws CommError naming the address and the reason:
/// nothing listens, no handshake in time, not a cask scheduler.
cluster_scheduler_actor connect_scheduler(caf::actor_system& sys, const Address& address,
                                          std::chrono::milliseconds timeout);

/// Opens this process's direct connections to the workers at `endpoints` ("host:port", from
/// ClusterInfo::peers), each once per process and never to itself, and waits for them, up
/// to `timeout` in all. Why: CAF routes a message to a node it has no connection to through
/// the node it learned of it from (the scheduler) and meanwhile opens a direct connection
/// of its own; messages sent after it opened overtook earlier ones still on the way round,
/// so one sender's actor calls ran out of order. A peer that cannot be reached is logged and
/// left to CAF's automatic connection.
void connect_peers(caf::actor_system& sys, const std::vector<std::string>& endpoints,
                   std::chrono::milliseconds timeout);

/// Asks `dest` and waits for the answer, asking again (up to `attempts` times, each bounded
/// by `each`) when none comes: on a fresh CAF connection the first request was seen to get
/// lost now and then. The receiver must treat a repeated request as the first.
/// Returns the answer, or the last error.
template <class Answer, class Dest, class... Ts>
caf::expected<Answer> ask_patiently(caf::actor_system& sys, const Dest& dest, int attempts,
                                    std::chrono::milliseconds each, const Ts&... xs) {
  caf::error last;
  for (int i = 0; i < attempts; ++i) {
    caf::scoped_actor self{sys};
    std::optional<Answer> answer;
    self->request(dest, each, xs...).receive([&](Answer& a) { answer = std::move(a); },
                                             [&](caf::error& e) { last = std::move(e); });
    if (answer) return std::move(*answer);
    if (last != caf::sec::request_timeout) break;  // an answer that is an error: final
  }
  return last;
}

/// Forgets the connection to the scheduler at `address` ("host:port") once it is lost, so
/// that the next connect_scheduler connects afresh.
void forget_scheduler(const std::string& address);

/// Set by signal handlers and tests; run_* return soon after.
class StopFlag {
 public:
  void request_stop() noexcept {
    stop_.store(true);
    stop_.notify_all();
  }
  bool stop_requested() const noexcept { return stop_.load(); }
  /// Waits until stop is requested or `timeout` passes; true when stop was requested.
  bool wait_for(std::chrono::milliseconds timeout) const;

 private:
  std::atomic<bool> stop_{false};
};

struct SchedulerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8786;  // 0: any free port
  /// Workers a task may see die under it before it is marked failed (Dask's
  /// distributed.scheduler.allowed-failures).
  int allowed_failures = 3;
  /// Written with the port actually bound once listening (for --port 0), if not empty.
  std::string port_file;
};

/// Runs a scheduler until `stop`; returns the process exit code (1: cannot listen).
int run_scheduler(const SchedulerConfig& config, const StopFlag& stop);

struct WorkerConfig {
  Address scheduler;
  int nthreads = 1;
  std::string name;                  // empty: "<hostname>-<pid>"
  std::vector<std::string> preload;  // shared libraries to dlopen before joining
  /// How long to keep trying to reach a scheduler that is not (or no longer) there
  /// before giving up; zero: forever.
  std::chrono::milliseconds death_timeout{0};
};

/// Loads the preload libraries (cask::Error when one cannot be opened or registers no
/// function), joins the scheduler, runs tasks; reconnects when the scheduler goes away
/// and comes back. Returns the process exit code.
int run_worker(const WorkerConfig& config, const StopFlag& stop);

}  // namespace cask::detail
