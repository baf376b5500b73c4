// actors/bulk_fetch.hpp: big values fetched over the bulk channel (runtime/bulk_channel.hpp),
// delivered as the WireData a CAF fetch answer would have carried.
// Thread-safety: may be called from any thread; `done` runs on a BulkFetcher thread, so
// an actor's callback only sends itself a message.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actors/cluster_protocols.hpp"
#include "runtime/bulk_channel.hpp"

namespace cask::detail {

/// Fetches `keys` from the holder's bulk endpoint on the process's fetcher threads, then
/// calls `done` with one WireData per key, in order: found with its bytes, or not found.
/// A failed fetch (the holder died, a broken answer) is logged and counts as not found:
/// the caller treats the value as lost, as when a CAF fetch fails.
void fetch_wire_data(const BulkEndpoint& from, std::vector<std::string> keys,
                     std::function<void(std::vector<WireData>)> done);

}  // namespace cask::detail
