#include "cask/this_task.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "actors/protocols.hpp"
#include "runtime/task_context.hpp"

namespace cask::this_task {

std::stop_token stop_token() noexcept {
  auto* t = detail::current_task();
  return t && t->job ? t->job->stop.get_token() : std::stop_token{};
}

bool sleep_for(std::chrono::nanoseconds duration) {
  auto token = stop_token();
  if (!token.stop_possible()) {
    std::this_thread::sleep_for(duration);
    return true;
  }
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lk(mu);
  cv.wait_for(lk, token, duration, [] { return false; });
  return !token.stop_requested();
}

std::optional<std::chrono::steady_clock::time_point> deadline() noexcept {
  auto* t = detail::current_task();
  return t && t->job ? t->job->deadline : std::nullopt;
}

const char* key() noexcept {
  auto* t = detail::current_task();
  return t && t->job ? t->job->key->c_str() : "";
}

}  // namespace cask::this_task
