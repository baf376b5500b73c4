// This program demonstrates getting a future's value with result() (example 6-4).
//
// Python (Scaling Python with Dask, example 6-4):
//   future = client.submit(do_some_io, {"timbit": "awesome"})
//   future.result()
//
// do_some_io is 6-3's: a real HTTP GET to a small httpbin look-alike that the program
// starts on 127.0.0.1 (examples/httpbin.hpp). result() blocks until the response is
// there and returns it; had the task thrown, result() would rethrow that exception.
#include <cask/cask.hpp>

#include <iostream>
#include <map>
#include <string>

#include "httpbin.hpp"

namespace requests = examples::requests;
using Data = std::map<std::string, std::string>;

std::string httpbin_url;  // "http://127.0.0.1:<port>", set in main before anything is submitted

// Do some io we don't need to block on :)
requests::Response do_some_io(const Data& data) {
  return requests::get(httpbin_url + "/get", data);
}

int main() {
  examples::HttpBin httpbin;  // declared first: it outlives the client and its tasks
  httpbin_url = httpbin.url();

  cask::Client client;
  auto future = client.submit(do_some_io, Data{{"timbit", "awesome"}});
  const requests::Response response = future.result();

  std::cout << "future.result() = " << response << "\n";  // what Python's REPL shows
  std::cout << "future: " << future << "\n";
  std::cout << "response.url = " << response.url << "\n";
  std::cout << "response.json() =\n" << response.json().dump(2) << "\n";

  // result() also hands back a task's error: pretend the service went away (port 1 has
  // no listener), so requests::get throws std::runtime_error inside the task and
  // result() rethrows that same exception here.
  httpbin_url = "http://127.0.0.1:1";
  auto failing = client.submit(do_some_io, Data{{"timbit", "awesome"}});
  try {
    std::cout << failing.result() << "\n";
  } catch (const std::runtime_error& e) {
    std::cout << "failing.result() throws std::runtime_error: " << e.what() << "\n";
  }
  std::cout << "failing: " << failing << "\n";
}
