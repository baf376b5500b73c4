#include "runtime/log.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace cask::detail::log {
namespace {
std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_color_mt("cask");
    l->set_pattern("%Y-%m-%d %H:%M:%S.%e cask %n %l: %v");
    return l;
  }();
  return instance;
}
}  // namespace

void set_role(const std::string& role) {
  logger()->set_pattern("%Y-%m-%d %H:%M:%S.%e cask " + role + " %l: %v");
}
void info(const std::string& line) { logger()->info(line); }
void warn(const std::string& line) { logger()->warn(line); }
void error(const std::string& line) { logger()->error(line); }
void flush() { logger()->flush(); }

}  // namespace cask::detail::log
