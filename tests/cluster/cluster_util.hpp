// tests/cluster/cluster_util.hpp: helpers of the cluster-mode cases on top of
// tests/cluster_support/cluster_fixture.hpp: reading the log files tasks append to,
// running cask-worker by hand, and plain TCP peers (a silent server, a garbage server,
// a raw client) for the network error cases. Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster_support/cluster_fixture.hpp"

extern char** environ;

namespace cask_cluster_test {

/// The lines of a file (none when it does not exist).
inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::size_t count_lines(const std::string& path, const std::string& line) {
  std::size_t n = 0;
  for (const auto& l : read_lines(path)) n += (l == line);
  return n;
}

/// Bounded wait until the file `path` holds the line `line`.
inline bool wait_for_line(const std::string& path, const std::string& line,
                          std::chrono::milliseconds patience = kPatience) {
  return eventually([&] { return count_lines(path, line) > 0; }, patience);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The message of the exception `call` throws ("(no exception)" when it throws none).
template <class F>
std::string error_of(F&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

/// A one-shot event for callbacks that run on cask's threads.
class Latch {
 public:
  void count_down() {
    {
      std::lock_guard lk(mu_);
      ++count_;
    }
    cv_.notify_all();
  }
  int count() const {
    std::lock_guard lk(mu_);
    return count_;
  }
  bool wait_for(int n, std::chrono::milliseconds patience = kPatience) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, patience, [&] { return count_ >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

/// A child process started with posix_spawn, stdout and stderr into `output`.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& output) : output_(output) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + " failed: " + std::to_string(rc));
  }
  ~Process() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Bounded wait for the process to exit: its exit code, or -signal when a signal ended
  /// it; nullopt when it is still running after `patience`.
  std::optional<int> wait_exit(std::chrono::milliseconds patience = kPatience) {
    if (reaped_) return code_;
    const auto until = std::chrono::steady_clock::now() + patience;
    for (;;) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return code_;
      }
      if (std::chrono::steady_clock::now() > until) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }
  std::string output() const { return read_text(output_); }
  int pid() const { return pid_; }

 private:
  std::string output_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int code_ = 0;
};

/// "127.0.0.1:PORT".
inline std::string loopback(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

inline std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

/// A port on 127.0.0.1 where nothing listens (bound to find a free one, then closed).
inline std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// A plain TCP server on 127.0.0.1: accepts every connection, writes `greeting` to it
/// (nothing when empty), then keeps it open and silent until destroyed.
class TcpServer {
 public:
  explicit TcpServer(std::string greeting = {}) : greeting_(std::move(greeting)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("TcpServer: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TcpServer() { stop(); }
  /// Stops accepting and closes every connection (a blocked peer then sees EOF).
  void stop() {
    if (stop_.exchange(true)) return;
    thread_.join();
    for (int c : clients_) ::close(c);
    ::close(fd_);
  }
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return loopback(port_); }
  int accepted() const { return accepted_.load(); }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      if (!greeting_.empty()) (void)!::send(c, greeting_.data(), greeting_.size(), MSG_NOSIGNAL);
      clients_.push_back(c);
      ++accepted_;
    }
  }

  std::string greeting_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> clients_;
  std::thread thread_;
};

/// A raw TCP connection to 127.0.0.1:port (throws when it cannot connect).
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("RawConnection: cannot connect to port " + std::to_string(port));
    }
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Sends everything it can; false once the peer has closed the connection.
  bool send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  /// Whatever arrives within `patience` (up to `max` bytes); stops early at EOF.
  std::string receive_some(std::chrono::milliseconds patience, std::size_t max = 4096) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + patience;
    while (out.size() < max) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[1024];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  /// This end's port: how the peer names the connection in its log lines.
  std::uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

 private:
  int fd_ = -1;
};

/// Sends this process's stderr to the file `path` while it lives, so that the processes
/// started meanwhile (a LocalCluster's) write their log lines there for good.
class StderrToFile {
 public:
  explicit StderrToFile(const std::string& path) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (saved_ < 0 || fd < 0) throw std::runtime_error("StderrToFile: cannot open " + path);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrToFile() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
  }
  StderrToFile(const StderrToFile&) = delete;
  StderrToFile& operator=(const StderrToFile&) = delete;

 private:
  int saved_ = -1;
};

/// A CAF 0.17 BASP header (32 bytes, network byte order): operation, two padding bytes,
/// flags, payload length, operation data, source and destination actor ids (64 bits).
inline std::string basp_header(std::uint8_t operation, std::uint32_t payload_len,
                               std::uint64_t operation_data = 0, std::uint64_t source = 0,
                               std::uint64_t dest = 0, std::uint8_t flags = 0) {
  std::string h;
  auto put = [&](std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) h.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(operation, 1);
  put(0, 2);
  put(flags, 1);
  put(payload_len, 4);
  put(operation_data, 8);
  put(source, 8);
  put(dest, 8);
  return h;
}

/// Constructs a Client with `opts` on a thread of its own and waits at most `patience`
/// for the constructor to throw (or return). Returns what happened: "CommError: <what>",
/// "other: <what>", "connected", or "hung" when the constructor had not returned in time.
/// `unblock` is called before waiting for a hung constructor a second time (e.g. closing
/// the peer's connections); should it still not return, its thread is left behind.
template <class Unblock>
std::string connect_outcome(const cask::ClientOptions& opts, std::chrono::milliseconds patience,
                            Unblock unblock) {
  struct State {
    Latch done;
    std::string outcome;
  };
  auto state = std::make_shared<State>();
  std::thread t([opts, state] {
    try {
      cask::Client client{opts};
      state->outcome = "connected";
    } catch (const cask::CommError& e) {
      state->outcome = std::string("CommError: ") + e.what();
    } catch (const std::exception& e) {
      state->outcome = std::string("other: ") + e.what();
    }
    state->done.count_down();
  });
  if (state->done.wait_for(1, patience)) {
    t.join();
    return state->outcome;
  }
  unblock();
  if (state->done.wait_for(1, kPatience))
    t.join();
  else
    t.detach();
  return "hung";
}

/// True while the process `pid` exists (a child that has not been reaped counts).
inline bool process_alive(int pid) { return ::kill(pid, 0) == 0; }

}  // namespace cask_cluster_test
