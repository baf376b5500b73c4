// actors/coordination_object.hpp: what every coordination object actor has in common:
// counting the handles that refer to it, waiting requests with their timeouts, answering
// replies, and retiring through the registry once nobody can reach it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "actors/coordination.hpp"
#include <caf/typed_event_based_actor.hpp>

#include "actors/reply.hpp"

namespace cask::detail {

class CoordinationObject : public coordination_actor::base {
 public:
  CoordinationObject(caf::actor_config& cfg, CoordInit init);
  ~CoordinationObject() override;
  behavior_type make_behavior() override;

  /// Objects alive in this process (ClusterStats::coordination_objects comes from the
  /// registry; this one is for leak checks).
  static std::size_t live() noexcept;

 protected:
  struct Parked {
    std::uint64_t id;
    CoordRequest req;
  };

  /// One operation of a handle.
  virtual void handle(CoordRequest& req) = 0;
  /// The handle `holder` is gone: give back what it holds.
  virtual void release_holder(std::uintptr_t) {}
  /// True when the object holds nothing worth keeping without handles.
  virtual bool holds_nothing() const = 0;
  /// A waiting request ran out of time (default: answered with flag = false).
  virtual void time_out(CoordRequest& req);
  /// Waiting requests left (their callers gave up, or their handle is gone): serve the
  /// ones that were waiting behind them (default: just forget the abandoned ones).
  virtual void serve_waiting() { drop_abandoned(); }

  /// Keeps a request that cannot be answered yet, in arrival order, and arms its timeout;
  /// a zero or negative timeout times out at once.
  void park(CoordRequest req);
  /// Forgets waiting requests whose callers gave up (a cancelled task), so that they do
  /// not hold up the ones behind them.
  void drop_abandoned();
  std::deque<Parked> parked_;

  /// Claims the request's reply, lets `fill` write the answer and wakes the caller.
  /// False (nothing filled) when the caller gave up: take nothing on its behalf.
  static bool answer(const CoordRequest& req, const std::function<void(CoordAnswer&)>& fill = {});
  /// Fails the request with cask::Error("<Kind> '<name>': what").
  void refuse(const CoordRequest& req, const std::string& what) const;
  /// Fails the request with cask::TimeoutError.
  void timed_out_error(const CoordRequest& req, const std::string& what) const;
  /// "Queue 'jobs'"
  std::string label() const;

 private:
  void maybe_retire();

  const CoordKind kind_;
  const std::string name_;
  scheduler_actor registry_;
  std::size_t handles_ = 0;      // attached and not yet detached
  std::uint64_t attaches_ = 0;   // attaches seen, compared by the registry when retiring
  std::uint64_t next_id_ = 0;    // parked request ids
};

// One per kind, each in its own file (spawn_coordination picks).
coordination_actor spawn_queue(caf::actor_system& sys, CoordInit init);
coordination_actor spawn_variable(caf::actor_system& sys, CoordInit init);
coordination_actor spawn_semaphore(caf::actor_system& sys, CoordInit init);  // and locks
coordination_actor spawn_event(caf::actor_system& sys, CoordInit init);
coordination_actor spawn_topic(caf::actor_system& sys, CoordInit init);

}  // namespace cask::detail
