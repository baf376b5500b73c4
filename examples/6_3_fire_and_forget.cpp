// This program demonstrates fire_and_forget: a task nobody holds still runs (example 6-3).
//
// Python (Scaling Python with Dask, example 6-3):
//   from dask.distributed import fire_and_forget
//
//   def do_some_io(data):
//       """
//    Do some io we don't need to block on :)
//    """
//       import requests
//       return requests.get('https://httpbin.org/get', params=data)
//
//   def business_logic():
//       # Make a future, but we don't really care about its result, just that it
//       # happens
//       future = client.submit(do_some_io, {"timbit": "awesome"})
//       fire_and_forget(future)
//
//   business_logic()
//
// Instead of httpbin.org, the program starts a small httpbin look-alike on 127.0.0.1
// (examples/httpbin.hpp) and do_some_io sends it a real HTTP GET. The server records
// what it receives, which is how main sees that the forgotten task did its work.
// The server's port is only known at run time, so do_some_io takes the URL as an argument
// (the chapter's hard-codes httpbin.org): a task that runs in another process, on a
// cask-worker of the cluster named by CASK_SCHEDULER_ADDRESS, could not see a global set
// by main. CASK_REMOTE(do_some_io) lets such workers run it by name.
#include <cask/cask.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "httpbin.hpp"

namespace requests = examples::requests;
using Data = std::map<std::string, std::string>;

// Do some io we don't need to block on :)
requests::Response do_some_io(const std::string& url, const Data& data) {
  return requests::get(url, data);
}
CASK_REMOTE(do_some_io);

void business_logic(cask::Client& client, const std::string& httpbin_url) {
  // Make a future, but we don't really care about its result, just that it
  // happens
  auto future = client.submit(do_some_io, httpbin_url + "/get", Data{{"timbit", "awesome"}});
  std::cout << "business_logic: submitted " << future << "\n";
  cask::fire_and_forget(future);
}  // the only handle is gone here; without fire_and_forget the request would be cancelled

int main() {
  examples::HttpBin httpbin;  // declared first: it outlives the client and its tasks
  std::cout << "httpbin listening on " << httpbin.url() << "\n";

  cask::Client client;
  business_logic(client, httpbin.url());
  std::cout << "business_logic() returned; no handle to its future is left\n";

  const auto request = httpbin.wait_for_request(std::chrono::seconds(10));
  if (!request) {
    std::cout << "httpbin: no request arrived within 10 s\n";
    return 1;
  }
  std::cout << "httpbin received: " << request->method << " " << request->target << "\n";
  for (const auto& [k, v] : request->args) std::cout << "  param " << k << " = " << v << "\n";

  // Once the forgotten task finished, nothing of it stays on the cluster.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto stats = client.stats();
  while ((stats.tasks() != 0 || stats.future_actors != 0 || stats.slots_busy != 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    stats = client.stats();
  }
  std::cout << "after the task: " << stats << "\n";
}
