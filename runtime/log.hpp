// runtime/log.hpp: the log lines of cluster nodes (who connected, who left and why).
//
// Written to stderr through spdlog, one line each, with a timestamp and the node's role
// ("scheduler", "worker w1", "client"). CAF's own logging is compiled out of Debian's
// build, so these are the only lines a cluster writes.
// Thread-safety: may be called from any thread.
#pragma once

#include <string>

namespace cask::detail::log {

/// Names this process in every line (set once, at start-up).
void set_role(const std::string& role);
void info(const std::string& line);
void warn(const std::string& line);
void error(const std::string& line);
/// Writes out what is buffered (before a process ends with _Exit).
void flush();

}  // namespace cask::detail::log
