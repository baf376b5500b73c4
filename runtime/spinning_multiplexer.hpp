// runtime/spinning_multiplexer.hpp: CAF's network multiplexer, polling for a while when idle.
//
// Every message between cask processes passes two multiplexer threads: the sender's (woken
// through a pipe by the actor that sends) and the receiver's (woken by epoll). CAF 0.17's
// multiplexer sleeps in epoll_wait as soon as it has nothing to do, so each hop of a
// submit -> result round trip paid two thread wake-ups (4-20 µs each here, more under load,
// seen with perf sched). This one keeps polling without blocking for the idle-spin time
// after its last event (runtime/idle_spin.hpp), then sleeps in epoll_wait as CAF's does.
#pragma once

#include <chrono>
#include <thread>

#include <caf/io/network/default_multiplexer.hpp>

#include "runtime/idle_spin.hpp"

namespace cask::detail {

class SpinningMultiplexer : public caf::io::network::default_multiplexer {
 public:
  using default_multiplexer::default_multiplexer;

  // CAF's run() is `while (num_socket_handlers() > 0) poll_once(true);`: the same loop, with
  // non-blocking polls first. The middleman sets thread_id() before it calls run().
  void run() override {
    const auto spin = idle_spin_time();
    auto last_event = std::chrono::steady_clock::now();
    unsigned idle_polls = 0;
    while (num_socket_handlers() > 0) {
      if (spin.count() > 0 && poll_once(false)) {
        last_event = std::chrono::steady_clock::now();
        idle_polls = 0;
        continue;
      }
      if (spin.count() == 0 || std::chrono::steady_clock::now() - last_event > spin) {
        poll_once(true);
        last_event = std::chrono::steady_clock::now();
        continue;
      }
      if ((++idle_polls & 7) == 0) std::this_thread::yield();  // a runnable thread goes first
    }
  }
};

}  // namespace cask::detail
