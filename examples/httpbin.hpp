// examples/httpbin.hpp: a tiny local stand-in for https://httpbin.org/get, and a
// requests.get() look-alike, for the chapter's I/O examples (6-3, 6-4).
//
// The chapter's do_some_io sends `requests.get('https://httpbin.org/get', params=data)`.
// The examples must not depend on the internet, so each starts this server on
// 127.0.0.1 (a free port chosen by the kernel) and sends a real HTTP request to it:
//
//   examples::HttpBin httpbin;                        // listening once constructed
//   auto r = examples::requests::get(httpbin.url() + "/get", {{"timbit", "awesome"}});
//   std::cout << r << "\n" << r.json().dump(2);      // <Response [200]>, httpbin's echo
//   auto seen = httpbin.wait_for_request(5s);         // what the server received
//
// GET /get answers like httpbin.org: {"args": query parameters, "headers": request
// headers, "origin": client address, "url": full URL}. The server records every request
// it answered; wait_for_request blocks (bounded) until the next unseen one. The server runs
// in the process that constructed it: a task sends its request to the URL it is given as
// an argument, so that it reaches the server also from a cask-worker process.
// Thread-safety: all members of HttpBin may be called from any thread; requests::get is
// reentrant. Lifetime: the destructor stops the server and joins its thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace examples {

/// What the local httpbin saw of one request.
struct RecordedRequest {
  std::string method;
  std::string target;  ///< path and query string, e.g. "/get?timbit=awesome"
  std::map<std::string, std::string> args;
};

class HttpBin {
 public:
  HttpBin() {
    server_.Get("/get", [this](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json args = nlohmann::json::object();
      for (const auto& [k, v] : req.params) args[k] = v;
      nlohmann::json headers = nlohmann::json::object();
      for (const auto& [k, v] : req.headers)
        if (k.rfind("REMOTE_", 0) != 0 && k.rfind("LOCAL_", 0) != 0) headers[k] = v;
      const nlohmann::json body = {{"args", args},
                                   {"headers", headers},
                                   {"origin", req.remote_addr},
                                   {"url", url() + req.target}};
      res.set_content(body.dump(2) + "\n", "application/json");
      record({req.method, req.target, {req.params.begin(), req.params.end()}});
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("httpbin: cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      std::lock_guard lock(mutex_);
      listen_returned_ = true;
      cv_.notify_all();
    });
    // The socket already accepts connections; wait until stop() can end the loop
    // (httplib's stop() does nothing before the accept loop runs).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(1), [this] { return listen_returned_; }))
        break;
    }
  }

  ~HttpBin() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  HttpBin(const HttpBin&) = delete;
  HttpBin& operator=(const HttpBin&) = delete;

  int port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// The next request not returned before, or nullopt if none arrives within `timeout`.
  template <class Rep, class Period>
  std::optional<RecordedRequest> wait_for_request(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [this] { return seen_ < requests_.size(); }))
      return std::nullopt;
    return requests_[seen_++];
  }

 private:
  void record(RecordedRequest r) {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(r));
    cv_.notify_all();
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<RecordedRequest> requests_;
  std::size_t seen_ = 0;
  bool listen_returned_ = false;
};

namespace requests {

/// The part of Python's requests.Response the chapter uses.
struct Response {
  int status_code = 0;
  std::string url;
  std::string text;

  nlohmann::json json() const { return nlohmann::json::parse(text); }
  bool ok() const noexcept { return status_code >= 200 && status_code < 400; }

  /// Like Python's repr: "<Response [200]>".
  friend std::ostream& operator<<(std::ostream& os, const Response& r) {
    return os << "<Response [" << r.status_code << "]>";
  }
};
// A Response can be a task's result on a cluster of other processes: it converts to and
// from nlohmann::json (cask/remote.hpp).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Response, status_code, url, text)

/// requests.get(url, params=params) for plain "http://host:port/path" URLs. Throws
/// std::runtime_error when the server cannot be reached.
inline Response get(const std::string& url, const std::map<std::string, std::string>& params) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);

  const httplib::Params query(params.begin(), params.end());
  std::string full_url = origin + httplib::append_query_params(path, query);

  httplib::Client client(origin);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  auto result = client.Get(path, query, httplib::Headers{});
  if (!result)
    throw std::runtime_error("requests.get(" + full_url +
                             ") failed: " + httplib::to_string(result.error()) + " error");
  return Response{result->status, std::move(full_url), result->body};
}

}  // namespace requests
}  // namespace examples
