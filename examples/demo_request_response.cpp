// This program demonstrates request/response: tasks query a service, answers come as they arrive.
//
// The chapter's use case "request/response": call a remote service and block on its result
// (later). Here the service is a small stock-quote server that the program starts on
// 127.0.0.1 with cpp-httplib; each quote takes the server a different time to answer
// (BRK.A 5 s, NVDA 4 s, MSFT 3 s, AAPL 2 s, GOOG 1 s; an unknown symbol fails at once).
// In Python with Dask this would be:
//
//   def fetch_quote(symbol):
//       r = requests.get(f"{service}/quote", params={"symbol": symbol})
//       r.raise_for_status()
//       return r.json()
//
//   futures = client.map(fetch_quote, ["BRK.A", "NVDA", "MSFT", "AAPL", "GOOG", "ZZZZ"])
//   for f in as_completed(futures):
//       print(f.result())     # raises the task's exception for ZZZZ
//
// Every request goes over real HTTP. A task waiting on the network is not doing cask work,
// so fetch_quote gives its worker slot back while it waits (cask::secede, as in Dask) and
// all six requests are in flight at once even when the cluster has fewer slots. The
// requests are made slowest first, and the answers are printed in the order they arrive
// (checked at the end against the times the tasks got them), then by symbol.
// Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "example_time.hpp"

// The service's price list: price and how long it takes to answer, in chapter seconds.
struct Listing {
  double price;
  double latency;
};
const std::map<std::string, Listing> price_list = {
    {"AAPL", {189.70, 2}}, {"BRK.A", {612000.00, 5}}, {"GOOG", {141.80, 1}},
    {"MSFT", {411.20, 3}}, {"NVDA", {875.30, 4}},
};

// GET /quote?symbol=S -> {"symbol": S, "price": P} after the symbol's latency; 404 for an
// unknown symbol. Listening once constructed; the destructor stops it.
class QuoteService {
 public:
  QuoteService() {
    // One server thread per concurrent request (cpp-httplib handlers are synchronous).
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.Get("/quote", [this](const httplib::Request& req, httplib::Response& res) {
      const int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      const std::string symbol = req.get_param_value("symbol");
      const auto listing = price_list.find(symbol);
      if (listing == price_list.end()) {
        res.status = 404;
        res.set_content(nlohmann::json{{"error", "unknown symbol " + symbol}}.dump(),
                        "application/json");
      } else {
        std::this_thread::sleep_for(examples::seconds(listing->second.latency));
        res.set_content(nlohmann::json{{"symbol", symbol}, {"price", listing->second.price}}.dump(),
                        "application/json");
      }
      --in_flight_;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("quote service: cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // httplib's stop() does nothing before the accept loop runs: wait for it (bounded).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~QuoteService() {
    server_.stop();
    thread_.join();
  }
  QuoteService(const QuoteService&) = delete;
  QuoteService& operator=(const QuoteService&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int max_in_flight() const { return max_in_flight_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

struct Quote {
  std::string symbol;
  double price = 0;
};

std::string service_url;  // set in main before anything is submitted

// Gives the task's worker slot back for the lifetime of the guard (Dask: secede/rejoin).
struct Seceded {
  Seceded() { cask::secede(); }
  ~Seceded() { cask::rejoin(); }
  Seceded(const Seceded&) = delete;
  Seceded& operator=(const Seceded&) = delete;
};

std::mutex answered_mutex;
// When each task got its answer, by symbol.
std::map<std::string, std::chrono::steady_clock::time_point> answered;

Quote fetch_quote(const std::string& symbol) {
  httplib::Client http(service_url);
  http.set_connection_timeout(std::chrono::seconds(5));
  http.set_read_timeout(std::chrono::seconds(60));
  httplib::Result r = [&] {
    Seceded waiting_on_the_network;
    return http.Get("/quote", httplib::Params{{"symbol", symbol}}, httplib::Headers{});
  }();
  {
    std::lock_guard lock(answered_mutex);
    answered[symbol] = std::chrono::steady_clock::now();
  }
  if (!r) throw std::runtime_error("quote service unreachable: " + httplib::to_string(r.error()));
  const auto body = nlohmann::json::parse(r->body);
  if (r->status != 200)
    throw std::runtime_error("quote service answered " + std::to_string(r->status) + ": " +
                             body.value("error", std::string{}));
  return Quote{body.at("symbol").get<std::string>(), body.at("price").get<double>()};
}

int main() {
  QuoteService service;  // declared first: it outlives the client and its tasks
  service_url = service.url();
  std::cout << "quote service listening on " << service_url << "\n";

  cask::Client client;
  const std::vector<std::string> symbols = {"BRK.A", "NVDA", "MSFT", "AAPL", "GOOG", "ZZZZ"};
  const auto start = std::chrono::steady_clock::now();
  std::vector<cask::Future<Quote>> futures = client.map(fetch_quote, symbols);
  std::map<std::string, std::string> symbol_of;  // future key -> symbol, to name errors
  for (std::size_t i = 0; i < symbols.size(); ++i) symbol_of[futures[i].key()] = symbols[i];
  std::cout << "requested, slowest first:";
  for (const auto& s : symbols) std::cout << " " << s;
  std::cout << "\n";

  int quotes = 0, errors = 0;
  bool all_correct = true;
  std::vector<std::string> order;             // symbols in the order their answers were taken
  std::map<std::string, std::string> answer;  // symbol -> what it answered
  std::cout << std::fixed;
  for (auto& f : cask::as_completed(futures)) {
    const double after = examples::chapter_seconds(std::chrono::steady_clock::now() - start);
    const std::string& symbol = symbol_of.at(f.key());
    std::ostringstream line;
    line << std::fixed;
    try {
      const Quote q = f.result();
      ++quotes;
      const bool correct = q.symbol == symbol && q.price == price_list.at(symbol).price;
      all_correct = all_correct && correct;
      line << std::setprecision(2) << q.price << (correct ? "" : " (WRONG)");
    } catch (const std::exception& e) {
      ++errors;
      line << "error: " << e.what();
    }
    std::cout << std::left << std::setw(6) << symbol << std::right << line.str()
              << std::setprecision(1) << "  (after " << after << " s)" << std::endl;
    order.push_back(symbol);
    answer[symbol] = line.str();
  }

  std::cout << "by symbol:\n";
  for (const auto& [symbol, text] : answer)
    std::cout << "  " << std::left << std::setw(6) << symbol << std::right << text << "\n";

  // The answers were taken in the order the tasks got them: no answer came out after one
  // that arrived clearly (50 ms) later. (Normally ZZZZ, GOOG, AAPL, MSFT, NVDA, BRK.A.)
  bool arrival_order = order.size() == symbols.size();
  {
    std::lock_guard lock(answered_mutex);
    for (std::size_t i = 0; i < order.size(); ++i)
      for (std::size_t j = i + 1; j < order.size(); ++j)
        if (answered.at(order[j]) + std::chrono::milliseconds(50) < answered.at(order[i]))
          arrival_order = false;
  }

  const double total = examples::chapter_seconds(std::chrono::steady_clock::now() - start);
  double sequential = 0;
  for (const auto& [symbol, listing] : price_list) sequential += listing.latency;
  std::cout << futures.size() << " answers: " << quotes << " quotes, " << errors
            << " error(s); every quote matches the price list: " << std::boolalpha
            << all_correct << "\n";
  std::cout << "answers taken in the order they arrived: " << arrival_order << "\n";
  std::cout << "all answers after " << total << " s on " << client.stats().slots
            << " worker slot(s); one after another the requests would take " << sequential
            << " s\n";
  // All in flight at once, the total is the slowest latency (5 s), not the sum (15 s).
  std::cout << "the requests overlapped (total under two thirds of the sum): "
            << (total < sequential * 2 / 3) << "\n";
  std::cout << "most requests in flight at the service at once: " << service.max_in_flight()
            << "\n";
}
