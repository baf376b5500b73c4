// cask/status.hpp: where a future is in its lifecycle (Dask's Future.status).
#pragma once

#include <ostream>
#include <string_view>

namespace cask {

/// pending: submitted, waiting for inputs, queued or running.
/// finished: has a value.  error: the task threw.  cancelled: will never run or its
/// result was dropped.  lost: the only copy of the result went away with its worker.
enum class Status { pending, finished, error, cancelled, lost };

constexpr std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::pending: return "pending";
    case Status::finished: return "finished";
    case Status::error: return "error";
    case Status::cancelled: return "cancelled";
    case Status::lost: return "lost";
  }
  return "unknown";
}

inline std::ostream& operator<<(std::ostream& os, Status s) { return os << to_string(s); }

/// True once the status can no longer change.
constexpr bool is_final(Status s) noexcept { return s != Status::pending; }

}  // namespace cask
