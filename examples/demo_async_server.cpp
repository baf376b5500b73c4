// This program demonstrates an HTTP server whose handlers answer when a cask future completes.
//
// The chapter's use case "integration with other asynchronous servers (such as Tornado)":
// a request handler submits work to the cluster and the response goes out when the future
// is done, while the server keeps serving other requests. In Python with Tornado and
// Dask's asynchronous client this would be:
//
//   class PredictHandler(tornado.web.RequestHandler):
//       async def get(self):
//           x = int(self.get_argument("x"))
//           y = await client.submit(predict, model, x)   # model: a future
//           self.write({"x": x, "y": y})
//
// The server (examples/async_http_server.hpp) is one event-loop thread on 127.0.0.1. Its
// /predict handler calls client.submit(predict, model, x), which returns at once, and
// f.add_done_callback(...), which hands the response to the loop when the future is done;
// the handler then returns. Nothing on the server's thread waits for a computation:
// predictions run on cask's workers, the callback runs on cask's callback thread, and the
// loop only writes the bytes. (cpp-httplib's own server cannot do this: its handlers must
// fill the response before they return, so each waiting request would hold one of its
// threads; see async_http_server.hpp. The clients below do use cpp-httplib.)
//
// To show it without timing guesses, the model is still "loading" when the requests come
// in: model = client.submit(load_model) waits until main hands it the weights, and every
// prediction depends on it. main sends 33 requests at once from 33 client threads, waits
// until the server holds all of them open on its one thread, checks that the server still
// answers /health at once, and only then releases the weights. Every response is checked.
#include <cask/cask.hpp>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "async_http_server.hpp"

using namespace std::chrono_literals;

struct Model {
  std::vector<double> weights;  ///< y = w0 + w1 x + w2 x^2
};

double predict(const Model& model, int x) {
  if (x < 0) throw std::domain_error("predict: x must be >= 0, got " + std::to_string(x));
  double y = 0, power = 1;
  for (double w : model.weights) {
    y += w * power;
    power *= x;
  }
  return y;
}

const Model trained{{1.5, -0.25, 0.125}};  // exact in binary: responses compare exactly

// The model's weights "arrive" when main opens this gate.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  /// False after `timeout`, or at once when the running task is cancelled.
  bool wait_for(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, cask::this_task::stop_token(), timeout, [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable_any cv_;
  bool open_ = false;
};
Gate weights_arrived;

Model load_model() {
  // Waiting for something outside cask: give the worker slot back meanwhile (Dask: secede).
  cask::secede();
  const bool arrived = weights_arrived.wait_for(30s);
  cask::rejoin();
  if (!arrived) throw std::runtime_error("load_model: cancelled, or the weights never arrived");
  return trained;
}

struct Outcome {
  int status = 0;  ///< 0: no response
  std::string body;
};

// GET url+target with cpp-httplib's client; gives up after `timeout` without an answer.
Outcome get(const std::string& url, const std::string& target, std::chrono::seconds timeout) {
  httplib::Client http(url);
  http.set_connection_timeout(5s);
  http.set_read_timeout(timeout);
  auto r = http.Get(target);
  if (!r) return {0, "no response: " + httplib::to_string(r.error()) + "\n"};
  return {r->status, r->body};
}

int main() {
  cask::Client client;
  cask::Future<Model> model = client.submit(load_model);

  std::mutex handler_threads_mutex;
  std::set<std::thread::id> handler_threads;  // threads the handler ran on

  examples::AsyncHttpServer server([&](const examples::HttpRequest& req,
                                       examples::Responder respond) {
    {
      std::lock_guard lock(handler_threads_mutex);
      handler_threads.insert(std::this_thread::get_id());
    }
    if (req.path == "/health") return respond({200, "text/plain", "ok\n"});
    if (req.path != "/predict") return respond({404, "text/plain", "not found\n"});
    int x = 0;
    try {
      std::size_t used = 0;
      x = std::stoi(req.params.count("x") ? req.params.at("x") : "", &used);
      if (used != req.params.at("x").size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      return respond({400, "text/plain", "x must be an integer\n"});
    }
    // Submit and return: the response is sent when the future is done.
    cask::Future<double> f = client.submit(predict, model, x);
    f.add_done_callback([respond, x](const cask::Future<double>& done) {
      try {
        respond({200, "application/json", nlohmann::json{{"x", x}, {"y", done.result()}}.dump()});
      } catch (const std::exception& e) {
        respond({500, "text/plain", std::string("predict failed: ") + e.what() + "\n"});
      }
    });
  });
  std::cout << "async server listening on " << server.url() << " (one event-loop thread)\n";
  std::cout << "model: " << model << "\n";

  constexpr int n = 32;
  std::cout << "sending GET /predict?x=0.." << n - 1 << " and GET /predict?x=-1 from " << n + 1
            << " client threads at once\n";
  std::vector<Outcome> outcomes(n + 1);  // [n] is x=-1
  std::vector<std::thread> clients;
  for (int i = 0; i <= n; ++i) {
    const int x = i < n ? i : -1;
    clients.emplace_back(
        [&, i, x] { outcomes[i] = get(server.url(), "/predict?x=" + std::to_string(x), 30s); });
  }

  int status = 0;
  if (server.wait_for_open_requests(n + 1, 10s)) {
    std::cout << "server: " << server.open_requests()
              << " requests open at once, their predictions waiting in cask for the model\n";
  } else {
    std::cout << "FAIL: the server never held " << n + 1 << " requests open at once (only "
              << server.open_requests() << " after 10 s)\n";
    status = 1;
  }
  // The loop is free: it answers other requests while those wait.
  const Outcome health = get(server.url(), "/health", 5s);
  std::cout << "GET /health while they wait: " << health.status << " " << health.body;
  const Outcome bad = get(server.url(), "/predict?x=abc", 5s);
  std::cout << "GET /predict?x=abc while they wait: " << bad.status << " " << bad.body;
  std::cout << "still open: " << server.open_requests() << "; model: " << model << "\n";

  std::cout << "the model's weights arrive\n";
  weights_arrived.open();
  for (auto& t : clients) t.join();

  int correct = 0;
  for (int x = 0; x < n; ++x) {
    const Outcome& o = outcomes[x];
    bool ok = o.status == 200;
    if (ok) {
      const auto body = nlohmann::json::parse(o.body, nullptr, false);
      ok = !body.is_discarded() && body.value("x", -1) == x &&
           body.value("y", -1.0) == predict(trained, x);
    }
    if (ok) ++correct;
    else std::cout << "WRONG answer for x=" << x << ": " << o.status << " " << o.body << "\n";
    if (x == 3 || x == n - 1)
      std::cout << "GET /predict?x=" << x << " -> " << o.status << " " << o.body << "\n";
  }
  std::cout << "x=0.." << n - 1 << ": " << correct << " of " << n
            << " responses are 200 with the right y\n";
  std::cout << "GET /predict?x=-1 -> " << outcomes[n].status << " " << outcomes[n].body;
  std::cout << "model: " << model << "\n";
  {
    std::lock_guard lock(handler_threads_mutex);
    std::cout << "the handler ran on " << handler_threads.size() << " thread(s)\n";
  }
  if (correct != n) status = 1;
  return status;
}
