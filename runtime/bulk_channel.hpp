// runtime/bulk_channel.hpp: the side channel that moves big values between processes of a
// cluster without CAF.
//
// CAF's message path costs a 100 MB value four copies (its serialisation buffer, the
// kernel twice, its read buffer, the message); here the holder writes the answer straight
// from its store's buffer and the fetcher reads it straight into the buffer that becomes
// the value: one kernel copy on each side.
//
// Each worker runs a BulkServer on a plain TCP port chosen by the kernel. A fetch still
// starts as a CAF `fetch` request; for a value above kBulkThreshold the holder answers with
// its bulk endpoint instead of the bytes, and the fetcher gets them from there (small
// values keep travelling in the CAF answer, which is faster for them).
//
// Protocol (integers big-endian), one request at a time per connection:
//   request: "CSKQ", u32 key length (1..kMaxKeyLength), key bytes
//   answer:  "CSKA", u8 found (1) or not found (0), u64 value length, value bytes
// A peer that sends anything else, stalls mid-request or announces an absurd key length is
// dropped with a log line naming it and why; the server keeps serving everybody else.
//
// Threads: the server accepts on one thread and serves each connection on its own thread;
// BulkFetcher runs fetches on its own threads. Nothing here runs on (or blocks) a CAF
// thread. Thread-safety: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cask/detail/msgpack.hpp"

namespace cask::detail {

/// Values bigger than this are fetched over the bulk channel.
constexpr std::uint64_t kBulkThreshold = 256 * 1024;
/// Longer keys in a request mean a broken or hostile peer.
constexpr std::uint32_t kMaxKeyLength = 4096;

struct BulkEndpoint {
  std::string host;
  std::uint16_t port = 0;  // 0: no bulk channel
  explicit operator bool() const { return port != 0; }
  std::string str() const { return host + ":" + std::to_string(port); }
};

/// The local address through which this host reaches `host` (the address other nodes of
/// the cluster can reach this one at); empty when it cannot be found.
std::string local_address_towards(const std::string& host, std::uint16_t port);

class BulkServer {
 public:
  /// The value stored under a key, or null.
  using Lookup = std::function<std::shared_ptr<const Bytes>(const std::string& key)>;

  /// Listens on every interface (as the worker's CAF port does), port chosen by the kernel.
  /// Throws cask::Error when it cannot. Answers "not found" until serve_from is called.
  BulkServer();
  /// Stops listening, drops every connection and joins the threads.
  ~BulkServer();
  BulkServer(const BulkServer&) = delete;
  BulkServer& operator=(const BulkServer&) = delete;

  std::uint16_t port() const;
  /// Where values come from from now on (a worker's store changes when it rejoins).
  void serve_from(Lookup lookup);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One fetched value.
struct BulkFetched {
  enum class Kind { found, not_found, failed };
  Kind kind = Kind::failed;
  std::shared_ptr<const Bytes> bytes;  // found
  std::string error;                   // failed: why
};

/// Fetches values from BulkServers over pooled connections (one idle connection kept per
/// peer per fetching thread, reused by the next fetch from that peer).
class BulkFetcher {
 public:
  using Done = std::function<void(std::vector<BulkFetched>)>;

  explicit BulkFetcher(std::size_t threads = 2);
  ~BulkFetcher();
  BulkFetcher(const BulkFetcher&) = delete;
  BulkFetcher& operator=(const BulkFetcher&) = delete;

  /// Fetches `keys` from `from` on a fetcher thread, then calls `done` there with one
  /// answer per key, in order.
  void fetch(BulkEndpoint from, std::vector<std::string> keys, Done done);

  /// This process's fetcher (started on first use, lives as long as the process).
  static BulkFetcher& shared();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Fetches one value on the calling thread (blocking), on a fresh connection.
BulkFetched bulk_fetch_once(const BulkEndpoint& from, const std::string& key);

}  // namespace cask::detail
