// tests/cluster/tasks.hpp: the CASK_REMOTE functions of the cluster-mode tests.
//
// tasks.cpp is compiled twice: into the test binary (so that submit finds each function's
// registration by address) and into the MODULE library cask_test_tasks, which every
// worker of the tests' LocalClusters preloads (so that the workers run them by name).
// Tasks in other processes are gated and observed through files: a gate is a file the
// test creates, a log is a file a task appends one line to per event.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cluster_tasks {

/// A struct crossing processes with ADL to_json/from_json (as an object).
struct Point {
  int x = 0;
  int y = 0;
  std::string label;
  friend bool operator==(const Point&, const Point&) = default;
};
void to_json(nlohmann::json& j, const Point& p);
void from_json(const nlohmann::json& j, Point& p);

/// A struct whose from_json throws for negative values: decoding it fails where it is
/// decoded (an argument on the worker, a result on the client) with SerializationError.
struct Picky {
  int value = 0;
};
void to_json(nlohmann::json& j, const Picky& p);
void from_json(const nlohmann::json& j, Picky& p);

/// An exception type of the tests' own, to check the type name RemoteError carries.
struct TaskFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int inc(int x);
int add(int a, int b);
int sum(std::vector<int> xs);
/// Throws std::runtime_error(message).
int fail_with(std::string message);
/// Throws TaskFailure("failure <code>").
int fail_custom(int code);
/// Throws 42 (not a std::exception).
int fail_non_std(int code);

/// cask::this_task::sleep_for(ms): 1 when it slept the whole time, 0 when woken by cancel.
int nap(int ms);

/// Appends "start" to `log`, then polls every 1 ms for the file `gate` while checking the
/// task's stop token, for at most `limit_ms`. Gate seen: appends "done", returns `value`.
/// Stop requested: appends "stopped", returns -1. Limit reached: appends "timeout" and
/// throws std::runtime_error.
int gated(std::string gate, std::string log, int value, int limit_ms);

/// Appends "run" to `log` (one line per run) and returns `value`.
int count_run(std::string log, int value);

/// Creates the file `path` (a void result).
void touch(std::string path);

std::string greet(std::string name);
std::vector<int> iota_vec(int n);
std::vector<std::string> split_words(std::string text);
Point shift(Point p, int dx);
int picky_value(Picky p);   // argument decoded on the worker
Picky make_picky(int v);    // result decoded on the client

/// Nested submission inside the worker (get_client): map(inc, 0..n-1), gather, then
/// submit(add, first, last) with futures as arguments; returns gather's sum + that add.
int nested_map_gather(int n);
/// Nested submission that blocks on its children one by one (result()), then waits for a
/// second batch with cask::wait and cask::as_completed: on a 1-worker-1-thread cluster this
/// only finishes when the parent hands its slot to its children.
int nested_wait_children(int n);

/// The worker's process id.
int worker_pid();

/// n bytes counting up from `first` (every byte value once per 256): values that take
/// cask's fast MessagePack paths.
std::vector<unsigned char> byte_ramp(int n, int first);
/// The bytes reversed, as a std::string.
std::string reversed_text(std::vector<unsigned char> bytes);

}  // namespace cluster_tasks
