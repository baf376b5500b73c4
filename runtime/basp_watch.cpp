#include "runtime/basp_watch.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/io/basp/all.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/system_messages.hpp>

#include "runtime/log.hpp"
#include "runtime/spinning_multiplexer.hpp"

namespace cask::detail {
namespace {

namespace io = caf::io;
namespace basp = caf::io::basp;

// A handshake carries node ids, application ids and interface signatures: a few hundred
// bytes. A peer announcing more before its handshake is not a cask node.
constexpr std::uint32_t kMaxHandshakePayload = 1 << 20;

std::string operation_name(basp::message_type op) {
  const auto code = static_cast<unsigned>(op);
  if (code <= static_cast<unsigned>(basp::message_type::heartbeat)) return basp::to_string(op);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", code);
  return std::string("unknown operation ") + hex;
}

std::string describe(const basp::header& h) {
  return operation_name(h.operation) + ", " + std::to_string(h.payload_len) + "-byte payload";
}

/// CAF's BASP broker, plus the log lines. Its handlers run on the multiplexer thread, like
/// every broker's; they look at the broker's connection contexts (`ctx`) before and after
/// CAF's own handler to see whether CAF closed the connection.
class WatchedBasp : public io::basp_broker {
 public:
  explicit WatchedBasp(caf::actor_config& cfg) : basp_broker(cfg) {}

  caf::behavior make_behavior() override {
    caf::behavior caf_basp = basp_broker::make_behavior();
    // Hands the message being handled to CAF's behavior, unchanged and uncopied.
    auto pass = [this, caf_basp]() mutable { caf_basp(current_mailbox_element()->content()); };
    return caf::message_handler{
        [this, pass](const io::new_connection_msg& msg) mutable {
          peers_[msg.handle] = remote_addr(msg.handle) + ":" + std::to_string(remote_port(msg.handle));
          pass();
        },
        [this, pass](io::new_data_msg& msg) mutable {
          auto peer = peers_.find(msg.handle);
          if (peer == peers_.end()) return pass();  // a connection this node opened
          const auto handle = msg.handle;
          if (auto oversize = oversize_before_handshake(msg)) {
            // CAF would allocate (and zero) a buffer of that size before reading a byte of it.
            log::warn("dropped the connection from " + peer->second + ": " + *oversize);
            peers_.erase(peer);
            connection_cleanup(handle, caf::sec::malformed_basp_message);
            close(handle);
            return;
          }
          const Before before = before_handling(msg);
          pass();
          if (ctx.count(handle) > 0) return;  // still open
          log::warn("dropped the connection from " + peer->second + ": " + reason(before));
          peers_.erase(peer);
        },
        [this, pass](const io::connection_closed_msg& msg) mutable {
          if (auto peer = peers_.find(msg.handle); peer != peers_.end()) {
            auto it = ctx.find(msg.handle);
            if (!handshaken(msg.handle)) {
              std::string detail;
              if (it != ctx.end() && it->second.cstate == basp::await_payload)
                detail = " (while awaiting the " + describe(it->second.hdr) + ")";
              log::info("the connection from " + peer->second + " closed before a cask handshake" + detail);
            }
            peers_.erase(peer);
          }
          pass();
        },
    }
        .or_else(caf_basp);
  }

 private:
  /// True once the peer's handshake made it a node this one routes to.
  bool handshaken(io::connection_handle hdl) { return instance.tbl().lookup_direct(hdl) != caf::none; }

  /// A reason to drop the peer when `msg` is a header, before the handshake, announcing a
  /// payload larger than any handshake (the only payload due then).
  std::optional<std::string> oversize_before_handshake(const io::new_data_msg& msg) {
    auto it = ctx.find(msg.handle);
    if ((it != ctx.end() && it->second.cstate == basp::await_payload) || handshaken(msg.handle))
      return std::nullopt;
    basp::header hdr;
    caf::binary_deserializer source{context(), msg.buf};
    if (source(hdr) || hdr.payload_len <= kMaxHandshakePayload) return std::nullopt;
    return describe(hdr) + " announced before a cask handshake (at most " +
           std::to_string(kMaxHandshakePayload) + " bytes are taken before one)";
  }

  /// What a connection was at before CAF handled a message of it: cheap to take on every
  /// message, spelled out only when CAF closed the connection over it.
  struct Before {
    bool handshaken = false;
    bool awaiting_payload = false;
    basp::header header;                 // awaiting_payload: the header of that payload
    std::array<char, basp::header_size> header_bytes{};  // otherwise: the header just read
    std::size_t header_read = 0;
  };

  Before before_handling(const io::new_data_msg& msg) {
    Before b;
    b.handshaken = handshaken(msg.handle);
    auto it = ctx.find(msg.handle);
    b.awaiting_payload = it != ctx.end() && it->second.cstate == basp::await_payload;
    if (b.awaiting_payload) {
      b.header = it->second.hdr;
    } else {
      b.header_read = std::min(msg.buf.size(), b.header_bytes.size());
      std::copy_n(msg.buf.begin(), b.header_read, b.header_bytes.begin());
    }
    return b;
  }

  std::string reason(const Before& b) {
    const std::string stage = b.handshaken ? "" : " before a cask handshake";
    if (b.awaiting_payload) return "CAF refused the payload of a " + describe(b.header) + stage;
    basp::header hdr;
    caf::binary_deserializer source{context(),
                                    caf::as_bytes(caf::make_span(b.header_bytes.data(), b.header_read))};
    if (source(hdr) || !basp::valid(hdr)) return "malformed BASP header (" + describe(hdr) + ")";
    return "CAF refused a " + describe(hdr) + stage;
  }

  std::unordered_map<io::connection_handle, std::string> peers_;  // accepted: "addr:port"
};

/// The io middleman, with WatchedBasp as its BASP broker.
class WatchedMiddleman : public io::middleman {
 public:
  explicit WatchedMiddleman(caf::actor_system& sys) : middleman(sys), backend_(&sys) {}

  io::network::multiplexer& backend() override { return backend_; }

  void start() override {
    // middleman::start() spawns its BASP broker through named_broker(), which returns the
    // one registered under that name first. Spawning only posts to the multiplexer's pipe,
    // so it is fine before the multiplexer's thread runs.
    named_broker<WatchedBasp>(caf::atom("BASP"));
    middleman::start();
  }

 private:
  SpinningMultiplexer backend_;
};

}  // namespace

void load_watched_middleman(caf::actor_system_config& cfg) {
  cfg.module_factories.push_back(
      [](caf::actor_system& sys) -> caf::actor_system::module* { return new WatchedMiddleman(sys); });
}

}  // namespace cask::detail
