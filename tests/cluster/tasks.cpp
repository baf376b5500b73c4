// tests/cluster/tasks.cpp: the task functions of the cluster tests (see tasks.hpp), each
// registered with CASK_REMOTE. Built into the test binary and into cask_test_tasks.
#include "tasks.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <cask/cask.hpp>

namespace cluster_tasks {

namespace {
void append_line(const std::string& log, const std::string& line) {
  std::ofstream out(log, std::ios::app);
  out << line << "\n";
}
}  // namespace

void to_json(nlohmann::json& j, const Point& p) {
  j = nlohmann::json{{"x", p.x}, {"y", p.y}, {"label", p.label}};
}
void from_json(const nlohmann::json& j, Point& p) {
  j.at("x").get_to(p.x);
  j.at("y").get_to(p.y);
  j.at("label").get_to(p.label);
}

void to_json(nlohmann::json& j, const Picky& p) { j = p.value; }
void from_json(const nlohmann::json& j, Picky& p) {
  const int v = j.get<int>();
  if (v < 0) throw std::invalid_argument("Picky refuses negative value " + std::to_string(v));
  p.value = v;
}

int inc(int x) { return x + 1; }
int add(int a, int b) { return a + b; }
int sum(std::vector<int> xs) { return std::accumulate(xs.begin(), xs.end(), 0); }
int fail_with(std::string message) { throw std::runtime_error(message); }
int fail_custom(int code) { throw TaskFailure("failure " + std::to_string(code)); }
int fail_non_std(int) { throw 42; }

int nap(int ms) { return cask::this_task::sleep_for(std::chrono::milliseconds(ms)) ? 1 : 0; }

int gated(std::string gate, std::string log, int value, int limit_ms) {
  append_line(log, "start");
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  const std::stop_token stop = cask::this_task::stop_token();
  for (;;) {
    if (std::filesystem::exists(gate)) {
      append_line(log, "done");
      return value;
    }
    if (stop.stop_requested()) {
      append_line(log, "stopped");
      return -1;
    }
    if (std::chrono::steady_clock::now() > until) {
      append_line(log, "timeout");
      throw std::runtime_error("gated: " + gate + " did not appear in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int count_run(std::string log, int value) {
  append_line(log, "run");
  return value;
}

void touch(std::string path) { std::ofstream(path) << "touched\n"; }

std::string greet(std::string name) { return "hello, " + name; }

std::vector<int> iota_vec(int n) {
  std::vector<int> out(static_cast<std::size_t>(n));
  std::iota(out.begin(), out.end(), 0);
  return out;
}

std::vector<std::string> split_words(std::string text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Point shift(Point p, int dx) { return {p.x + dx, p.y, p.label + "+"}; }
int picky_value(Picky p) { return p.value; }
Picky make_picky(int v) {
  Picky p;
  p.value = v;  // to_json accepts anything; from_json refuses v < 0
  return p;
}

int nested_map_gather(int n) {
  cask::Client client = cask::get_client();
  std::vector<cask::Future<int>> fs = client.map(inc, iota_vec(n));
  const std::vector<int> values = client.gather(fs);
  cask::Future<int> both = client.submit(add, fs.front(), fs.back());
  return std::accumulate(values.begin(), values.end(), 0) + both.result();
}

int nested_wait_children(int n) {
  cask::Client client = cask::get_client();
  int total = 0;
  for (int i = 0; i < n; ++i) total += client.submit(inc, i).result();  // one at a time
  std::vector<cask::Future<int>> fs = client.map(add, iota_vec(n), iota_vec(n));
  auto [done, not_done] = cask::wait(fs, std::chrono::seconds(30), cask::ALL_COMPLETED);
  if (!not_done.empty()) throw std::runtime_error("wait returned with work not done");
  for (auto& f : cask::as_completed(fs)) total += f.result();
  return total;
}

int worker_pid() { return static_cast<int>(getpid()); }

std::vector<unsigned char> byte_ramp(int n, int first) {
  std::vector<unsigned char> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = static_cast<unsigned char>(first + i);
  return out;
}

std::string reversed_text(std::vector<unsigned char> bytes) {
  return std::string(bytes.rbegin(), bytes.rend());
}

CASK_REMOTE(inc);
CASK_REMOTE(add);
CASK_REMOTE(sum);
CASK_REMOTE(fail_with);
CASK_REMOTE(fail_custom);
CASK_REMOTE(fail_non_std);
CASK_REMOTE(nap);
CASK_REMOTE(gated);
CASK_REMOTE(count_run);
CASK_REMOTE(touch);
CASK_REMOTE(greet);
CASK_REMOTE(iota_vec);
CASK_REMOTE(split_words);
CASK_REMOTE(shift);
CASK_REMOTE(picky_value);
CASK_REMOTE(make_picky);
CASK_REMOTE(nested_map_gather);
CASK_REMOTE(nested_wait_children);
CASK_REMOTE(worker_pid);
CASK_REMOTE(byte_ramp);
CASK_REMOTE(reversed_text);

}  // namespace cluster_tasks
