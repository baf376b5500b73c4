// runtime/basp_watch.hpp: log lines for connections CAF drops on its own.
//
// CAF 0.17's BASP broker closes a connection whose bytes are malformed (an unknown
// operation, a header that does not add up, a payload it cannot decode) without telling
// anyone, and Debian's build has CAF's own logging compiled out. load_watched_middleman()
// loads the io middleman with a BASP broker that is CAF's, plus log lines for the
// connections this node accepted:
//   warn  "dropped the connection from 127.0.0.1:40312: malformed BASP header (operation
//          0xee, 0-byte payload)"
//   info  "the connection from 127.0.0.1:40318 closed before a cask handshake (while
//          awaiting a 100-byte payload of a client_handshake)"
// A peer that announces a payload larger than any handshake (1 MiB) before its handshake
// is dropped here, before CAF allocates a buffer of that size for it. A peer that completed
// its handshake and leaves is reported by the actors that monitor it (the scheduler's
// "worker ... left").
#pragma once

namespace caf {
class actor_system_config;
}

namespace cask::detail {

/// Use instead of cfg.load<caf::io::middleman>(), before the actor system exists.
void load_watched_middleman(caf::actor_system_config& cfg);

}  // namespace cask::detail
