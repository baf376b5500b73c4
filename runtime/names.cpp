// Task keys and display names: Dask's "slow-<hash>" keys, readable C++ names.
#include <cxxabi.h>
#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

#include "cask/detail/hashing.hpp"

namespace cask::detail {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string s = (status == 0 && out) ? out : mangled;
  std::free(out);
  return s;
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (auto pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size()))
    s.replace(pos, what.size(), with);
}

/// "ns::slow(int)" -> "slow"
std::string short_function_name(std::string s) {
  if (auto paren = s.find('('); paren != std::string::npos) s.resize(paren);
  if (auto colon = s.rfind("::"); colon != std::string::npos) s.erase(0, colon + 2);
  return s;
}

}  // namespace

std::string symbol_name(const void* address) {
  static std::mutex mu;
  static std::unordered_map<const void*, std::string> cache;
  std::lock_guard lk(mu);
  auto [it, fresh] = cache.try_emplace(address);
  if (fresh) {
    Dl_info info{};
    // dladdr sees exported symbols only: executables are linked with -rdynamic
    // (CMake ENABLE_EXPORTS) so that keys read "slow-..." rather than "function-...".
    if (dladdr(address, &info) != 0 && info.dli_sname && info.dli_saddr == address)
      it->second = short_function_name(demangle(info.dli_sname));
    else
      it->second = "function";
  }
  return it->second;
}

std::string type_name(const std::type_info& type) {
  std::string s = demangle(type.name());
  if (s.find("{lambda") != std::string::npos) return "lambda";
  replace_all(s, "std::__cxx11::", "std::");
  replace_all(s, "std::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string");
  return s;
}

std::string make_key(const std::string& name, std::uint64_t token) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string key;
  key.reserve(name.size() + 33);
  key += name;
  key += '-';
  for (std::uint64_t part : {token, mix(token, 0xca5c)})
    for (int shift = 60; shift >= 0; shift -= 4) key += digits[(part >> shift) & 0xf];
  return key;
}

std::string fresh_key(const std::string& name) {
  static const std::uint64_t seed = std::random_device{}() * 0x100000001ULL ^ std::random_device{}();
  static std::atomic<std::uint64_t> counter{0};
  return make_key(name, mix(seed, counter.fetch_add(1, std::memory_order_relaxed)));
}

}  // namespace cask::detail
