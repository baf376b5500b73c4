// examples/async_http_server.hpp: a minimal asynchronous HTTP/1.1 server (one event-loop
// thread, poll(2)) whose handlers answer later, from any thread, for demo_async_server.
//
// Why not cpp-httplib's server: its handlers are synchronous. The response must be complete
// when the handler returns, and a content provider (set_chunked_content_provider) is called
// in a loop on the same connection thread until it finishes, so every request waiting for
// a result holds one of the server's threads. Tornado or asyncio servers (the chapter's
// "integration with other asynchronous servers") instead keep waiting requests as state in
// one event loop. This class does that: a handler receives the request and a Responder,
// starts work (e.g. client.submit) and returns at once; whoever finishes the work calls the
// Responder, which queues the response and wakes the loop, and the loop writes it.
//
//   examples::AsyncHttpServer server([&](const examples::HttpRequest& req,
//                                        examples::Responder respond) {
//     auto f = client.submit(work, req.params.at("x"));
//     f.add_done_callback([respond](const auto& f) { respond({200, "text/plain", ...}); });
//   });                                     // listening on 127.0.0.1, server.url()
//
// Scope: GET requests without a body, one request per connection (the answer carries
// "Connection: close"), request heads up to 64 KiB. Enough for a demo, not for the internet.
// Thread-safety: a Responder may be called from any thread, once (later calls are ignored),
// also after the server is gone. open_requests()/wait_for_open_requests() from any thread.
// Lifetime: the destructor stops the loop, closes every connection and joins the thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace examples {

struct HttpRequest {
  std::string method;  ///< "GET"
  std::string path;    ///< without the query string: "/predict"
  std::map<std::string, std::string> params;  ///< decoded query parameters
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

namespace detail {

/// Responses handed from other threads to the loop, and the pipe that wakes it.
struct Mailbox {
  Mailbox() {
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  ~Mailbox() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  void post(std::uint64_t connection, HttpResponse response) {
    {
      std::lock_guard lock(mutex);
      if (stopped) return;
      queue.emplace_back(connection, std::move(response));
    }
    wake();
  }
  void wake() {
    const char byte = 1;
    [[maybe_unused]] auto n = ::write(fds[1], &byte, 1);  // a full pipe is awake already
  }

  int fds[2] = {-1, -1};
  std::mutex mutex;
  std::deque<std::pair<std::uint64_t, HttpResponse>> queue;
  bool stopped = false;
};

inline std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

inline const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

}  // namespace detail

/// Answers one request; callable from any thread. Only the first call counts.
class Responder {
 public:
  Responder(std::shared_ptr<detail::Mailbox> mailbox, std::uint64_t connection)
      : mailbox_(std::move(mailbox)), connection_(connection) {}
  void operator()(HttpResponse response) const {
    mailbox_->post(connection_, std::move(response));
  }

 private:
  std::shared_ptr<detail::Mailbox> mailbox_;
  std::uint64_t connection_;
};

class AsyncHttpServer {
 public:
  /// Called on the loop thread for each request; must not block. Answer through the
  /// Responder, now or later.
  using Handler = std::function<void(const HttpRequest&, Responder)>;

  explicit AsyncHttpServer(Handler handler)
      : handler_(std::move(handler)), mailbox_(std::make_shared<detail::Mailbox>()) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // the kernel picks a free port
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 256) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      const int err = errno;
      ::close(listen_fd_);
      throw std::system_error(err, std::generic_category(), "async server: bind 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }

  ~AsyncHttpServer() {
    {
      std::lock_guard lock(mailbox_->mutex);
      mailbox_->stopped = true;
    }
    mailbox_->wake();
    thread_.join();
    for (auto& [id, c] : connections_) ::close(c.fd);
    ::close(listen_fd_);
  }

  AsyncHttpServer(const AsyncHttpServer&) = delete;
  AsyncHttpServer& operator=(const AsyncHttpServer&) = delete;

  int port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Requests received and handed to the handler, not yet answered.
  std::size_t open_requests() const {
    std::lock_guard lock(count_mutex_);
    return open_;
  }
  /// Waits (bounded) until at least n requests are open at once.
  template <class Rep, class Period>
  bool wait_for_open_requests(std::size_t n, std::chrono::duration<Rep, Period> timeout) const {
    std::unique_lock lock(count_mutex_);
    return count_changed_.wait_for(lock, timeout, [&] { return open_ >= n; });
  }

 private:
  enum class State { reading, waiting, writing };
  struct Connection {
    int fd = -1;
    State state = State::reading;
    std::string in;
    std::string out;
    std::size_t written = 0;
  };

  void set_open(std::ptrdiff_t delta) {
    {
      std::lock_guard lock(count_mutex_);
      open_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(open_) + delta);
    }
    count_changed_.notify_all();
  }

  void loop() {
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> ids;
    for (;;) {
      fds.clear();
      ids.clear();
      fds.push_back({mailbox_->fds[0], POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      for (auto& [id, c] : connections_) {
        // A waiting connection is polled too, to notice a client that hangs up.
        fds.push_back({c.fd, static_cast<short>(c.state == State::writing ? POLLOUT : POLLIN), 0});
        ids.push_back(id);
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents != 0 && !deliver()) return;  // stopped
      if (fds[1].revents & POLLIN) accept_all();
      for (std::size_t i = 2; i < fds.size(); ++i)
        if (fds[i].revents != 0) service(ids[i - 2], fds[i].revents);
    }
  }

  // Moves queued responses to their connections; false once the server is stopping.
  bool deliver() {
    char buf[256];
    while (::read(mailbox_->fds[0], buf, sizeof buf) > 0) {
    }
    std::deque<std::pair<std::uint64_t, HttpResponse>> ready;
    {
      std::lock_guard lock(mailbox_->mutex);
      if (mailbox_->stopped) return false;
      ready.swap(mailbox_->queue);
    }
    for (auto& [id, response] : ready) {
      auto it = connections_.find(id);
      if (it == connections_.end() || it->second.state != State::waiting) continue;  // gone
      Connection& c = it->second;
      c.out = "HTTP/1.1 " + std::to_string(response.status) + " " +
              detail::reason(response.status) + "\r\nContent-Type: " + response.content_type +
              "\r\nContent-Length: " + std::to_string(response.body.size()) +
              "\r\nConnection: close\r\n\r\n" + response.body;
      c.state = State::writing;
      set_open(-1);
      service(id, POLLOUT);  // try to write right away
    }
    return true;
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: none left (or a transient error; poll again)
      connections_[next_id_++].fd = fd;
    }
  }

  void close_connection(std::uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    if (it->second.state == State::waiting) set_open(-1);  // the client hung up first
    ::close(it->second.fd);
    connections_.erase(it);
  }

  void service(std::uint64_t id, short revents) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = it->second;
    if (c.state == State::writing) {
      while (c.written < c.out.size()) {
        const auto n =
            ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // wait for POLLOUT
        if (n <= 0) return close_connection(id);
        c.written += static_cast<std::size_t>(n);
      }
      return close_connection(id);  // answered: "Connection: close"
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR))) return;
    char buf[4096];
    for (;;) {
      const auto n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) return close_connection(id);  // hung up (or error)
      if (c.state == State::reading) c.in.append(buf, static_cast<std::size_t>(n));
    }
    if (c.state != State::reading) return;
    const auto head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (c.in.size() > 64 * 1024) answer_now(id, {431, "text/plain", "request head too large\n"});
      return;
    }
    HttpRequest req;
    if (!parse(c.in.substr(0, head_end), req))
      return answer_now(id, {400, "text/plain", "malformed request\n"});
    if (req.method != "GET") return answer_now(id, {405, "text/plain", "only GET\n"});
    c.state = State::waiting;
    set_open(+1);
    handler_(req, Responder(mailbox_, id));
  }

  // Answers on the loop thread, without going through the mailbox.
  void answer_now(std::uint64_t id, HttpResponse response) {
    connections_.at(id).state = State::waiting;
    set_open(+1);
    mailbox_->post(id, std::move(response));
  }

  static bool parse(const std::string& head, HttpRequest& req) {
    const auto line_end = head.find("\r\n");
    const std::string line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
    req.method = line.substr(0, sp1);
    const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (target.empty() || target[0] != '/' || line.compare(sp2 + 1, 5, "HTTP/") != 0) return false;
    const auto q = target.find('?');
    req.path = detail::percent_decode(target.substr(0, q));
    if (q == std::string::npos) return true;
    const std::string query = target.substr(q + 1);
    std::size_t start = 0;
    while (start <= query.size()) {
      auto amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      const std::string pair = query.substr(start, amp - start);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        req.params[detail::percent_decode(pair.substr(0, eq))] =
            eq == std::string::npos ? "" : detail::percent_decode(pair.substr(eq + 1));
      }
      start = amp + 1;
    }
    return true;
  }

  Handler handler_;
  std::shared_ptr<detail::Mailbox> mailbox_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::map<std::uint64_t, Connection> connections_;  // loop thread only
  std::uint64_t next_id_ = 1;
  mutable std::mutex count_mutex_;
  mutable std::condition_variable count_changed_;
  std::size_t open_ = 0;
};

}  // namespace examples
