// cask/remote.hpp: values on the wire and functions called by name, for cluster mode.
//
// In a cluster, code crosses processes by name and values cross as bytes. A value can cross
// when it converts to and from nlohmann::json (the usual nlohmann convention: ADL to_json /
// from_json next to the type); it travels as MessagePack. A free function can be called by
// name once CASK_REMOTE has registered it, at namespace scope, in the program (or a
// library preloaded into it):
//
//   struct Point { int x, y; };
//   void to_json(nlohmann::json& j, const Point& p) { j = {p.x, p.y}; }
//   void from_json(const nlohmann::json& j, Point& p) { p = {j.at(0), j.at(1)}; }
//
//   Point shift(Point p, int dx) { return {p.x + dx, p.y}; }
//   CASK_REMOTE(shift);                       // name "shift", signature "Point(Point, int)"
//
//   auto* fn = cask::detail::remote_registry::find("shift");
//   cask::detail::Bytes out = fn->invoke(cask::detail::encode_args(Point{1, 2}, 3));
//   Point p = cask::detail::decode<Point>(out);           // {4, 2}
//
// A type that cannot cross is a compile-time error where it would have to (CASK_REMOTE,
// encode, decode); bytes that do not decode as the expected type throw
// cask::SerializationError naming the type. A task's exception crosses as its type name and
// message (encode_error) and is raised on the other side as cask::RemoteError
// (rethrow_remote).
// Part of the umbrella cask/cask.hpp: the same program submits to an embedded or a remote
// cluster, and only a remote client encodes.
// Thread-safety: encode/decode are pure functions; the registry may be used from any
// number of threads at once, and the entries it returns live as long as the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cask/detail/hashing.hpp"
#include "cask/errors.hpp"

// nlohmann::json converts std::optional itself from 3.11.3 on; before that, cask supplies the
// usual serializer (empty <-> null). Define CASK_NO_OPTIONAL_JSON if you provide your own.
#if !defined(CASK_NO_OPTIONAL_JSON) &&                                          \
    (NLOHMANN_JSON_VERSION_MAJOR < 3 ||                                         \
     (NLOHMANN_JSON_VERSION_MAJOR == 3 && (NLOHMANN_JSON_VERSION_MINOR < 11 ||  \
                                           (NLOHMANN_JSON_VERSION_MINOR == 11 && \
                                            NLOHMANN_JSON_VERSION_PATCH < 3))))
namespace nlohmann {
template <class T>
struct adl_serializer<std::optional<T>> {
  template <class Json>
  static void to_json(Json& j, const std::optional<T>& value) {
    if (value)
      j = *value;
    else
      j = nullptr;
  }
  template <class Json>
  static void from_json(const Json& j, std::optional<T>& value) {
    if (j.is_null())
      value.reset();
    else
      value.emplace(j.template get<T>());
  }
};
}  // namespace nlohmann
#endif

namespace cask::detail {

/// Bytes on the wire (MessagePack).
using Bytes = std::vector<char>;

/// T can cross processes: it converts to and from nlohmann::json. `void` can too (as null).
template <class T>
concept Serializable =
    std::is_void_v<T> ||
    (std::is_object_v<T> && std::is_constructible_v<nlohmann::json, const T&> &&
     requires(const nlohmann::json& j) {
       { j.template get<T>() } -> std::same_as<T>;
     });

#define CASK_DETAIL_SERIALIZABLE_MESSAGE(what)                                              \
  "cask: " what " values crossing processes must be convertible to and from nlohmann::json " \
  "(to_json/from_json)"

/// MessagePack bytes of a json value.
inline Bytes to_bytes(const nlohmann::json& j) {
  Bytes out;
  nlohmann::json::to_msgpack(j, nlohmann::detail::output_adapter<char>(out));
  return out;
}

/// The json value of MessagePack bytes (the whole buffer, nothing after it); throws
/// SerializationError naming `type` (what was expected) and nlohmann's reason.
inline nlohmann::json from_bytes(const Bytes& bytes, const std::string& type) {
  try {
    return nlohmann::json::from_msgpack(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    throw SerializationError("cask: cannot decode a value of type " + type + ": " + e.what());
  }
}

/// Converts a decoded json value to T; throws SerializationError naming T (and `where`, when
/// given: "argument 2 of f") and nlohmann's reason.
template <class T>
T from_json_value(const nlohmann::json& j, const std::string& where = {}) {
  static_assert(Serializable<T>, CASK_DETAIL_SERIALIZABLE_MESSAGE("decoded"));
  if constexpr (std::is_void_v<T>) {
    if (!j.is_null())
      throw SerializationError("cask: cannot decode a value of type void" +
                               (where.empty() ? std::string() : " (" + where + ")") +
                               ": expected null, got " + j.type_name());
  } else {
    try {
      return j.template get<T>();
    } catch (const std::exception& e) {
      throw SerializationError("cask: cannot decode a value of type " + type_name(typeid(T)) +
                               (where.empty() ? std::string() : " (" + where + ")") + ": " +
                               e.what());
    }
  }
}

/// MessagePack bytes of `value`; throws SerializationError when its to_json fails.
template <class T>
Bytes encode(const T& value) {
  static_assert(Serializable<T>, CASK_DETAIL_SERIALIZABLE_MESSAGE("encoded"));
  try {
    return to_bytes(nlohmann::json(value));
  } catch (const std::exception& e) {
    throw SerializationError("cask: cannot encode a value of type " + type_name(typeid(T)) +
                             ": " + e.what());
  }
}

/// The bytes of a `void` result (null).
inline Bytes encode_void() { return to_bytes(nlohmann::json(nullptr)); }

/// The value of T in `bytes` (for T = void: checks that they hold null). Malformed,
/// truncated or wrong-typed bytes throw SerializationError naming T.
template <class T>
T decode(const Bytes& bytes) {
  static_assert(Serializable<T>, CASK_DETAIL_SERIALIZABLE_MESSAGE("decoded"));
  const std::string type = type_name(typeid(T));
  return from_json_value<T>(from_bytes(bytes, type));
}

/// The arguments of a call, as one MessagePack array.
template <class... Args>
Bytes encode_args(const Args&... args) {
  static_assert((Serializable<Args> && ...), CASK_DETAIL_SERIALIZABLE_MESSAGE("argument"));
  try {
    nlohmann::json array = nlohmann::json::array();
    (array.push_back(nlohmann::json(args)), ...);
    return to_bytes(array);
  } catch (const std::exception& e) {
    throw SerializationError(std::string("cask: cannot encode the arguments of a call: ") +
                             e.what());
  }
}

/// Decodes the arguments made by encode_args into a tuple of Params. `function` names the
/// callee in error messages. Throws SerializationError on malformed bytes, a wrong number of
/// arguments (naming expected and given counts), or an argument of the wrong type.
template <class... Params>
std::tuple<Params...> decode_args(const Bytes& bytes, const std::string& function) {
  static_assert((Serializable<Params> && ...), CASK_DETAIL_SERIALIZABLE_MESSAGE("argument"));
  const nlohmann::json array = from_bytes(bytes, "arguments of " + function);
  if (!array.is_array())
    throw SerializationError("cask: the arguments of " + function +
                             " must be an array, got " + array.type_name());
  if (array.size() != sizeof...(Params))
    throw SerializationError("cask: " + function + " expects " +
                             std::to_string(sizeof...(Params)) + " argument(s), given " +
                             std::to_string(array.size()));
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::tuple<Params...>{from_json_value<Params>(
        array[I], "argument " + std::to_string(I + 1) + " of " + function)...};
  }(std::index_sequence_for<Params...>{});
}

/// An exception as bytes: its dynamic type name (demangled; "unknown exception" when it does
/// not derive from std::exception) and its message. A RemoteError keeps the type and message
/// it came with.
Bytes encode_error(std::exception_ptr error);

/// Throws the error that bytes made by encode_error describe: cask's own errors as their
/// own type (a SerializationError on the worker is a SerializationError here), any other
/// exception as cask::RemoteError(type name, message); SerializationError when the bytes
/// are not an error at all.
[[noreturn]] void rethrow_remote(const Bytes& bytes);

/// Where the values of a task's dependencies go in its argument array (see RemoteCall).
struct DepRef {
  std::uint32_t position = 0;  // index in the argument array
  std::uint32_t first = 0;     // first dependency
  std::uint32_t count = 1;
  bool list = false;  // a std::vector<Future<T>> argument: an array of `count` values
};

/// A task in the form a remote cluster runs it: a registered function's name and
/// signature, its arguments encoded one by one (MessagePack each; empty where a
/// dependency's value goes, see `refs`), and how to decode the result into a local value.
/// Built by make_task for a remote client only; embedded clients never serialise.
struct RemoteCall {
  std::string function;
  std::string signature;
  std::vector<Bytes> args;
  std::vector<DepRef> refs;
  std::shared_ptr<const void> (*decode)(const Bytes&) = nullptr;
};

/// cask's own remote function, registered in every process: returns its one argument
/// (a remote client's scatter runs it on a worker).
inline constexpr const char* kScatterFunction = "cask::scatter";
inline constexpr const char* kScatterSignature = "json(json)";

/// The bytes of a task's result as a local value (a void result: null).
template <class R>
std::shared_ptr<const void> decode_value(const Bytes& bytes) {
  if constexpr (std::is_void_v<R>) {
    decode<void>(bytes);
    return nullptr;
  } else {
    return std::make_shared<const R>(decode<R>(bytes));
  }
}

/// The argument array of a task (what RemoteFunction::invoke takes): its encoded
/// arguments, with the values of its dependencies (MessagePack bytes each) at the places
/// `refs` names. The pieces are joined as bytes, never decoded. Throws SerializationError
/// when `refs` does not fit the arguments.
Bytes splice_args(const std::vector<Bytes>& args, const std::vector<DepRef>& refs,
                  const std::vector<const Bytes*>& deps);

/// A function callable by name: `invoke` decodes the arguments (encode_args), calls the
/// function and returns its encoded result (encode / encode_void). Exceptions of the
/// function, and SerializationError for bad arguments, propagate out of invoke.
struct RemoteFunction {
  std::string name;
  std::string signature;  // "int(int, std::string)"
  std::function<Bytes(const Bytes&)> invoke;
  const void* address = nullptr;  // the function itself
};

/// What a registered function advertises: its name and signature.
struct RemoteSignature {
  std::string name;
  std::string signature;
  friend bool operator==(const RemoteSignature&, const RemoteSignature&) = default;
};

/// The process-wide registry of remote functions (runtime/remote_registry.cpp).
namespace remote_registry {
/// Registers `fn`. The same name again with the same signature keeps the first entry (its
/// address also finds it); with another signature the name becomes a conflict.
void add(RemoteFunction fn);
/// The function registered as `name`, or nullptr. Throws NotRegisteredError naming both
/// signatures when `name` was registered with two different ones.
const RemoteFunction* find(std::string_view name);
/// The registration of the function at `address`, or nullptr. Throws NotRegisteredError
/// when its name is a conflict (see find(name)).
const RemoteFunction* find(const void* address);
/// find(name) for a string literal (which would otherwise pick the address overload).
inline const RemoteFunction* find(const char* name) { return find(std::string_view(name)); }
/// Name and signature of every function, sorted by name (conflicting names left out).
std::vector<RemoteSignature> list();
}  // namespace remote_registry

template <class F>
struct remote_traits;  // not a free function: see CASK_REMOTE

template <class R, class... Args>
struct remote_traits<R (*)(Args...)> {
  using result = R;
  using params = std::tuple<std::decay_t<Args>...>;
  static constexpr bool serializable =
      Serializable<std::decay_t<R>> && (Serializable<std::decay_t<Args>> && ...);
  static std::string signature() {
    std::string s = type_name(typeid(R)) + "(";
    bool first = true;
    ((s += (first ? "" : ", ") + type_name(typeid(std::decay_t<Args>)), first = false), ...);
    return s + ")";
  }
  template <auto Fn>
  static Bytes invoke(const Bytes& bytes, const std::string& name) {
    auto args = decode_args<std::decay_t<Args>...>(bytes, name);
    // Each parameter gets what it asks for: by-value and && parameters a moved value,
    // & parameters the decoded value itself.
    return std::apply(
        [](auto&... arg) -> Bytes {
          if constexpr (std::is_void_v<R>) {
            Fn(static_cast<Args&&>(arg)...);
            return encode_void();
          } else {
            return encode<std::decay_t<R>>(Fn(static_cast<Args&&>(arg)...));
          }
        },
        args);
  }
};
template <class R, class... Args>
struct remote_traits<R (*)(Args...) noexcept> : remote_traits<R (*)(Args...)> {};

/// The registration of the free function Fn under `name`.
template <auto Fn>
RemoteFunction make_remote(std::string name) {
  using F = decltype(Fn);
  static_assert(std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>,
                "cask: CASK_REMOTE registers a free function (or static member function)");
  using Traits = remote_traits<std::remove_cv_t<F>>;
  static_assert(Traits::serializable,
                CASK_DETAIL_SERIALIZABLE_MESSAGE("CASK_REMOTE parameter and result"));
  if constexpr (Traits::serializable) {
    RemoteFunction fn;
    fn.signature = Traits::signature();
    fn.invoke = [name](const Bytes& args) { return Traits::template invoke<Fn>(args, name); };
    fn.name = std::move(name);
    fn.address = reinterpret_cast<const void*>(Fn);
    return fn;
  } else {
    return {};
  }
}

/// Registers a function during static initialisation (CASK_REMOTE).
struct RemoteRegistrar {
  explicit RemoteRegistrar(RemoteFunction fn) { remote_registry::add(std::move(fn)); }
};

}  // namespace cask::detail

#define CASK_DETAIL_CONCAT_(a, b) a##b
#define CASK_DETAIL_CONCAT(a, b) CASK_DETAIL_CONCAT_(a, b)

/// Registers the free function `fn` under the name `#fn`, at namespace scope:
/// `CASK_REMOTE(slow);`. Every parameter and the result must be Serializable.
#define CASK_REMOTE(fn)                                                              \
  [[maybe_unused]] static const ::cask::detail::RemoteRegistrar CASK_DETAIL_CONCAT( \
      cask_remote_registrar_, __COUNTER__) {                                         \
    ::cask::detail::make_remote<&fn>(#fn)                                            \
  }
