// actors/registry.hpp: the scheduler's directory of named things: coordination objects
// (one actor per kind and name, spawned on first use, retired when unreferenced) and
// named actors (Client::get_actor).
//
// Part of the scheduler's state; its functions run inside the scheduler's handlers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "actors/coordination.hpp"

namespace cask::detail {

class Registry {
 public:
  /// Finds or spawns the object, counts the new handle (attach) and answers the handle
  /// with the actor; a kind/type/limit mismatch is answered with cask::Error.
  void open(caf::local_actor* self, const scheduler_actor& scheduler, OpenRequest& req);
  /// The object `sender` asks to retire, having seen `attaches` handles. Granted (the
  /// entry goes, the actor quits) unless a handle was handed out since.
  void retire(CoordKind kind, const std::string& name, std::uint64_t attaches,
              const caf::strong_actor_ptr& sender);
  void name(NameRequest& req);
  /// Stops every object: their waiting callers get CommError.
  void shutdown();

  std::size_t objects() const noexcept { return objects_.size(); }

 private:
  struct Object {
    std::string type;
    std::size_t limit = 0;
    coordination_actor actor;
    std::uint64_t attaches = 0;  // handles handed out
  };
  struct Named {
    std::string type;
    std::weak_ptr<void> ref;
  };
  std::map<std::pair<CoordKind, std::string>, Object> objects_;
  std::unordered_map<std::string, Named> actors_;
};

}  // namespace cask::detail
