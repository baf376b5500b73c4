#include "actors/bulk_fetch.hpp"

#include "runtime/log.hpp"

namespace cask::detail {

void fetch_wire_data(const BulkEndpoint& from, std::vector<std::string> keys,
                     std::function<void(std::vector<WireData>)> done) {
  BulkFetcher::shared().fetch(from, keys, [keys, done = std::move(done)](std::vector<BulkFetched> got) {
    std::vector<WireData> data(keys.size());
    for (std::size_t n = 0; n < keys.size(); ++n) {
      data[n].key = keys[n];
      if (n >= got.size()) continue;
      data[n].found = got[n].kind == BulkFetched::Kind::found;
      if (data[n].found) data[n].bytes = std::move(got[n].bytes);
      if (got[n].kind == BulkFetched::Kind::failed) log::warn(got[n].error);
    }
    done(std::move(data));
  });
}

}  // namespace cask::detail
