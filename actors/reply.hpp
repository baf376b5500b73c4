// actors/reply.hpp: the answer to one request a blocked caller is waiting for.
//
// A thread that asks an actor something (open a coordination object, take from a queue,
// acquire a lock) sends the request with a Reply and sleeps on it; the actor fills it in
// and wakes the thread directly, without an answer message and without a scoped_actor
// (CAF_NOTES trap 4). Exactly one side settles a reply: the actor claims it before taking
// anything on the caller's behalf; a caller that gives up (its task was cancelled) abandons
// it first. An actor that finds a reply abandoned takes nothing, so no item is lost.
//
// The request carries a ReplyToken: if every copy of the request is destroyed unanswered
// (the actor is gone, its mailbox closed), the token fails the reply with CommError, so a
// caller never waits for an actor that no longer exists.
//
// Thread-safety: claim/publish/abandon may race from any threads; the payload is written
// only by the claimer and read only after the reply is answered.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

#include "actors/coordination.hpp"
#include "cask/detail/coordination.hpp"

namespace cask::detail {

class Reply {
 public:
  enum : std::uint32_t { pending, claimed, answered, abandoned };

  // The payload, written by whoever claimed the reply.
  CoordAnswer answer;
  std::exception_ptr error;
  coordination_actor actor;     // open: the object's actor
  std::shared_ptr<void> object; // actor lookup: the ActorRef

  // Requests that cross processes (actors/cluster_objects.cpp); unset in embedded mode.
  // Set before the request is sent, never changed afterwards. Both run inside noexcept
  // functions, so they must not throw: they catch and log what they cannot deliver.
  /// Server side: called by publish(), on the answering thread, with the payload written:
  /// sends the answer to the caller's process.
  std::function<void(const Reply&)> on_publish;
  /// Client side: called once the caller gave up, to tell the object's process.
  std::function<void()> on_abandon;

  /// The actor takes the reply; false when the caller abandoned it (take nothing then).
  bool claim() noexcept {
    std::uint32_t expected = pending;
    return state_.compare_exchange_strong(expected, claimed, std::memory_order_acq_rel);
  }
  /// After claim() and writing the payload: wakes the caller.
  void publish() noexcept {
    if (on_publish) on_publish(*this);
    state_.store(answered, std::memory_order_release);
    state_.notify_all();
  }
  /// claim() + error + publish(); nothing when already settled.
  void fail(std::exception_ptr e) noexcept {
    if (!claim()) return;
    error = std::move(e);
    publish();
  }
  /// The caller gives up; false when the actor already claimed it (wait for the answer).
  bool abandon() noexcept {
    std::uint32_t expected = pending;
    if (!state_.compare_exchange_strong(expected, abandoned, std::memory_order_acq_rel)) return false;
    if (on_abandon) on_abandon();
    state_.notify_all();
    return true;
  }

  bool is_abandoned() const noexcept { return state_.load(std::memory_order_acquire) == abandoned; }

  /// Blocks until answered, then rethrows the error if there is one. Inside a task, a
  /// `blocking` wait hands the worker slot back, and cancelling the task abandons the
  /// reply and throws CancelledError (unless the actor answered first).
  void await(bool blocking);

 private:
  std::atomic<std::uint32_t> state_{pending};
};

/// Travels with a request; fails the reply with CommError if destroyed unanswered.
class ReplyToken {
 public:
  explicit ReplyToken(std::shared_ptr<Reply> reply) : reply_(std::move(reply)) {}
  ~ReplyToken();
  ReplyToken(const ReplyToken&) = delete;
  ReplyToken& operator=(const ReplyToken&) = delete;
  Reply& operator*() const noexcept { return *reply_; }
  Reply* operator->() const noexcept { return reply_.get(); }

 private:
  std::shared_ptr<Reply> reply_;
};
using ReplyPtr = std::shared_ptr<ReplyToken>;

}  // namespace cask::detail
