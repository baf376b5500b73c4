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
  auto message = j["message"].get<std::string>();
  // cask's own errors keep their type across processes; their message already names it.
  if (type == "cask::SerializationError") throw SerializationError(message);
  if (type == "cask::NotRegisteredError") throw NotRegisteredError(message);
  if (type == "cask::TimeoutError") throw TimeoutError(message);
  if (type == "cask::CommError") throw CommError(message);
  // RemoteError prints "type: message"; a message that already begins so (cask's errors
  // name their type) would say the type twice.
  if (const std::string prefix = type + ": "; message.starts_with(prefix)) message.erase(0, prefix.size());
  throw RemoteError(type, message);
}

std::vector<ByteView> split_args(ByteView bytes, const std::string& function) {
  if (auto elements = msgpack::array_elements(bytes)) return std::move(*elements);
  // Not exactly one array: nlohmann says what it is instead.
  const nlohmann::json j = from_bytes(bytes, "arguments of " + function);
  throw SerializationError("cask: the arguments of " + function + " must be an array, got " +
                           (j.is_array() ? std::string("a malformed one") : j.type_name()));
}

std::vector<ByteView> task_args(const std::vector<Bytes>& args, const std::vector<DepRef>& refs,
                                const std::vector<const Bytes*>& deps,
                                std::vector<Bytes>& joined) {
  std::vector<const DepRef*> at(args.size(), nullptr);
  for (const DepRef& ref : refs) {
    if (ref.position >= args.size() || std::size_t(ref.first) + ref.count > deps.size())
      throw SerializationError("cask: a task's dependency refers to argument " +
                               std::to_string(ref.position) + " of " + std::to_string(args.size()));
    at[ref.position] = &ref;
  }
  joined.reserve(joined.size() + refs.size());  // views point into it: no reallocation later
  std::vector<ByteView> out;
  out.reserve(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    const DepRef* ref = at[i];
    if (!ref) {
      if (args[i].empty()) throw SerializationError("cask: argument " + std::to_string(i) + " of a task is empty");
      out.emplace_back(args[i]);
    } else if (!ref->list) {
      out.emplace_back(*deps[ref->first]);
    } else {
      Bytes& list = joined.emplace_back();
      std::size_t total = 5;
      for (std::uint32_t k = 0; k < ref->count; ++k) total += deps[ref->first + k]->size();
      list.reserve(total);
      msgpack::put_array_header(list, ref->count);
      for (std::uint32_t k = 0; k < ref->count; ++k) {
        const Bytes& value = *deps[ref->first + k];
        list.insert(list.end(), value.begin(), value.end());
      }
      out.emplace_back(list);
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
// Its value's bytes are passed on as they are, once they are known to hold one value.
const RemoteRegistrar scatter_registrar{RemoteFunction{
    kScatterFunction, kScatterSignature,
    [](std::span<const ByteView> args) {
      if (args.size() != 1) throw SerializationError("cask: a scatter takes one value");
      if (msgpack::value_size(args[0]) != args[0].size())
        throw SerializationError("cask: cannot decode the value of a scatter: not one "
                                 "MessagePack value");
      return Bytes(args[0].begin(), args[0].end());
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
