// tests/faults/fault_support.hpp: what the failure and locality tests need beyond
// cluster_support/cluster_fixture.hpp: reading the tasks' logs, looking at processes
// through /proc (liveness, I/O and TCP byte counters), and starting cask-scheduler /
// cask-worker by hand (for a scheduler restarted on the same port).
// Everything polls with a bound; nothing sleeps in the hope that something happened.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>  // struct tcp_info with tcpi_bytes_received (glibc's is older)
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/child_process.hpp"

namespace fault_test {

using namespace std::chrono_literals;

/// Time since `t0`.
inline std::chrono::nanoseconds since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::steady_clock::now() - t0;
}

/// The lines of `path` (none when it does not exist yet).
inline std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

/// Lines of `path` whose first word is `word` (all lines when `word` is empty).
inline std::size_t count_lines(const std::string& path, const std::string& word = {}) {
  std::size_t n = 0;
  for (const auto& line : read_lines(path))
    if (word.empty() || line.rfind(word + " ", 0) == 0 || line == word) ++n;
  return n;
}

/// The last word of each line of `path` whose first word is `word` (the pid, by the tasks'
/// convention "<event> ... <pid>").
inline std::vector<int> pids_in(const std::string& path, const std::string& word) {
  std::vector<int> out;
  for (const auto& line : read_lines(path)) {
    if (line.rfind(word + " ", 0) != 0) continue;
    out.push_back(std::stoi(line.substr(line.rfind(' ') + 1)));
  }
  return out;
}

/// True while `pid` exists and has not exited (a zombie has exited).
inline bool process_running(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  const auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return false;
  const char state = text[paren + 2];
  return state != 'Z' && state != 'X';
}

/// A counter of /proc/<pid>/io ("rchar", "wchar", ...); nullopt when unreadable.
inline std::optional<std::uint64_t> proc_io(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  for (std::string name; in >> name;) {
    std::uint64_t value = 0;
    in >> value;
    if (name == field + ":") return value;
  }
  return std::nullopt;
}

/// Bytes received so far on the TCP sockets `pid` holds open (tcp_info.tcpi_bytes_received
/// of each, read through a duplicate of its descriptor obtained with pidfd_getfd; the
/// tests are the parents of the processes they look at). nullopt when the kernel does not
/// allow it. Unlike rchar, this counts recv(2)/recvmsg(2), which is how CAF reads sockets.
inline std::optional<std::uint64_t> tcp_bytes_received(int pid) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return std::nullopt;
  std::uint64_t total = 0;
  bool any = false;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code lec;
    const auto target = std::filesystem::read_symlink(entry.path(), lec).string();
    if (lec || target.rfind("socket:", 0) != 0) continue;
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (...) {
      continue;
    }
    const int mine = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0));
    if (mine < 0) continue;
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(mine, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
        len >= offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) {
      total += info.tcpi_bytes_received;
      any = true;
    }
    ::close(mine);
  }
  ::close(pidfd);
  if (!any) return std::nullopt;
  return total;
#else
  (void)pid;
  return std::nullopt;
#endif
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

/// The port of "host:port".
inline int port_of(const std::string& address) { return std::stoi(address.substr(address.rfind(':') + 1)); }

/// The socket inodes `pid` holds open.
inline std::vector<std::string> socket_inodes(int pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code lec;
    const auto target = std::filesystem::read_symlink(entry.path(), lec).string();
    if (!lec && target.rfind("socket:[", 0) == 0) out.push_back(target.substr(8, target.size() - 9));
  }
  return out;
}

/// The inode of the open TCP socket from local port `local_port` to remote port
/// `remote_port` (/proc/net/tcp). Both ends are matched, and sockets without an owner
/// (inode 0: TIME_WAIT leftovers of an earlier connection that used the same ephemeral
/// port) are skipped; matching the local port alone once picked such a leftover.
inline std::optional<std::string> tcp_inode_of_connection(int local_port, int remote_port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char want_local[16], want_remote[16];
  std::snprintf(want_local, sizeof want_local, ":%04X", local_port);
  std::snprintf(want_remote, sizeof want_remote, ":%04X", remote_port);
  const auto ends_with = [](const std::string& s, const char* tail) {
    const std::string t = tail;
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
    fields >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (ends_with(local, want_local) && ends_with(remote, want_remote) && inode != "0") return inode;
  }
  return std::nullopt;
}

/// Listens on 127.0.0.1:port (SO_REUSEADDR: the port of a scheduler that just died) and
/// accepts connections, to observe who tries to reach a scheduler there.
class PortListener {
 public:
  explicit PortListener(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
      const std::string why = std::strerror(errno);
      ::close(fd_);
      throw std::runtime_error("cannot listen on port " + std::to_string(port) + ": " + why);
    }
  }
  ~PortListener() {
    for (int c : accepted_) ::close(c);
    ::close(fd_);
  }
  PortListener(const PortListener&) = delete;
  PortListener& operator=(const PortListener&) = delete;

  /// Accepts one connection within `timeout` and keeps it open (the peer waits for a
  /// greeting that never comes, so its socket stays open while we look at it). Returns the
  /// peer's (local, to it) port, or nullopt.
  std::optional<int> accept_one(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const int c = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (c < 0) return std::nullopt;
    accepted_.push_back(c);
    return ntohs(peer.sin_port);
  }
  /// Closes the connections accepted so far (their peers see the close and retry).
  void drop_accepted() {
    for (int c : accepted_) ::close(c);
    accepted_.clear();
  }

 private:
  int fd_ = -1;
  std::vector<int> accepted_;
};

/// A child process started like LocalCluster's (runtime/child_process.hpp; stdout/stderr
/// shared with the test); the destructor sends SIGTERM, waits up to 5 s, then SIGKILL, and
/// reaps it.
class ChildProcess {
 public:
  ChildProcess(const std::string& exe, const std::vector<std::string>& args) { process_.start(exe, exe, args); }
  ~ChildProcess() { process_.stop(5s); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return process_.pid; }
  /// True while the process has not exited (reaps it when it has).
  bool running() { return !process_.try_reap(); }
  /// Bounded wait for the process to exit; true once it has (and is reaped).
  bool wait_exit(std::chrono::milliseconds limit) {
    return process_.reap_until(std::chrono::steady_clock::now() + limit);
  }
  /// SIGKILL, and reaped within 5 s.
  bool kill_now() {
    process_.kill(SIGKILL, 5s);
    return process_.reaped;
  }
  int status() const { return process_.status; }

 private:
  cask::detail::ChildProcess process_;
};

}  // namespace fault_test
