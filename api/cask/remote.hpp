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
//   // (a worker calls fn->call with each argument's bytes instead: no array to build)
//   Point p = cask::detail::decode<Point>(out);           // {4, 2}
//
// A type that cannot cross is a compile-time error where it would have to (CASK_REMOTE,
// encode, decode); bytes that do not decode as the expected type throw
// cask::SerializationError naming the type. A task's exception crosses as its type name and
// message (encode_error) and is raised on the other side as cask::RemoteError
// (rethrow_remote).
// Bulk bytes are fast: std::string, nlohmann::json::binary_t, std::vector<char> and
// std::vector<unsigned char> (and vectors of them) skip nlohmann's json tree and byte-wise
// reader, in the same bytes (cask/detail/msgpack.hpp). A std::string moves at memcpy speed.
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
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cask/detail/hashing.hpp"
#include "cask/detail/msgpack.hpp"
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
inline nlohmann::json from_bytes(ByteView bytes, const std::string& type) {
  try {
    return nlohmann::json::from_msgpack(bytes.data(), bytes.data() + bytes.size());
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

/// Appends the MessagePack bytes of `value` to `out`: anything a json value can be made
/// of (an argument may be a const char* for a std::string parameter). nlohmann's
/// exceptions propagate.
template <class T>
void encode_to(Bytes& out, const T& value) {
  if constexpr (FastEncodable<T>)
    FastCodec<T>::write(out, value);
  else
    nlohmann::json::to_msgpack(nlohmann::json(value), nlohmann::detail::output_adapter<char>(out));
}

/// MessagePack bytes of `value`; throws SerializationError when its to_json fails.
template <class T>
Bytes encode(const T& value) {
  static_assert(Serializable<T>, CASK_DETAIL_SERIALIZABLE_MESSAGE("encoded"));
  try {
    Bytes out;
    encode_to(out, value);
    return out;
  } catch (const std::exception& e) {
    throw SerializationError("cask: cannot encode a value of type " + type_name(typeid(T)) +
                             ": " + e.what());
  }
}

/// The bytes of a `void` result (null).
inline Bytes encode_void() { return to_bytes(nlohmann::json(nullptr)); }

/// The value of T in `bytes`, exactly one value (for T = void: checks that they hold
/// null). Malformed, truncated or wrong-typed bytes throw SerializationError naming T (and
/// `where`, when given: "argument 2 of f").
template <class T>
T decode(ByteView bytes, const std::string& where = {}) {
  static_assert(Serializable<T>, CASK_DETAIL_SERIALIZABLE_MESSAGE("decoded"));
  if constexpr (FastEncodable<T>) {
    if (auto value = fast_decode<T>(bytes)) return std::move(*value);
  }
  // Everything else, and what the fast path does not accept: nlohmann decodes it or says
  // what is wrong.
  const std::string type = type_name(typeid(T)) + (where.empty() ? "" : " (" + where + ")");
  return from_json_value<T>(from_bytes(bytes, type), where);
}

/// The arguments of a call, as one MessagePack array.
template <class... Args>
Bytes encode_args(const Args&... args) {
  static_assert((Serializable<Args> && ...), CASK_DETAIL_SERIALIZABLE_MESSAGE("argument"));
  try {
    Bytes out;
    msgpack::put_array_header(out, sizeof...(Args));
    (encode_to(out, args), ...);
    return out;
  } catch (const std::exception& e) {
    throw SerializationError(std::string("cask: cannot encode the arguments of a call: ") +
                             e.what());
  }
}

/// The elements of an argument array made by encode_args, each as its own bytes. Throws
/// SerializationError naming `function` when the bytes are not exactly one array.
std::vector<ByteView> split_args(ByteView bytes, const std::string& function);

/// Decodes a call's arguments, each from its own bytes, into a tuple of Params. `function`
/// names the callee in error messages. Throws SerializationError on malformed bytes, a
/// wrong number of arguments (naming expected and given counts), or an argument of the
/// wrong type.
template <class... Params>
std::tuple<Params...> decode_params(std::span<const ByteView> args, const std::string& function) {
  static_assert((Serializable<Params> && ...), CASK_DETAIL_SERIALIZABLE_MESSAGE("argument"));
  if (args.size() != sizeof...(Params))
    throw SerializationError("cask: " + function + " expects " +
                             std::to_string(sizeof...(Params)) + " argument(s), given " +
                             std::to_string(args.size()));
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::tuple<Params...>{
        decode<Params>(args[I], "argument " + std::to_string(I + 1) + " of " + function)...};
  }(std::index_sequence_for<Params...>{});
}

/// Decodes the arguments made by encode_args into a tuple of Params (see decode_params).
template <class... Params>
std::tuple<Params...> decode_args(const Bytes& bytes, const std::string& function) {
  return decode_params<Params...>(split_args(bytes, function), function);
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
  // The bytes of a value of these futures (a const T*) as a worker would make them, or
  // nullptr when T cannot cross. A remote client uses it for the futures whose values are
  // in the client, not on the cluster: an actor handle's, an actor call's.
  Bytes (*encode)(const void* value) = nullptr;
};

/// DepRef::encode for a Future<T>.
template <class T>
Bytes encode_erased(const void* value) {
  if constexpr (std::is_void_v<T>)
    return encode_void();
  else
    return encode<T>(*static_cast<const T*>(value));
}
template <class T>
constexpr Bytes (*erased_encoder())(const void*) {
  if constexpr (std::is_void_v<T> || Serializable<T>)
    return &encode_erased<T>;
  else
    return nullptr;
}

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

/// The arguments of a task (what RemoteFunction::call takes), each as its own bytes: its
/// encoded arguments, with the values of its dependencies (MessagePack bytes each) in the
/// places `refs` names. Nothing is decoded and nothing copied, except that the values of a
/// list argument (std::vector<Future<T>>) are joined into an array, kept in `joined`; the
/// views point into `args`, `deps` and `joined`. Throws SerializationError when `refs`
/// does not fit the arguments.
std::vector<ByteView> task_args(const std::vector<Bytes>& args, const std::vector<DepRef>& refs,
                                const std::vector<const Bytes*>& deps,
                                std::vector<Bytes>& joined);

/// A function callable by name: `call` decodes the arguments (each as encode made it),
/// calls the function and returns its encoded result (encode / encode_void); `invoke` does
/// the same on an argument array (encode_args). Exceptions of the function, and
/// SerializationError for bad arguments, propagate out of both.
/// Registered actor constructors are remote functions named "cask.actor:T(Args...)"
/// (cask/remote_actor.hpp); the scheduler treats their results as live hosted actors.
inline constexpr std::string_view kActorConstructorPrefix = "cask.actor:";
inline bool is_actor_constructor(std::string_view function) {
  return function.starts_with(kActorConstructorPrefix);
}

struct RemoteFunction {
  std::string name;
  std::string signature;  // "int(int, std::string)"
  std::function<Bytes(std::span<const ByteView>)> call;
  const void* address = nullptr;  // the function itself
  Bytes invoke(const Bytes& args) const { return call(split_args(args, name)); }
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
  static Bytes call(std::span<const ByteView> encoded, const std::string& name) {
    auto args = decode_params<std::decay_t<Args>...>(encoded, name);
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
    fn.call = [name](std::span<const ByteView> args) {
      return Traits::template call<Fn>(args, name);
    };
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
