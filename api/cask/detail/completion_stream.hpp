// cask/detail/completion_stream.hpp: the completions behind as_completed.
//
// Cores push their completion (a token) into the stream as they finish; one consumer
// takes them in completion order. An optional deadline is a timer actor's delayed
// message. Not part of the API a user calls.
// Thread-safety: add() and the consumer calls may run on different threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "cask/detail/future_core.hpp"

namespace cask::detail {

class CompletionStream {
 public:
  explicit CompletionStream(std::optional<std::chrono::steady_clock::time_point> deadline = {});
  ~CompletionStream();
  CompletionStream(CompletionStream&&) noexcept = default;
  CompletionStream& operator=(CompletionStream&&) noexcept = default;

  /// Its completion will be taken once, as `token`.
  void add(const CorePtr& core, std::size_t token);
  /// Blocks for the next completion; nullopt when nothing is outstanding. Throws
  /// TimeoutError at the deadline, CancelledError when the waiting task is cancelled.
  std::optional<std::size_t> next();
  /// Blocks for at least one completion (unless nothing is outstanding), takes them all.
  std::vector<std::size_t> next_batch();
  /// Added and not yet taken.
  std::size_t outstanding() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace cask::detail
