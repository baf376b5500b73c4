// tests/both/nested_more_tasks.cpp: the functions of nested_more_tasks.hpp, registered with
// CASK_REMOTE.
#include "nested_more_tasks.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tasks.hpp"

namespace nested_more_tasks {

namespace {

using Futures = std::vector<cask::Future<int>>;

void append(const std::string& log, const std::string& line) { std::ofstream(log, std::ios::app) << line << "\n"; }

cask::options fresh() {
  cask::options opts;
  opts.pure = false;
  return opts;
}

/// Polls (1 ms) for the file `path`; false when 20 s pass first.
bool wait_for_file(const std::string& path) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Appends "left" to `log` when the scope is left, also by an exception (a cancel).
struct LeaveNote {
  std::string log;
  ~LeaveNote() { append(log, "left"); }
};

int block_on(const cask::Future<int>& f, int mode) {
  switch (mode) {
    case block_result: return f.result();
    case block_result_timeout: return f.result(std::chrono::seconds(30));
    case block_wait: {
      auto [done, not_done] = cask::wait(Futures{f});
      return done.empty() ? -2 : done[0].result();
    }
    case block_as_completed: {
      int v = -2;
      for (auto& g : cask::as_completed(Futures{f})) v = g.result();
      return v;
    }
    default: throw std::invalid_argument("block_on: unknown mode " + std::to_string(mode));
  }
}

}  // namespace

int submit_and_result(int) {
  cask::Client c = cask::get_client();
  auto a = c.submit(fresh(), cluster_tasks::inc, 11);                                 // 12
  auto b = c.submit(cluster_tasks::add, c.submit(fresh(), cluster_tasks::inc, 3), 1);  // 5
  return a.result() + b.result(std::chrono::seconds(30));
}

int wait_with_timeout(std::string gate, std::string log) {
  cask::Client c = cask::get_client();
  auto fs = c.map(fresh(), cluster_tasks::inc, std::vector{1, 2, 3});
  auto [done, not_done] = cask::wait(fs);
  int result = static_cast<int>(done.size()) * 100 + static_cast<int>(not_done.size());
  auto gated = c.submit(fresh(), cluster_tasks::gated, gate, log, 1, 20000);
  try {
    (void)cask::wait(Futures{gated}, std::chrono::milliseconds(50), cask::FIRST_COMPLETED);
    result += 10000;  // must not get here: the gate is shut
  } catch (const cask::TimeoutError&) {
    result += 10;
  }
  cluster_tasks::touch(gate);
  auto second = cask::wait(Futures{gated}, std::chrono::seconds(30), cask::FIRST_COMPLETED);
  return result + static_cast<int>(second.done.size());
}

int as_completed_sum(int n) {
  cask::Client c = cask::get_client();
  std::vector<int> xs(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) xs[static_cast<std::size_t>(i)] = i;
  int total = 0;
  for (auto& f : cask::as_completed(c.map(fresh(), cluster_tasks::inc, xs))) total += f.result();
  return total;
}

int double_from_queue(std::string queue) {
  cask::Future<int> f = cask::Queue<cask::Future<int>>{queue}.get();
  return f.result() * 2;
}

int chain_inside(int x) {
  cask::Client c = cask::get_client();
  auto a = c.submit(fresh(), cluster_tasks::inc, x);
  return c.submit(cluster_tasks::add, a, 10).result();
}

cask::Future<int> start_gated(std::string gate, std::string log, int value) {
  return cask::get_client().submit(fresh(), cluster_tasks::gated, gate, log, value, 20000);
}

std::vector<cask::Future<int>> start_incs(int n) {
  std::vector<int> xs;
  for (int i = 1; i <= n; ++i) xs.push_back(i);
  return cask::get_client().map(fresh(), cluster_tasks::inc, xs);
}

int fib(int n) {
  if (n < 2) return n;
  cask::Client c = cask::get_client();
  auto a = c.submit(fresh(), fib, n - 1);
  auto b = c.submit(fresh(), fib, n - 2);
  return a.result() + b.result();
}

int one_child(int x) { return cask::get_client().submit(fresh(), cluster_tasks::inc, x).result() + 1; }

int rejoin_then_hold(std::string gate1, std::string gate2, std::string log) {
  cask::secede();
  append(log, "seceded");
  const bool first = wait_for_file(gate1);
  cask::rejoin();
  append(log, "rejoined");
  const bool second = wait_for_file(gate2);  // holds the slot again
  return first && second ? 1 : -1;
}

int secede_rejoin_repeated(int) {
  cask::rejoin();
  cask::secede();
  cask::secede();
  cask::rejoin();
  cask::rejoin();
  return 1;
}

int end_seceded(int value) {
  cask::secede();
  return value;
}

int parent_blocking_on_gated(std::string gate, std::string log, std::string parent_log, int mode) {
  LeaveNote note{parent_log};
  auto child = cask::get_client().submit(fresh(), cluster_tasks::gated, gate, log, 1, 20000);
  return block_on(child, mode);
}

int grandparent_of_gated(std::string gate, std::string log, std::string parent_log) {
  return cask::get_client()
      .submit(fresh(), parent_blocking_on_gated, gate, log, parent_log, static_cast<int>(block_result))
      .result();
}

int parent_sharing_gated(std::string queue, std::string gate, std::string log, std::string parent_log) {
  LeaveNote note{parent_log};
  cask::Client c = cask::get_client();
  auto child = c.submit(fresh(), cluster_tasks::gated, gate, log, 7, 20000);
  cask::Queue<cask::Future<int>>{queue, c}.put(child);
  return child.result();
}

int block_on_own_future(std::string queue, int mode) {
  cask::Future<int> me = cask::Queue<cask::Future<int>>{queue}.get();
  return block_on(me, mode);
}

int waits_for_own_key(int x) { return cask::get_client().submit(waits_for_own_key, x).result(); }

CASK_REMOTE(submit_and_result);
CASK_REMOTE(wait_with_timeout);
CASK_REMOTE(as_completed_sum);
CASK_REMOTE(double_from_queue);
CASK_REMOTE(chain_inside);
CASK_REMOTE(start_gated);
CASK_REMOTE(start_incs);
CASK_REMOTE(fib);
CASK_REMOTE(one_child);
CASK_REMOTE(rejoin_then_hold);
CASK_REMOTE(secede_rejoin_repeated);
CASK_REMOTE(end_seceded);
CASK_REMOTE(parent_blocking_on_gated);
CASK_REMOTE(grandparent_of_gated);
CASK_REMOTE(parent_sharing_gated);
CASK_REMOTE(block_on_own_future);
CASK_REMOTE(waits_for_own_key);

}  // namespace nested_more_tasks
