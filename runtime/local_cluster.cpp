// runtime/local_cluster.cpp: cask::LocalCluster, child processes (runtime/child_process.hpp)
// watched without blocking: every wait polls every 10 ms up to a deadline.
#include "cask/local_cluster.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "cask/client.hpp"
#include "cask/errors.hpp"
#include "cask/options.hpp"
#include "runtime/child_process.hpp"

namespace cask::detail {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds poll_interval{10};

/// Polls the scheduler at `address` through a Client until it counts at least `n` workers
/// or `deadline` passes, calling `each_poll` (which may throw) between polls. Returns the
/// last count. cask::Error when the scheduler cannot be reached.
std::size_t wait_until_joined(const std::string& address, std::size_t n,
                              Clock::time_point deadline,
                              const std::function<void()>& each_poll) {
  ClientOptions opts;
  opts.address = address;
  opts.connect_timeout = std::max(std::chrono::milliseconds(1),
                                  std::chrono::ceil<std::chrono::milliseconds>(
                                      deadline - Clock::now()));
  std::optional<Client> client;
  try {
    client.emplace(opts);
  } catch (const Error& e) {
    throw Error("cannot reach the scheduler at " + address + ": " + e.what());
  }
  for (;;) {
    const std::size_t workers = client->stats().workers;
    if (workers >= n || Clock::now() >= deadline) return workers;
    if (each_poll) each_poll();
    std::this_thread::sleep_for(poll_interval);
  }
}

/// True once the scheduler at `address` counts at least `n` workers, false when `timeout`
/// passes first (for tests that start workers themselves). cask::Error when the
/// scheduler cannot be reached.
bool wait_for_workers(const std::string& address, std::size_t n,
                      std::chrono::milliseconds timeout) {
  return wait_until_joined(address, n, Clock::now() + timeout, {}) >= n;
}

}  // namespace cask::detail

namespace cask {
namespace {

using detail::Clock;
using detail::poll_interval;
constexpr std::chrono::seconds stop_timeout{5};

using Process = detail::ChildProcess;

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

/// $CASK_BIN_DIR/name, else the build directory's, else the first on PATH.
std::string find_executable(const std::string& name) {
  if (const char* dir = std::getenv("CASK_BIN_DIR"); dir && *dir) {
    const std::string path = std::string(dir) + "/" + name;
    if (is_executable(path)) return path;
    throw Error("cask::LocalCluster: executable not found at path " + path +
                " (from CASK_BIN_DIR)");
  }
  std::string tried;
#ifdef CASK_DEFAULT_BIN_DIR
  if (const std::string path = std::string(CASK_DEFAULT_BIN_DIR) + "/" + name;
      is_executable(path))
    return path;
  tried = " at path " + std::string(CASK_DEFAULT_BIN_DIR) + "/" + name + " nor";
#endif
  const char* env_path = std::getenv("PATH");
  const std::string dirs = env_path ? env_path : "";
  for (std::size_t begin = 0; begin <= dirs.size();) {
    std::size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > begin ? dirs.substr(begin, end - begin) : ".";
    if (const std::string path = dir + "/" + name; is_executable(path)) return path;
    begin = end + 1;
  }
  throw Error("cask::LocalCluster: executable " + name + " not found" + tried +
              " on PATH (set CASK_BIN_DIR to the directory that holds it)");
}

/// The port in the scheduler's port file once it is complete: a line ending in '\n', or
/// the same text on two polls in a row (for a writer that neither renames nor ends it).
std::optional<std::uint16_t> read_port(const std::string& path, std::string& previous) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const bool complete = !text.empty() && (text.back() == '\n' || text == previous);
  previous = text;
  if (!complete) return std::nullopt;
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  const std::string digits = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  if (!digits.empty() && digits.size() <= 5 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const int port = std::stoi(digits);
    if (port > 0 && port <= 65535) return static_cast<std::uint16_t>(port);
  }
  throw Error("cask::LocalCluster: the scheduler's port file " + path + " holds \"" + text +
              "\", not a port");
}

std::string temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/cask-local-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    throw Error("cask::LocalCluster: cannot create a temporary directory " + pattern + ": " +
                std::strerror(errno));
  return pattern;
}

}  // namespace

struct LocalCluster::Impl {
  explicit Impl(LocalClusterOptions opts) : opts_(std::move(opts)) {}
  ~Impl() {
    stop();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  void start() {
    if (opts_.workers < 0 || opts_.threads_per_worker < 1)
      throw Error("cask::LocalCluster: workers must be >= 0 and threads_per_worker >= 1");
    const auto deadline = Clock::now() + opts_.start_timeout;
    const std::string within = " within " + std::to_string(opts_.start_timeout.count()) + " ms";
    const std::string scheduler_exe = find_executable("cask-scheduler");
    worker_exe_ = find_executable("cask-worker");
    dir_ = temp_dir();
    const std::string port_file = dir_ + "/port";
    std::lock_guard lock(mutex_);
    try {
      start_process(scheduler_, "the scheduler", scheduler_exe,
                    {"--host", "127.0.0.1", "--port", "0", "--port-file", port_file});
      std::string previous;
      std::optional<std::uint16_t> port;
      while (!(port = read_port(port_file, previous))) {
        if (scheduler_.try_reap())
          throw Error("cask::LocalCluster: the scheduler (" + scheduler_exe + ") " +
                      scheduler_.describe_exit() + " before listening");
        if (Clock::now() >= deadline)
          throw Error("cask::LocalCluster: the scheduler did not write its port to " +
                      port_file + within);
        std::this_thread::sleep_for(poll_interval);
      }
      address_ = "127.0.0.1:" + std::to_string(*port);

      for (int i = 0; i < opts_.workers; ++i) start_worker();
      const auto check = [this] {
        for (auto* p : all())
          if (p->try_reap())
            throw Error("cask::LocalCluster: " + p->what + " " + p->describe_exit() +
                        " before every worker had joined");
      };
      const auto n = static_cast<std::size_t>(opts_.workers);
      const std::size_t joined = detail::wait_until_joined(address_, n, deadline, check);
      if (joined < n)
        throw Error("cask::LocalCluster: workers did not join" + within + ": " +
                    std::to_string(joined) + " of " + std::to_string(n) +
                    " joined the scheduler at " + address_);
    } catch (const Error&) {
      kill_all();
      throw;
    } catch (const std::exception& e) {
      kill_all();
      throw Error(std::string("cask::LocalCluster: ") + e.what());
    }
  }

  // The members below expect mutex_ to be held.

  void start_process(Process& p, std::string what, const std::string& exe,
                     const std::vector<std::string>& args) {
    try {
      p.start(std::move(what), exe, args);
    } catch (const Error& e) {
      throw Error(std::string("cask::LocalCluster: ") + e.what());
    }
  }

  int start_worker() {
    const std::string name = "local-" + std::to_string(workers_.size());
    std::vector<std::string> args{address_, "--nthreads",
                                  std::to_string(opts_.threads_per_worker), "--name", name};
    for (const auto& lib : opts_.preload) {
      args.push_back("--preload");
      args.push_back(lib);
    }
    Process p;
    start_process(p, "worker " + name, worker_exe_, args);
    workers_.push_back(p);
    return p.pid;
  }

  std::vector<Process*> all() {
    std::vector<Process*> ps{&scheduler_};
    for (auto& w : workers_) ps.push_back(&w);
    return ps;
  }

  void kill_all() {
    for (auto* p : all()) p->send(SIGKILL);
    const auto deadline = Clock::now() + stop_timeout;
    for (auto* p : all()) p->reap_until(deadline);
  }

  /// Workers first, so that they leave the scheduler cleanly; SIGCONT wakes stopped ones.
  void stop() {
    std::lock_guard lock(mutex_);
    for (auto& w : workers_) {
      w.send(SIGTERM);
      w.send(SIGCONT);
    }
    const auto workers_deadline = Clock::now() + stop_timeout;
    for (auto& w : workers_) w.reap_until(workers_deadline);
    scheduler_.send(SIGTERM);
    scheduler_.send(SIGCONT);
    scheduler_.reap_until(Clock::now() + stop_timeout);
    kill_all();
  }

  const LocalClusterOptions opts_;
  std::string worker_exe_;
  std::string dir_;      // holds the scheduler's port file
  std::string address_;  // set once, in start()
  mutable std::mutex mutex_;
  Process scheduler_;
  std::vector<Process> workers_;
};

LocalCluster::LocalCluster() : LocalCluster(LocalClusterOptions{}) {}

// A throwing start() destroys impl_, whose destructor reaps what was started.
LocalCluster::LocalCluster(LocalClusterOptions opts)
    : impl_(std::make_unique<Impl>(std::move(opts))) {
  impl_->start();
}

LocalCluster::~LocalCluster() = default;

std::string LocalCluster::address() const { return impl_->address_; }

std::vector<int> LocalCluster::worker_pids() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<int> pids;
  for (const auto& w : impl_->workers_) pids.push_back(w.pid);
  return pids;
}

int LocalCluster::scheduler_pid() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->scheduler_.pid;
}

void LocalCluster::kill_worker(std::size_t i, int signal) {
  std::lock_guard lock(impl_->mutex_);
  if (i >= impl_->workers_.size())
    throw std::out_of_range("cask::LocalCluster::kill_worker: no worker " + std::to_string(i) +
                            " (" + std::to_string(impl_->workers_.size()) + " started)");
  impl_->workers_[i].kill(signal, stop_timeout);
}

void LocalCluster::kill_scheduler(int signal) {
  std::lock_guard lock(impl_->mutex_);
  impl_->scheduler_.kill(signal, stop_timeout);
}

int LocalCluster::add_worker() {
  std::lock_guard lock(impl_->mutex_);
  return impl_->start_worker();
}

}  // namespace cask
