#include "runtime/idle_spin.hpp"

#include <cstdlib>
#include <string>

#include "runtime/log.hpp"

namespace cask::detail {

std::chrono::microseconds idle_spin_time() {
  static const std::chrono::microseconds value = [] {
    const char* text = std::getenv("CASK_IDLE_SPIN_US");
    if (!text || !*text) return kDefaultIdleSpin;
    char* end = nullptr;
    const long us = std::strtol(text, &end, 10);
    // At most a second: longer would only burn cores.
    if (*end != '\0' || us < 0 || us > 1'000'000) {
      log::warn(std::string("CASK_IDLE_SPIN_US=") + text +
                " is not a number of microseconds in [0, 1000000]; using " +
                std::to_string(kDefaultIdleSpin.count()));
      return kDefaultIdleSpin;
    }
    return std::chrono::microseconds(us);
  }();
  return value;
}

}  // namespace cask::detail
