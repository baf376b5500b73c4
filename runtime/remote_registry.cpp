// The process-wide registry of CASK_REMOTE functions, and exceptions as bytes.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <typeinfo>

#include "cask/remote.hpp"

namespace cask::detail {

Bytes encode_error(std::exception_ptr error) {
  std::string type = "unknown exception";
  std::string message;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const RemoteError& e) {
      // Passed on from another process: keep what it was there ("type: message").
      type = e.type_name();
      message = e.what();
      const std::string prefix = type + ": ";
      if (message.starts_with(prefix)) message.erase(0, prefix.size());
    } catch (const std::exception& e) {
      type = type_name(typeid(e));
      message = e.what();
    } catch (...) {
    }
  }
  return to_bytes(nlohmann::json{{"type", type}, {"message", message}});
}

void rethrow_remote(const Bytes& bytes) {
  const nlohmann::json j = from_bytes(bytes, "cask::RemoteError");
  if (!j.is_object() || !j.contains("type") || !j.contains("message") ||
      !j["type"].is_string() || !j["message"].is_string())
    throw SerializationError(
        "cask: cannot decode a value of type cask::RemoteError: expected an object with "
        "string fields \"type\" and \"message\"");
  const auto type = j["type"].get<std::string>();
  const auto message = j["message"].get<std::string>();
  // cask's own errors keep their type across processes; their message already names it.
  if (type == "cask::SerializationError") throw SerializationError(message);
  if (type == "cask::NotRegisteredError") throw NotRegisteredError(message);
  if (type == "cask::TimeoutError") throw TimeoutError(message);
  if (type == "cask::CommError") throw CommError(message);
  throw RemoteError(type, message);
}

namespace {
/// A MessagePack array header for n elements (fixarray, array 16 or array 32).
void append_array_header(Bytes& out, std::size_t n) {
  if (n <= 15) {
    out.push_back(static_cast<char>(0x90 | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(0xdc));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(0xdd));
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
}
}  // namespace

Bytes splice_args(const std::vector<Bytes>& args, const std::vector<DepRef>& refs,
                  const std::vector<const Bytes*>& deps) {
  std::vector<const DepRef*> at(args.size(), nullptr);
  std::size_t total = 5;
  for (const DepRef& ref : refs) {
    if (ref.position >= args.size() || std::size_t(ref.first) + ref.count > deps.size())
      throw SerializationError("cask: a task's dependency refers to argument " +
                               std::to_string(ref.position) + " of " + std::to_string(args.size()));
    at[ref.position] = &ref;
    for (std::uint32_t i = 0; i < ref.count; ++i) total += deps[ref.first + i]->size();
  }
  for (const auto& a : args) total += a.size();
  Bytes out;
  out.reserve(total + 5 * refs.size());
  append_array_header(out, args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const DepRef* ref = at[i];
    if (!ref) {
      if (args[i].empty()) throw SerializationError("cask: argument " + std::to_string(i) + " of a task is empty");
      out.insert(out.end(), args[i].begin(), args[i].end());
      continue;
    }
    if (ref->list) append_array_header(out, ref->count);
    for (std::uint32_t k = 0; k < ref->count; ++k) {
      const Bytes& value = *deps[ref->first + k];
      out.insert(out.end(), value.begin(), value.end());
    }
  }
  return out;
}

namespace remote_registry {
namespace {

struct Registry {
  std::mutex mutex;
  // Entries are never removed, so the pointers handed out stay valid.
  std::map<std::string, std::unique_ptr<RemoteFunction>, std::less<>> by_name;
  std::map<const void*, const RemoteFunction*> by_address;
  // name -> every signature it was registered with (two or more).
  std::map<std::string, std::vector<std::string>, std::less<>> conflicts;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: used by static (de)initialisers
  return *r;
}

[[noreturn]] void throw_conflict(const std::string& name, const std::vector<std::string>& sigs) {
  std::string text = "cask: the remote function " + name +
                     " is registered with different signatures: ";
  for (std::size_t i = 0; i < sigs.size(); ++i) text += (i ? " and " : "") + sigs[i];
  throw NotRegisteredError(text);
}

}  // namespace

void add(RemoteFunction fn) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.by_name.find(fn.name);
  if (it == r.by_name.end()) {
    auto entry = std::make_unique<RemoteFunction>(std::move(fn));
    if (entry->address) r.by_address.emplace(entry->address, entry.get());
    r.by_name.emplace(entry->name, std::move(entry));
    return;
  }
  const RemoteFunction& first = *it->second;
  if (fn.signature == first.signature) {
    if (fn.address) r.by_address.emplace(fn.address, &first);
    return;
  }
  auto& sigs = r.conflicts[fn.name];
  if (sigs.empty()) sigs.push_back(first.signature);
  if (std::find(sigs.begin(), sigs.end(), fn.signature) == sigs.end())
    sigs.push_back(fn.signature);
  if (fn.address) r.by_address.emplace(fn.address, &first);
}

const RemoteFunction* find(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (auto c = r.conflicts.find(name); c != r.conflicts.end())
    throw_conflict(c->first, c->second);
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : it->second.get();
}

const RemoteFunction* find(const void* address) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.by_address.find(address);
  if (it == r.by_address.end()) return nullptr;
  if (auto c = r.conflicts.find(it->second->name); c != r.conflicts.end())
    throw_conflict(c->first, c->second);
  return it->second;
}

namespace {
// Registered in every process that links cask, so every worker can run a scatter.
const RemoteRegistrar scatter_registrar{RemoteFunction{
    kScatterFunction, kScatterSignature,
    [](const Bytes& args) {
      const nlohmann::json array = from_bytes(args, "the argument of a scatter");
      if (!array.is_array() || array.size() != 1)
        throw SerializationError("cask: a scatter takes one value");
      return to_bytes(array[0]);
    },
    nullptr}};
}  // namespace

std::vector<RemoteSignature> list() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<RemoteSignature> out;
  out.reserve(r.by_name.size());
  for (const auto& [name, fn] : r.by_name)  // std::map: sorted by name
    if (!r.conflicts.contains(name)) out.push_back({name, fn->signature});
  return out;
}

}  // namespace remote_registry
}  // namespace cask::detail
