// cask/detail/future_wire.hpp: a Future<T> crossing processes inside a coordination
// object's value (Dask: a future put into a Queue, a Variable or a Pub topic).
//
// Not part of the API a user calls. On the wire a future is its key, {"cask.future": key}.
// Encoding one inside a FutureWireScope records the key, so that the handle can tell the
// object's process which keys the value names: they are kept alive there while the value
// is stored (actors/cluster_objects.hpp). Decoding one *claims* the key in the client of
// the scope (else the current task's, else the default client): the result is a live
// Future bound to that key, fetched from its holder like any other, and cancelled
// (CancelledError) when the cluster no longer knows the key. Embedded clients never
// serialise, so futures move there by pointer as before.
//
// Thread-safety: a scope belongs to the thread that made it; scopes nest.
#pragma once

#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cask/detail/future_core.hpp"
#include "cask/future.hpp"
#include "cask/remote.hpp"

namespace cask::detail {

/// While it lives, this thread's encoded futures are collected and decoded futures are
/// claimed in `client`.
class FutureWireScope {
 public:
  explicit FutureWireScope(std::shared_ptr<ClientState> client) noexcept;
  ~FutureWireScope();
  FutureWireScope(const FutureWireScope&) = delete;
  FutureWireScope& operator=(const FutureWireScope&) = delete;

  /// The keys of the futures encoded since the scope began (or the last take).
  std::vector<std::string> take_keys() { return std::exchange(keys_, {}); }

  /// Records `key` in the innermost scope of this thread. Outside a scope nothing would
  /// keep the key alive until the receiver claims it (a future inside a task's argument or
  /// result): throws cask::SerializationError instead.
  static void note_key(const std::string& key);

 private:
  friend CorePtr claim_future(const std::string&, const std::type_info&,
                              std::shared_ptr<const void> (*)(const Bytes&));
  std::shared_ptr<ClientState> client_;
  std::vector<std::string> keys_;
  FutureWireScope* previous_;
};

/// A live handle to `key` in the decoding client (see above). Throws cask::Error outside a
/// client of a remote cluster.
CorePtr claim_future(const std::string& key, const std::type_info& type,
                     std::shared_ptr<const void> (*decode)(const Bytes&));

/// The deleter of a coordination value's bytes that name futures: their keys travel with
/// the value (the handle's stand-in reads them with std::get_deleter).
struct FutureKeys {
  std::vector<std::string> keys;
  void operator()(const Bytes* bytes) const noexcept { delete bytes; }
};

}  // namespace cask::detail

namespace cask {

template <class T>
  requires detail::Serializable<T>
void to_json(nlohmann::json& j, const Future<T>& f) {
  if (!f.valid()) throw Error("cask::Error: an empty Future cannot cross processes");
  detail::FutureWireScope::note_key(f.key());
  j = nlohmann::json{{"cask.future", f.key()}};
}

template <class T>
  requires detail::Serializable<T>
void from_json(const nlohmann::json& j, Future<T>& f) {
  f = Future<T>(detail::claim_future(j.at("cask.future").get<std::string>(), typeid(T), &detail::decode_value<T>));
}

}  // namespace cask
