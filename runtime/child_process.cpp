#include "runtime/child_process.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "cask/errors.hpp"

extern char** environ;

namespace cask::detail {
namespace {
constexpr std::chrono::milliseconds kPollInterval{10};
}  // namespace

void ChildProcess::start(std::string name, const std::string& path, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t started = -1;
  const int rc = ::posix_spawn(&started, path.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error("cannot start " + path + ": " + std::strerror(rc));
  what = std::move(name);
  pid = started;
  reaped = false;
  status = 0;
}

bool ChildProcess::try_reap() {
  if (reaped) return true;
  int st = 0;
  pid_t r;
  do r = ::waitpid(pid, &st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  reaped = true;                  // r < 0 (ECHILD): collected elsewhere, e.g. with
  status = r == pid ? st : 0;     // SIGCHLD ignored
  return true;
}

bool ChildProcess::reap_until(Clock::time_point deadline) {
  while (!try_reap()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

void ChildProcess::send(int signal) const {
  if (!reaped && pid > 0) ::kill(pid, signal);
}

void ChildProcess::kill(int signal, std::chrono::milliseconds patience) {
  send(signal);
  if (signal == SIGKILL) reap_until(Clock::now() + patience);
}

void ChildProcess::stop(std::chrono::milliseconds patience) {
  send(SIGTERM);
  if (reap_until(Clock::now() + patience)) return;
  kill(SIGKILL, patience);
}

std::string ChildProcess::describe_exit() const {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           sigabbrev_np(WTERMSIG(status)) + ")";
  return "exited";
}

}  // namespace cask::detail
