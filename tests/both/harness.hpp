// tests/both/harness.hpp: one test body, two modes. A body written with BOTH_CASE runs
// once against an embedded Client and once against a Client of a LocalCluster of two
// worker processes, registered as the doctest cases "Both.<name>/embedded" and
// "Both.<name>/cluster". Bodies only submit CASK_REMOTE functions (tests/cluster/tasks.*
// and tests/both/both_tasks.*, linked into this binary and preloaded by the workers), and
// synchronise with tasks through files in a scratch directory both modes share: a task
// waits for a gate file the test creates and appends lines to a log file the test reads.
#pragma once

#include <chrono>
#include <exception>
#include <sstream>
#include <string>
#include <typeinfo>

#include <doctest/doctest.h>

#include "cluster_util.hpp"
#include "tasks.hpp"

namespace cask_both {

using namespace std::chrono_literals;
using cask_cluster_test::kPatience;

enum class Mode { embedded, cluster };

/// What a body gets: the client of its mode, the mode, and a scratch directory.
struct Env {
  Mode mode;
  cask::Client& client;
  cask_cluster_test::ScratchDir dir;

  bool cluster() const { return mode == Mode::cluster; }
  std::string file(const std::string& name) const { return dir.file(name); }
};

using Body = void (*)(Env&);

/// Runs `body` with an embedded Client of 2 workers x 1 slot.
void run_embedded(Body body);
/// Runs `body` with a new Client of this process's LocalCluster (2 worker processes x 1
/// slot, started by the first cluster case and shared by the cases that follow in the
/// same process).
void run_cluster(Body body);

/// The scheduler address of the shared LocalCluster (starting it if needed).
std::string shared_cluster_address();

/// `os << f` as a string.
template <class F>
std::string printed(const F& f) {
  std::ostringstream os;
  os << f;
  return os.str();
}

/// The message of the task error a future holds, checked per mode: embedded, result()
/// rethrows the task's own exception E; in cluster mode it is a RemoteError naming E's
/// type ("<type_name>: <message>"). Returns the bare message (without the type prefix).
template <class E, class F>
std::string task_error_message(const Env& env, const F& f, const std::string& type_name) {
  try {
    (void)f.result(kPatience);
  } catch (const cask::RemoteError& e) {
    CHECK_MESSAGE(env.cluster(), "RemoteError in embedded mode: ", e.what());
    CHECK(e.type_name() == type_name);
    const std::string what = e.what();
    const std::string prefix = type_name + ": ";
    CHECK(what.rfind(prefix, 0) == 0);
    return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
  } catch (const E& e) {
    CHECK_MESSAGE(!env.cluster(), "the task's own exception type in cluster mode: ", e.what());
    return e.what();
  } catch (const std::exception& e) {
    FAIL("unexpected exception " << typeid(e).name() << ": " << e.what());
  }
  FAIL("result() did not throw");
  return {};
}

/// A gate file in the case's scratch directory and the log its tasks (cluster_tasks::gated)
/// write "start"/"done"/"stopped" to. Opened at the latest when destroyed, so a failing
/// case leaves no task blocked on a shared cluster.
class Gate {
 public:
  Gate(Env& env, const std::string& name) : env_(env), path_(env.file(name)), log_(env.file(name + ".log")) {}
  ~Gate() { open(); }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  /// A fresh (pure=false) task returning `value` once the gate is open.
  cask::Future<int> submit(int value, cask::options opts = {}) {
    opts.pure = false;
    return env_.client.submit(opts, cluster_tasks::gated, path_, log_, value, 20000);
  }
  void open() const { cask_cluster_test::open_gate(path_); }
  /// How many of its tasks logged `line` ("start", "done", "stopped").
  std::size_t count(const std::string& line) const { return cask_cluster_test::count_lines(log_, line); }
  /// Bounded wait until `n` of its tasks logged `line`.
  bool wait_for(std::size_t n, const std::string& line = "start") const {
    return cask_cluster_test::eventually([&] { return count(line) >= n; });
  }
  const std::string& path() const { return path_; }
  const std::string& log() const { return log_; }

 private:
  Env& env_;
  std::string path_;
  std::string log_;
};

/// True once `path` holds the line `line`, bounded by kPatience.
inline bool logged(const std::string& path, const std::string& line) {
  return cask_cluster_test::wait_for_line(path, line);
}

}  // namespace cask_both

#define CASK_BOTH_CAT_(a, b) a##b
#define CASK_BOTH_CAT(a, b) CASK_BOTH_CAT_(a, b)
#define BOTH_CASE_IMPL_(fn, name, seconds)                                                  \
  static void fn(::cask_both::Env& env);                                                    \
  TEST_CASE("Both." name "/embedded" * doctest::timeout(seconds)) {                         \
    ::cask_both::run_embedded(fn);                                                          \
  }                                                                                         \
  TEST_CASE("Both." name "/cluster" * doctest::timeout(seconds)) { ::cask_both::run_cluster(fn); } \
  static void fn([[maybe_unused]] ::cask_both::Env& env)

/// BOTH_CASE("Area.behaviour", seconds) { body using env.client, env.mode, env.file(...) }
#define BOTH_CASE(name, seconds) BOTH_CASE_IMPL_(CASK_BOTH_CAT(both_body_, __LINE__), name, seconds)
