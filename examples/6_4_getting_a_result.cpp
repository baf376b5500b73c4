// This program demonstrates getting a future's value with result() (example 6-4).
//
// Python (Scaling Python with Dask, example 6-4):
//   future = client.submit(do_some_io, {"timbit": "awesome"})
//   future.result()
//
// do_some_io is 6-3's: a real HTTP GET to a small httpbin look-alike that the program
// starts on 127.0.0.1 (examples/httpbin.hpp). result() blocks until the response is
// there and returns it; had the task thrown, result() would rethrow that exception.
// As in 6-3, do_some_io takes the server's URL as an argument, so that it also works in a
// cask-worker process (CASK_SCHEDULER_ADDRESS): there a global set by main would not be
// seen. An exception from another process comes back as cask::RemoteError, which names the
// task's exception type and carries its message.
#include <cask/cask.hpp>

#include <iostream>
#include <map>
#include <string>

#include "httpbin.hpp"

namespace requests = examples::requests;
using Data = std::map<std::string, std::string>;

// Do some io we don't need to block on :)
requests::Response do_some_io(const std::string& url, const Data& data) {
  return requests::get(url, data);
}
CASK_REMOTE(do_some_io);

int main() {
  examples::HttpBin httpbin;  // declared first: it outlives the client and its tasks

  cask::Client client;
  auto future = client.submit(do_some_io, httpbin.url() + "/get", Data{{"timbit", "awesome"}});
  const requests::Response response = future.result();

  std::cout << "future.result() = " << response << "\n";  // what Python's REPL shows
  std::cout << "future: " << future << "\n";
  std::cout << "response.url = " << response.url << "\n";
  std::cout << "response.json() =\n" << response.json().dump(2) << "\n";

  // result() also hands back a task's error: pretend the service went away (port 1 has
  // no listener), so requests::get throws std::runtime_error inside the task and
  // result() rethrows that same exception here.
  auto failing =
      client.submit(do_some_io, std::string("http://127.0.0.1:1/get"), Data{{"timbit", "awesome"}});
  try {
    std::cout << failing.result() << "\n";
  } catch (const cask::RemoteError& e) {  // thrown in a cask-worker: "std::runtime_error: ..."
    std::cout << "failing.result() throws " << e.what() << "\n";
  } catch (const std::runtime_error& e) {  // thrown in this process: the same exception
    std::cout << "failing.result() throws std::runtime_error: " << e.what() << "\n";
  }
  std::cout << "failing: " << failing << "\n";
}
