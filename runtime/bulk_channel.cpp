#include "runtime/bulk_channel.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "cask/errors.hpp"
#include "runtime/log.hpp"

namespace cask::detail {
namespace {

constexpr char kRequestMagic[4] = {'C', 'S', 'K', 'Q'};
constexpr char kAnswerMagic[4] = {'C', 'S', 'K', 'A'};
constexpr std::size_t kRequestHead = 8;  // magic + key length
constexpr std::size_t kAnswerHead = 13;  // magic + found + value length
// A value longer than this in an answer means a broken holder (no allocation is tried).
constexpr std::uint64_t kMaxValueLength = std::uint64_t(1) << 40;
// A request must arrive whole within this once it has started; an idle connection may wait
// for its next request for ever (the fetchers pool them).
constexpr int kStallSeconds = 10;
// A fetcher gives up on a holder that does not answer for this long (a holder that dies
// resets the connection at once).
constexpr int kFetchStallSeconds = 60;
// Each connection has a thread: more at once than this is refused.
constexpr std::size_t kMaxConnections = 64;

void put_u32(char* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = char(v & 0xff);
}
void put_u64(char* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = char(v & 0xff);
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | std::uint8_t(p[i]);
  return v;
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | std::uint8_t(p[i]);
  return v;
}

void set_timeout(int fd, int option, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

/// Reads up to `n` bytes; returns how many arrived before EOF, an error or a timeout
/// (errno tells which when fewer than `n`: 0 for EOF).
std::size_t read_full(int fd, char* p, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, p + got, n - got, MSG_WAITALL);
    if (r > 0) {
      got += std::size_t(r);
      continue;
    }
    if (r == 0) {
      errno = 0;
      return got;
    }
    if (errno == EINTR) continue;
    return got;
  }
  return got;
}

/// Writes every byte of the buffers (the value straight from its owner's memory).
bool write_all(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = std::size_t(count);
    const ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = std::size_t(w);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

std::string peer_name(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown peer";
  char host[INET6_ADDRSTRLEN] = {};
  std::uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

std::string why(std::size_t got, std::size_t wanted) {
  return std::to_string(got) + " of " + std::to_string(wanted) + " bytes, then " +
         (errno == 0 ? std::string("the peer closed")
          : errno == EAGAIN || errno == EWOULDBLOCK
              ? "nothing for " + std::to_string(kStallSeconds) + " s"
              : std::string(std::strerror(errno)));
}

}  // namespace

std::string local_address_towards(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
    return {};
  std::string out;
  // Connecting a UDP socket sends nothing; it only picks the route and so the local address.
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
    sockaddr_in local{};
    socklen_t len = sizeof local;
    char text[INET_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        ::inet_ntop(AF_INET, &local.sin_addr, text, sizeof text))
      out = text;
  }
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(found);
  return out;
}

// --- BulkServer --------------------------------------------------------------------------

struct BulkServer::Impl {
  int listener = -1;
  int wake[2] = {-1, -1};  // written to stop the accept loop
  std::uint16_t port = 0;
  std::thread acceptor;

  std::mutex mu;
  Lookup lookup;  // guarded by mu
  struct Connection {
    int fd;  // guarded by mu once its thread runs; -1 once closed
    std::thread thread;
    bool done = false;
  };
  std::list<Connection> connections;  // guarded by mu
  bool stopping = false;              // guarded by mu

  std::shared_ptr<const Bytes> find(const std::string& key) {
    Lookup l;
    {
      std::lock_guard lk(mu);
      l = lookup;
    }
    return l ? l(key) : nullptr;
  }

  void accept_loop() {
    for (;;) {
      pollfd fds[2] = {{listener, POLLIN, 0}, {wake[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        log::error(std::string("bulk channel: poll failed: ") + std::strerror(errno));
        return;
      }
      if (fds[1].revents) return;
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;  // the peer gave up already, or out of descriptors for now
      std::lock_guard lk(mu);
      reap_finished();
      if (stopping || connections.size() >= kMaxConnections) {
        log::warn("bulk channel: refused " + peer_name(fd) + ": " +
                  std::to_string(kMaxConnections) + " connections are open already");
        ::close(fd);
        continue;
      }
      auto& c = connections.emplace_back(Connection{fd, {}, false});
      c.thread = std::thread([this, &c] {
        serve(c.fd);
        std::lock_guard lk(mu);
        ::close(c.fd);  // now: a dropped peer sees the connection end at once
        c.fd = -1;
        c.done = true;
      });
    }
  }

  void reap_finished() {  // under mu
    for (auto it = connections.begin(); it != connections.end();) {
      if (!it->done) {
        ++it;
        continue;
      }
      it->thread.join();
      it = connections.erase(it);
    }
  }

  /// Answers requests until the peer closes or misbehaves.
  void serve(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeout(fd, SO_SNDTIMEO, kFetchStallSeconds);  // a reader that stops reading
    const std::string peer = peer_name(fd);
    auto drop = [&](const std::string& reason) {
      log::warn("bulk channel: dropped " + peer + ": " + reason);
    };
    for (;;) {
      // Idle between requests for as long as the peer likes; a started request must
      // arrive whole within kStallSeconds.
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      set_timeout(fd, SO_RCVTIMEO, kStallSeconds);
      char head[kRequestHead];
      const std::size_t got = read_full(fd, head, sizeof head);
      if (got == 0 && errno == 0) return;  // closed between requests: done
      if (got < sizeof head) return drop("truncated request header (" + why(got, sizeof head) + ")");
      if (std::memcmp(head, kRequestMagic, sizeof kRequestMagic) != 0)
        return drop("not a bulk request (bad magic)");
      const std::uint32_t key_length = get_u32(head + 4);
      if (key_length == 0 || key_length > kMaxKeyLength)
        return drop("absurd key length " + std::to_string(key_length) + " (at most " +
                    std::to_string(kMaxKeyLength) + ")");
      std::string key(key_length, '\0');
      if (const std::size_t k = read_full(fd, key.data(), key_length); k < key_length)
        return drop("truncated key (" + why(k, key_length) + ")");
      const std::shared_ptr<const Bytes> value = find(key);
      char answer[kAnswerHead];
      std::memcpy(answer, kAnswerMagic, sizeof kAnswerMagic);
      answer[4] = value ? 1 : 0;
      put_u64(answer + 5, value ? value->size() : 0);
      iovec iov[2] = {{answer, sizeof answer},
                      {value ? const_cast<char*>(value->data()) : nullptr, value ? value->size() : 0}};
      if (!write_all(fd, iov, value && !value->empty() ? 2 : 1))
        return drop("went away during the answer for " + key + " (" + std::strerror(errno) + ")");
    }
  }
};

BulkServer::BulkServer() : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m.listener < 0) throw Error(std::string("cask::Error: bulk channel: socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(m.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(m.listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m.listener, 64) != 0 ||
      ::getsockname(m.listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(m.wake, O_CLOEXEC) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(m.listener);
    throw Error("cask::Error: bulk channel: cannot listen: " + reason);
  }
  m.port = ntohs(addr.sin_port);
  m.acceptor = std::thread([&m] { m.accept_loop(); });
}

BulkServer::~BulkServer() {
  auto& m = *impl_;
  (void)!::write(m.wake[1], "x", 1);
  m.acceptor.join();
  {
    std::lock_guard lk(m.mu);
    m.stopping = true;
    for (auto& c : m.connections)
      if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);  // wakes their threads
  }
  for (auto& c : m.connections) c.thread.join();  // the acceptor is gone: the list is ours
  ::close(m.listener);
  ::close(m.wake[0]);
  ::close(m.wake[1]);
}

std::uint16_t BulkServer::port() const { return impl_->port; }

void BulkServer::serve_from(Lookup lookup) {
  std::lock_guard lk(impl_->mu);
  impl_->lookup = std::move(lookup);
}

// --- fetching ----------------------------------------------------------------------------

namespace {

BulkFetched failed(const BulkEndpoint& from, const std::string& what) {
  BulkFetched f;
  f.kind = BulkFetched::Kind::failed;
  f.error = "bulk fetch from " + from.str() + ": " + what;
  return f;
}

int connect_to(const BulkEndpoint& to, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(to.host.c_str(), std::to_string(to.port).c_str(), &hints, &found); rc != 0) {
    error = std::string("cannot resolve: ") + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    set_timeout(fd, SO_SNDTIMEO, kStallSeconds);  // bounds connect too
    set_timeout(fd, SO_RCVTIMEO, kFetchStallSeconds);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = std::string("cannot connect: ") + std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

/// One request/answer on a connected socket. `stale` is set when nothing at all came back
/// (a pooled connection the server had closed): the caller may retry on a fresh one.
BulkFetched exchange(int fd, const BulkEndpoint& from, const std::string& key, bool& stale) {
  stale = false;
  char head[kRequestHead];
  std::memcpy(head, kRequestMagic, sizeof kRequestMagic);
  put_u32(head + 4, std::uint32_t(key.size()));
  iovec request[2] = {{head, sizeof head}, {const_cast<char*>(key.data()), key.size()}};
  if (!write_all(fd, request, 2)) {
    stale = true;
    return failed(from, std::string("cannot send the request: ") + std::strerror(errno));
  }
  char answer[kAnswerHead];
  const std::size_t got = read_full(fd, answer, sizeof answer);
  if (got < sizeof answer) {
    stale = got == 0;
    return failed(from, "truncated answer header (" + why(got, sizeof answer) + ")");
  }
  if (std::memcmp(answer, kAnswerMagic, sizeof kAnswerMagic) != 0 || std::uint8_t(answer[4]) > 1)
    return failed(from, "not a bulk answer");
  const std::uint64_t length = get_u64(answer + 5);
  BulkFetched out;
  if (answer[4] == 0) {
    out.kind = BulkFetched::Kind::not_found;
    return out;
  }
  if (length > kMaxValueLength) return failed(from, "absurd value length " + std::to_string(length));
  // The buffer that becomes the value: the kernel copies the bytes straight into it.
  auto bytes = std::make_shared<Bytes>(length);
  if (const std::size_t n = read_full(fd, bytes->data(), length); n < length)
    return failed(from, "the holder stopped in the middle of " + key + " (" + why(n, length) + ")");
  out.kind = BulkFetched::Kind::found;
  out.bytes = std::move(bytes);
  return out;
}

}  // namespace

BulkFetched bulk_fetch_once(const BulkEndpoint& from, const std::string& key) {
  std::string error;
  const int fd = connect_to(from, error);
  if (fd < 0) return failed(from, error);
  bool stale = false;
  BulkFetched out = exchange(fd, from, key, stale);
  ::close(fd);
  return out;
}

struct BulkFetcher::Impl {
  struct Job {
    BulkEndpoint from;
    std::vector<std::string> keys;
    Done done;
  };
  std::mutex mu;
  std::condition_variable wake;
  std::deque<Job> jobs;                         // guarded by mu
  std::multimap<std::string, int> idle;         // endpoint -> pooled connection; guarded by mu
  bool stopping = false;                        // guarded by mu
  std::vector<std::thread> threads;

  int take_idle(const BulkEndpoint& to) {
    std::lock_guard lk(mu);
    auto it = idle.find(to.str());
    if (it == idle.end()) return -1;
    const int fd = it->second;
    idle.erase(it);
    return fd;
  }
  void give_back(const BulkEndpoint& to, int fd) {
    std::lock_guard lk(mu);
    if (stopping || idle.count(to.str()) >= threads.size()) {
      ::close(fd);
      return;
    }
    idle.emplace(to.str(), fd);
  }

  BulkFetched fetch_one(const BulkEndpoint& from, const std::string& key) {
    int fd = take_idle(from);
    const bool pooled = fd >= 0;
    std::string error;
    if (!pooled && (fd = connect_to(from, error)) < 0) return failed(from, error);
    bool stale = false;
    BulkFetched out = exchange(fd, from, key, stale);
    if (out.kind == BulkFetched::Kind::failed && pooled && stale) {
      ::close(fd);  // the holder closed the idle connection (it restarted, say): once more
      if ((fd = connect_to(from, error)) < 0) return failed(from, error);
      out = exchange(fd, from, key, stale);
    }
    if (out.kind == BulkFetched::Kind::failed)
      ::close(fd);
    else
      give_back(from, fd);
    return out;
  }

  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock lk(mu);
        wake.wait(lk, [&] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      std::vector<BulkFetched> out;
      out.reserve(job.keys.size());
      for (const auto& key : job.keys) {
        try {
          out.push_back(fetch_one(job.from, key));
        } catch (const std::bad_alloc&) {
          out.push_back(failed(job.from, "out of memory for " + key));
        }
      }
      job.done(std::move(out));
    }
  }
};

BulkFetcher::BulkFetcher(std::size_t threads) : impl_(std::make_unique<Impl>()) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
    impl_->threads.emplace_back([m = impl_.get()] { m->run(); });
}

BulkFetcher::~BulkFetcher() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  for (auto& t : impl_->threads) t.join();
  for (auto& [endpoint, fd] : impl_->idle) ::close(fd);
}

void BulkFetcher::fetch(BulkEndpoint from, std::vector<std::string> keys, Done done) {
  {
    std::lock_guard lk(impl_->mu);
    impl_->jobs.push_back({std::move(from), std::move(keys), std::move(done)});
  }
  impl_->wake.notify_one();
}

BulkFetcher& BulkFetcher::shared() {
  // Never destroyed: fetches may still be finishing while the process exits.
  static BulkFetcher* fetcher = new BulkFetcher(2);
  return *fetcher;
}

}  // namespace cask::detail
