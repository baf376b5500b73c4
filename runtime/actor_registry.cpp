// The process-wide table of CASK_ACTOR methods (cask/remote_actor.hpp).
#include <deque>
#include <mutex>

#include "cask/remote_actor.hpp"

namespace cask::detail::actor_registry {
namespace {

struct Registry {
  std::mutex mutex;
  // Entries are never removed (a deque keeps their addresses), so the pointers handed
  // out stay valid for the life of the process.
  std::deque<ActorMethod> methods;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: lookups may run during exit
  return *r;
}

}  // namespace

void add(ActorMethod method) {
  auto& r = registry();
  std::lock_guard lk(r.mutex);
  for (const auto& m : r.methods)
    if (m.type == method.type && m.name == method.name) return;  // CASK_ACTOR seen twice
  r.methods.push_back(std::move(method));
}

const ActorMethod* find(std::string_view type, std::string_view name) {
  auto& r = registry();
  std::lock_guard lk(r.mutex);
  for (const auto& m : r.methods)
    if (m.type == type && m.name == name) return &m;
  return nullptr;
}

const ActorMethod* find(std::string_view type, const void* identity) {
  auto& r = registry();
  std::lock_guard lk(r.mutex);
  for (const auto& m : r.methods)
    if (m.type == type && m.identity == identity) return &m;
  return nullptr;
}

}  // namespace cask::detail::actor_registry
