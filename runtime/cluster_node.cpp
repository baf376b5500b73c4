// Cluster nodes: actor system configuration, reaching a scheduler, and the main loops of
// cask-scheduler and cask-worker.
#include "runtime/cluster_node.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/cluster_scheduler.hpp"
#include "actors/cluster_worker.hpp"
#include "cask/errors.hpp"
#include "cask/remote.hpp"
#include "runtime/basp_watch.hpp"
#include "runtime/bulk_channel.hpp"
#include "runtime/client_state.hpp"
#include "runtime/coordinator.hpp"
#include "runtime/execution_pool.hpp"
#include "runtime/log.hpp"
#include "runtime/spinning_multiplexer.hpp"

namespace cask::detail {

Address Address::parse(const std::string& text) {
  const auto colon = text.rfind(':');
  Address a;
  std::string port;
  if (colon == std::string::npos) {
    a.host = text;
  } else {
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (a.host.starts_with("tcp://")) a.host.erase(0, 6);
  char* end = nullptr;
  const long p = port.empty() ? -1 : std::strtol(port.c_str(), &end, 10);
  if (a.host.empty() || p <= 0 || p > 65535 || *end != '\0')
    throw Error("cask::Error: \"" + text + "\" is not a scheduler address (expected host:port)");
  a.port = static_cast<std::uint16_t>(p);
  return a;
}

bool StopFlag::wait_for(std::chrono::milliseconds timeout) const {
  // A futex wait has no timeout in C++20: poll in short steps (only used by main loops).
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!stop_requested()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void use_cask_scheduling(caf::actor_system_config& cfg) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", std::min<std::size_t>(2, cores));
  cfg.module_factories.push_back([](caf::actor_system& sys) -> caf::actor_system::module* {
    return new Coordinator(sys);
  });
}

namespace {
bool scheduler_process = false;  // set by run_scheduler before the node system exists
}  // namespace

std::unique_ptr<caf::actor_system_config> make_node_config() {
  auto cfg = std::make_unique<caf::actor_system_config>();
  use_cask_scheduling(*cfg);
  // The scheduler, which every peer connects to, logs the peers CAF drops and refuses
  // oversize pre-handshake payloads (runtime/basp_watch.hpp). Workers and clients load
  // CAF's own middleman: with the watched broker, calls to a hosted actor sent straight to
  // a worker failed to serialise (CAF: "a type was not added to the types list").
  if (scheduler_process)
    load_watched_middleman(*cfg);
  else
    cfg->load<caf::io::middleman, SpinningMultiplexer>();
  cfg->set("middleman.app-identifiers", std::vector<std::string>{"cask"});
  // Values go from worker to worker (and worker to client) on a direct connection, which
  // CAF opens once a node learns of another one; without it, CAF would route them through
  // the scheduler's process, the only node everybody is connected to.
  cfg->set("middleman.enable-automatic-connections", !scheduler_process);
  cfg->add_message_type<ArgRef>("cask.ArgRef");
  cfg->add_message_type<WireTask>("cask.WireTask");
  cfg->add_message_type<WireRun>("cask.WireRun");
  cfg->add_message_type<WireResult>("cask.WireResult");
  cfg->add_message_type<WireRunId>("cask.WireRunId");
  cfg->add_message_type<WireOutcome>("cask.WireOutcome");
  cfg->add_message_type<WireData>("cask.WireData");
  cfg->add_message_type<WireFunction>("cask.WireFunction");
  cfg->add_message_type<WorkerHello>("cask.WorkerHello");
  cfg->add_message_type<ClusterInfo>("cask.ClusterInfo");
  cfg->add_message_type<ClusterStats>("cask.ClusterStats");
  cfg->add_message_type<SchedulerCounters>("cask.SchedulerCounters");
  cfg->add_message_type<WireCoordOpen>("cask.WireCoordOpen");
  cfg->add_message_type<WireOpened>("cask.WireOpened");
  cfg->add_message_type<WireCoord>("cask.WireCoord");
  cfg->add_message_type<WireCoordAnswer>("cask.WireCoordAnswer");
  cfg->add_message_type<WireActorCall>("cask.WireActorCall");
  return cfg;
}

std::shared_ptr<caf::actor_system> node_system() {
  struct Node {
    std::unique_ptr<caf::actor_system_config> config = make_node_config();
    caf::actor_system system{*config};
  };
  // Never destroyed (see the header): a non-owning handle.
  static Node* node = new Node;
  return std::shared_ptr<caf::actor_system>(std::shared_ptr<void>(), &node->system);
}

namespace {

[[noreturn]] void unreachable(const Address& a, const std::string& why) {
  throw CommError("cask::CommError: cannot reach a cask scheduler at " + a.str() + ": " + why);
}

}  // namespace

namespace {
// The schedulers this process is connected to, by address: a second client of the same
// scheduler (a worker's own client, a program's second Client) uses the same connection.
// A second connect to a node that is already connected was seen to leave its requests
// unanswered.
std::mutex connected_mu;
std::map<std::string, cluster_scheduler_actor> connected;  // guarded by connected_mu
}  // namespace

cluster_scheduler_actor connect_scheduler(caf::actor_system& sys, const Address& address,
                                          std::chrono::milliseconds timeout) {
  std::lock_guard lk(connected_mu);
  if (auto it = connected.find(address.str()); it != connected.end()) return it->second;
  // CAF's connect has no deadline: on a peer that accepts and stays silent, or stops in the
  // middle of its handshake, it waits for minutes. It runs on a thread of its own, which
  // is left to finish by itself when the deadline passes first (the node's actor system
  // lives as long as the process, see node_system()).
  using Result = caf::expected<cluster_scheduler_actor>;
  auto outcome = std::make_shared<std::promise<Result>>();
  auto answer = outcome->get_future();
  std::thread([&sys, host = address.host, port = address.port, outcome] {
    outcome->set_value(sys.middleman().remote_actor<cluster_scheduler_actor>(host, port));
  }).detach();
  if (answer.wait_for(timeout) != std::future_status::ready)
    unreachable(address, "no cask handshake within " + std::to_string(timeout.count()) +
                             " ms (not a cask scheduler?)");
  Result result = answer.get();
  if (!result) {
    const bool refused = result.error() == caf::sec::cannot_connect_to_node;
    unreachable(address, refused ? "nothing listens there (" + sys.render(result.error()) + ")"
                                 : "not a cask scheduler (" + sys.render(result.error()) + ")");
  }
  connected.emplace(address.str(), *result);
  // Forget the connection when the scheduler goes away, so that the next client of this
  // address connects afresh (to a scheduler restarted on the same port, say).
  // (Spawned with arguments: CAF dereferences a null argument tuple otherwise, see UBSan.)
  auto watch = [](caf::event_based_actor* self, cluster_scheduler_actor scheduler,
                  std::string key) -> caf::behavior {
    self->monitor(scheduler);
    self->set_down_handler([self, key](caf::down_msg&) {
      forget_scheduler(key);
      self->quit();
    });
    return {[](stop_atom) {}};
  };
  sys.spawn(watch, *result, address.str());
  return *result;
}

void forget_scheduler(const std::string& address) {
  std::lock_guard lk(connected_mu);
  connected.erase(address);
}

namespace {
// The workers this process has connected to (or is connecting to), and its own CAF port
// when it is a worker: a second connection between two nodes, or one to itself, left
// requests unanswered in CAF 0.17 (see connected above).
std::mutex peers_mu;
std::set<std::string> peers_connected;  // guarded by peers_mu
std::string own_endpoint;               // guarded by peers_mu
}  // namespace

void connect_peers(caf::actor_system& sys, const std::vector<std::string>& endpoints,
                   std::chrono::milliseconds timeout) {
  // Fault injection for tests: CASK_TEST_NO_PEER_CONNECT=1 leaves every worker reached
  // through the scheduler's node, as before CAF makes a direct connection.
  if (const char* off = std::getenv("CASK_TEST_NO_PEER_CONNECT"); off && std::string(off) == "1") return;
  using Result = std::pair<std::string, caf::expected<caf::node_id>>;
  std::vector<std::future<Result>> pending;
  {
    std::lock_guard lk(peers_mu);
    for (const auto& endpoint : endpoints) {
      if (endpoint == own_endpoint || !peers_connected.insert(endpoint).second) continue;
      // CAF's connect has no deadline: on its own thread, as in connect_scheduler.
      auto outcome = std::make_shared<std::promise<Result>>();
      pending.push_back(outcome->get_future());
      std::thread([&sys, endpoint, outcome] {
        const Address a = Address::parse(endpoint);
        outcome->set_value({endpoint, sys.middleman().connect(a.host, a.port)});
      }).detach();
    }
  }
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (auto& f : pending) {
    if (f.wait_until(until) != std::future_status::ready) continue;  // CAF connects later
    auto [endpoint, node] = f.get();
    if (node) continue;
    log::warn("no direct connection to the worker at " + endpoint + " (" + sys.render(node.error()) +
              "): messages go through the scheduler until CAF makes one");
    std::lock_guard lk(peers_mu);
    peers_connected.erase(endpoint);
  }
}

// --- cask-scheduler ------------------------------------------------------------------

int run_scheduler(const SchedulerConfig& config, const StopFlag& stop) {
  // Everybody connects to the scheduler; it must not open connections of its own to the
  // nodes it learns of (their ports are for fetches), or two connections would join the
  // same pair of nodes, which CAF 0.17 handles badly: requests went unanswered.
  scheduler_process = true;
  auto node = node_system();
  caf::actor_system& sys = *node;
  auto scheduler = spawn_cluster_scheduler(sys, ClusterSchedulerInit{config.allowed_failures});
  auto port = sys.middleman().publish(scheduler, config.port, config.host.c_str(), true);
  if (!port) {
    log::error("cannot listen on " + config.host + ":" + std::to_string(config.port) + ": " +
               sys.render(port.error()));
    caf::anon_send(scheduler, stop_atom::value);
    return 1;
  }
  log::info("listening on " + config.host + ":" + std::to_string(*port));
  if (!config.port_file.empty()) {
    const std::string tmp = config.port_file + ".tmp";
    std::ofstream(tmp) << *port << "\n";
    std::rename(tmp.c_str(), config.port_file.c_str());  // readers never see half a file
  }
  while (!stop.wait_for(std::chrono::milliseconds(200))) {
  }
  log::info("stopping");
  sys.middleman().unpublish(scheduler, *port);
  caf::anon_send(scheduler, stop_atom::value);
  return 0;
}

// --- cask-worker -------------------------------------------------------------------

namespace {

std::string default_worker_name() {
  char host[256] = "worker";
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

void preload(const std::vector<std::string>& libraries) {
  for (const auto& lib : libraries) {
    const std::size_t before = remote_registry::list().size();
    if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
      const char* why = dlerror();
      throw Error("cask::Error: cannot preload " + lib + ": " + (why ? why : "unknown error"));
    }
    const std::size_t after = remote_registry::list().size();
    if (after == before)
      throw Error("cask::Error: " + lib + " registers no function (CASK_REMOTE)");
    log::info("preloaded " + lib + " (" + std::to_string(after - before) + " functions)");
  }
}

/// One connection to the scheduler: join, run tasks until the scheduler goes away or stop
/// is requested. Returns false when the scheduler refused this worker.
bool serve(caf::actor_system& sys, const WorkerConfig& config, const std::string& name,
           const std::string& endpoint, cluster_scheduler_actor scheduler, BulkServer* bulk,
           const BulkEndpoint& bulk_at, const StopFlag& stop) {
  // Tasks may submit work themselves (get_client): a client of the same scheduler.
  ClientOptions client_opts;
  client_opts.address = config.scheduler.str();
  std::shared_ptr<ClientState> client;
  try {
    client = std::make_shared<ClientState>(client_opts);
  } catch (const CommError& e) {
    log::warn(std::string("cannot open this worker's client of the scheduler: ") + e.what());
    forget_scheduler(config.scheduler.str());
    return true;  // try the whole connection again
  }
  set_default_client(client);

  auto store = std::make_shared<WorkerStore>();
  if (bulk) bulk->serve_from([store](const std::string& key) { return store->get(key); });
  auto lost = std::make_shared<std::atomic<bool>>(false);
  auto self_slot = std::make_shared<cluster_worker_actor>();
  PoolHooks hooks;
  hooks.on_done = [self_slot, store](JobPtr job) {
    if (store->post(std::move(job))) caf::anon_send(*self_slot, flush_atom::value);
  };
  hooks.on_capacity = [self_slot, scheduler](int delta) {
    caf::send_as(*self_slot, scheduler, slots_atom::value, caf::actor_cast<caf::actor>(*self_slot),
                 std::int32_t(delta));
  };
  auto pool = std::make_unique<ExecutionPool>(std::size_t(config.nthreads), client.get(), std::move(hooks));
  *self_slot = spawn_cluster_worker(sys, ClusterWorkerInit{scheduler, pool.get(), store, lost, bulk_at});

  WorkerHello hello;
  hello.name = name;
  hello.nthreads = std::uint32_t(config.nthreads);
  for (const auto& f : remote_registry::list()) hello.functions.push_back({f.name, f.signature});
  hello.self = caf::actor_cast<caf::actor>(*self_slot);
  hello.endpoint = endpoint;
  ClusterInfo info;
  caf::error failure;
  auto answer = ask_patiently<ClusterInfo>(sys, scheduler, 5, std::chrono::milliseconds(2000),
                                           register_atom::value, hello);
  if (answer)
    info = std::move(*answer);
  else
    failure = answer.error();
  bool joined = !failure && info.refused.empty();
  if (!joined) forget_scheduler(config.scheduler.str());  // connect afresh next time
  if (failure) log::error("the scheduler did not answer the join: " + sys.render(failure));
  if (!info.refused.empty()) log::error("the scheduler refused this worker: " + info.refused);
  if (joined) {
    log::info("joined the scheduler at " + config.scheduler.str() + " as " + name + " (" +
              std::to_string(config.nthreads) + " threads, " + std::to_string(hello.functions.size()) +
              " functions)");
    while (!lost->load() && !stop.wait_for(std::chrono::milliseconds(50))) {
    }
  }
  if (lost->load()) forget_scheduler(config.scheduler.str());
  // Running tasks are asked to stop and queued ones handed back: the scheduler runs them
  // elsewhere once it sees this worker leave.
  pool->stop();
  caf::anon_send(*self_slot, stop_atom::value);
  client->close();
  store->clear();
  return info.refused.empty();  // refused: give up; otherwise reconnect
}

}  // namespace

int run_worker(const WorkerConfig& config, const StopFlag& stop) {
  preload(config.preload);
  const std::string name = config.name.empty() ? default_worker_name() : config.name;
  auto node = node_system();  // shared with the client that tasks' get_client() uses
  caf::actor_system& sys = *node;
  // Peers reach this node at the address this host reaches the scheduler from (the
  // address the cluster knows this node by).
  const std::string host = local_address_towards(config.scheduler.host, config.scheduler.port);
  // Other workers and clients connect here (connect_peers), for fetches and actor calls.
  std::string endpoint;
  if (auto port = sys.middleman().open(0, nullptr, true); port) {
    log::info("serving values on port " + std::to_string(*port));
    if (!host.empty()) endpoint = host + ":" + std::to_string(*port);
    std::lock_guard lk(peers_mu);
    own_endpoint = endpoint;
  } else {
    log::warn("cannot open a port for direct fetches (" + sys.render(port.error()) +
              "): values will be relayed by the scheduler's process");
  }
  // Big values go to other workers and clients over the bulk channel.
  std::unique_ptr<BulkServer> bulk;
  BulkEndpoint bulk_at;
  try {
    bulk = std::make_unique<BulkServer>();
    bulk_at = {host, bulk->port()};
    if (bulk_at.host.empty()) throw Error("no local address towards " + config.scheduler.str());
    log::info("serving big values on " + bulk_at.str());
  } catch (const Error& e) {
    log::warn(std::string(e.what()) + ": big values will travel through CAF");
    bulk_at = {};
  }
  auto unreachable_since = std::chrono::steady_clock::now();
  bool said = false;
  while (!stop.stop_requested()) {
    cluster_scheduler_actor scheduler;
    try {
      scheduler = connect_scheduler(sys, config.scheduler, std::chrono::milliseconds(5000));
    } catch (const CommError& e) {
      if (!said) log::warn(std::string(e.what()) + "; retrying");
      said = true;
      if (config.death_timeout.count() > 0 &&
          std::chrono::steady_clock::now() - unreachable_since > config.death_timeout) {
        log::error("no scheduler within the death timeout; exiting");
        return 1;
      }
      stop.wait_for(std::chrono::milliseconds(500));
      continue;
    }
    said = false;
    if (!serve(sys, config, name, endpoint, scheduler, bulk.get(), bulk_at, stop)) return 1;
    unreachable_since = std::chrono::steady_clock::now();
  }
  log::info("stopped");
  return 0;
}

}  // namespace cask::detail
