// cask/detail/hashing.hpp: tokenising callables and arguments into task keys
// (Dask's `tokenize`): the same function with equal arguments gets the same key.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace cask {
template <class T>
class Future;
}

namespace cask::detail {

/// 64-bit mixing (splitmix64 finaliser): std::hash<int> is the identity, keys need spread.
constexpr std::uint64_t mix(std::uint64_t h, std::uint64_t v) noexcept {
  std::uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <class T>
struct Hasher;  // primary: not hashable

template <class T>
concept StdHashable = requires(const T& v) {
  { std::hash<T>{}(v) } -> std::convertible_to<std::size_t>;
};

template <class T>
concept Tokenizable = requires(const T& v, std::uint64_t& h) { Hasher<T>::add(h, v); };

template <StdHashable T>
  requires(!std::is_pointer_v<T>)  // a pointer's hash is its address, not its contents
struct Hasher<T> {
  static void add(std::uint64_t& h, const T& v) { h = mix(h, std::hash<T>{}(v)); }
};

template <Tokenizable T>
  requires(!StdHashable<std::vector<T>>)
struct Hasher<std::vector<T>> {
  static void add(std::uint64_t& h, const std::vector<T>& v) {
    h = mix(h, v.size());
    for (const auto& x : v) Hasher<T>::add(h, x);
  }
};

template <Tokenizable A, Tokenizable B>
struct Hasher<std::pair<A, B>> {
  static void add(std::uint64_t& h, const std::pair<A, B>& v) {
    Hasher<A>::add(h, v.first);
    Hasher<B>::add(h, v.second);
  }
};

template <Tokenizable... Ts>
struct Hasher<std::tuple<Ts...>> {
  static void add(std::uint64_t& h, const std::tuple<Ts...>& v) {
    std::apply([&h](const auto&... x) { (Hasher<std::decay_t<decltype(x)>>::add(h, x), ...); }, v);
  }
};

template <class T>
struct Hasher<Future<T>> {  // a future stands for its key
  static void add(std::uint64_t& h, const Future<T>& f) {
    h = mix(h, std::hash<std::string>{}(f.key()));
  }
};

/// Which callables have an identity: function pointers (by address) and stateless
/// function objects such as capture-less lambdas (by type). Stateful lambdas do not.
template <class F>
constexpr bool has_identity =
    std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>
    || (std::is_class_v<F> && std::is_empty_v<F>);

template <class F>
std::uint64_t callable_token(const F& f) {
  if constexpr (std::is_pointer_v<F>)
    return mix(0x5eed, reinterpret_cast<std::uintptr_t>(reinterpret_cast<const void*>(f)));
  else
    return mix(0x5eed, typeid(F).hash_code());
}

/// Demangled, readable name of a callable: "slow" for a function (when the symbol is
/// visible to dladdr or registered), the type's name otherwise. Defined in the runtime.
std::string symbol_name(const void* address);
std::string type_name(const std::type_info& type);

template <class F>
std::string callable_name(const F& f) {
  if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>)
    return symbol_name(reinterpret_cast<const void*>(f));
  else
    return type_name(typeid(F));
}

/// "name-<32 hex digits>" from two independent 64-bit tokens.
std::string make_key(const std::string& name, std::uint64_t token);
/// A key nobody else has: "name-<32 hex digits>".
std::string fresh_key(const std::string& name);

}  // namespace cask::detail
