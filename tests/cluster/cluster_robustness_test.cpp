// Cluster mode, bad peers and bad workers: unreachable, silent and garbage-sending
// "schedulers" (CommError within the connect timeout), malformed, truncated and oversize
// bytes sent to a real scheduler (it keeps serving and logs each peer it drops or sees
// leave before a handshake), a worker whose library registers a function under a taken
// name with another signature (refused), and cask-worker with a missing preload library or
// one that registers nothing (exits non-zero, says why).
#include <optional>
#include <string>
#include <vector>

#include "cluster_util.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;
using namespace std::string_literals;

namespace {

std::string comm_error_of(const cask::ClientOptions& opts) {
  try {
    cask::Client client{opts};
    FAIL("Client constructor did not throw");
  } catch (const cask::CommError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("another exception than CommError: " << e.what());
  }
  return {};
}

/// A fresh client of the cluster gets results (the scheduler still serves).
void check_serves(const cask::LocalCluster& cluster) {
  cask::Client client{cluster};
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
  CHECK(client.gather(client.map(add, std::vector{1, 2}, std::vector{3, 4})) == std::vector{4, 6});
  CHECK(client.stats().workers == 2);
}

}  // namespace

TEST_CASE("Cluster.client_to_closed_port_throws_comm_error_quickly" * doctest::timeout(30)) {
  const std::string address = loopback(closed_port());
  const auto t0 = std::chrono::steady_clock::now();
  std::string why;
  try {
    cask::Client client{address};
    FAIL("Client constructor did not throw");
  } catch (const cask::CommError& e) {
    why = e.what();
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  CHECK(contains(why, address));
  // The same through ClientOptions, and an Error to catch generically.
  CHECK_THROWS_AS(cask::Client(cask::ClientOptions{.address = address}), cask::Error);
}

TEST_CASE("Cluster.client_to_silent_server_throws_comm_error_within_connect_timeout" *
          doctest::timeout(30)) {
  TcpServer silent;  // accepts, never says a word
  const auto t0 = std::chrono::steady_clock::now();
  const std::string why = comm_error_of({.address = silent.address(), .connect_timeout = 500ms});
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < 500ms + 1s);  // the timeout, plus slack for a loaded machine
  CHECK(contains(why, silent.address()));
  CHECK(silent.accepted() >= 1);
}

TEST_CASE("Cluster.client_to_garbage_server_throws_comm_error" * doctest::timeout(30)) {
  TcpServer garbage("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\xc1\xff\xfe garbage");
  const auto t0 = std::chrono::steady_clock::now();
  const std::string outcome =
      connect_outcome({.address = garbage.address(), .connect_timeout = 2000ms}, 2000ms + 1s, [&] { garbage.stop(); });
  CHECK(std::chrono::steady_clock::now() - t0 < 2000ms + 1s);
  CHECK(contains(outcome, "CommError: "));
  CHECK(contains(outcome, garbage.address()));
}

TEST_CASE("Cluster.client_to_server_sending_truncated_handshake_throws_comm_error_within_connect_timeout" *
          doctest::timeout(30)) {
  // Looks like a CAF node at first (a server-handshake header announcing a payload), then
  // sends only part of that payload and goes silent.
  TcpServer truncated(basp_header(0x00, 200, 1) + std::string("\x00\x01partial", 9));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string outcome = connect_outcome({.address = truncated.address(), .connect_timeout = 500ms},
                                              500ms + 1500ms, [&] { truncated.stop(); });
  INFO("outcome: " << outcome);
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms + 1500ms);
  CHECK(contains(outcome, "CommError: "));
  CHECK(contains(outcome, truncated.address()));
}

TEST_CASE("Cluster.client_to_server_announcing_oversize_handshake_throws_comm_error_within_connect_timeout" *
          doctest::timeout(30)) {
  // A server-handshake header announcing an absurd payload (4 GiB - 1), a little of it,
  // then silence.
  TcpServer oversize(basp_header(0x00, 0xffffffffu, 1) + std::string(64, '\x7f'));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string outcome = connect_outcome({.address = oversize.address(), .connect_timeout = 500ms},
                                              500ms + 1500ms, [&] { oversize.stop(); });
  INFO("outcome: " << outcome);
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms + 1500ms);
  CHECK(contains(outcome, "CommError: "));
  CHECK(contains(outcome, oversize.address()));
}

/// The scheduler's log line about the connection from 127.0.0.1:`peer_port` (empty until
/// there is one).
std::string scheduler_line_about(const std::string& log, std::uint16_t peer_port) {
  const std::string peer = "from 127.0.0.1:" + std::to_string(peer_port);
  for (const auto& line : read_lines(log)) {
    const auto at = line.find(peer);
    if (!contains(line, "cask scheduler ") || at == std::string::npos) continue;
    const char next = at + peer.size() < line.size() ? line[at + peer.size()] : '\0';
    if (next == ':' || next == ' ') return line;
  }
  return {};
}

TEST_CASE("Cluster.scheduler_survives_malformed_truncated_and_oversize_bytes" * doctest::timeout(90)) {
  ScratchDir dir;
  const std::string log = dir.file("cluster.log");
  std::optional<cask::LocalCluster> started;
  {
    StderrToFile to_log(log);  // the cluster's processes log there
    started.emplace(cluster_options());
  }
  const cask::LocalCluster& cluster = *started;
  cask::Client client{cluster};  // connected before the abuse, used after it
  CHECK(client.submit(inc, 0).result(kPatience) == 1);
  const std::uint16_t port = port_of(cluster.address());
  const int scheduler = cluster.scheduler_pid();

  // Each abusive connection is dropped or seen to close, and the scheduler says so on
  // stderr, naming the peer: returns that line.
  auto abuse = [&](const std::string& what, const std::string& bytes, bool linger) {
    INFO("sent: " << what);
    std::uint16_t peer = 0;
    {
      RawConnection raw(port);
      peer = raw.local_port();
      (void)raw.receive_some(200ms);  // whatever the scheduler greets with
      (void)raw.send(bytes);
      if (linger) (void)raw.receive_some(300ms);  // give it time to choke, then close
    }
    CHECK(process_alive(scheduler));
    check_serves(cluster);
    std::string line;
    CHECK_MESSAGE(eventually([&] { return !(line = scheduler_line_about(log, peer)).empty(); }),
                  "no scheduler log line about 127.0.0.1:" << peer << "; the log:\n" << read_text(log));
    return line;
  };

  // A literal with a NUL inside: ""s keeps every byte (a length larger than the literal read
  // past its end, which ASan reported as a global-buffer-overflow in memcpy).
  abuse("random bytes", "\xde\xad\xbe\xef garbage \xc1\xff\x00\x01 more garbage"s, true);
  const std::string unknown =
      abuse("an unknown BASP operation", basp_header(0xee, 0, 0, 1, 2) + std::string(40, '\xee'), true);
  CHECK(contains(unknown, "dropped the connection"));
  CHECK(contains(unknown, "malformed BASP header (unknown operation 0xee"));
  CHECK(contains(abuse("a truncated header", basp_header(0x01, 0).substr(0, 10), false),
                 "closed before a cask handshake"));
  CHECK(contains(abuse("a client handshake with a truncated payload", basp_header(0x01, 100) + "short", false),
                 "awaiting the client_handshake, 100-byte payload"));
  CHECK(contains(abuse("a header announcing a 4 GiB payload", basp_header(0x01, 0xffffffffu) + std::string(1024, 'x'), true),
                 "4294967295-byte payload"));
  abuse("a direct message announcing 2 GiB", basp_header(0x02, 0x80000000u, 0, 1, 1) + std::string(4096, 'y'), true);
  abuse("a valid-length message of garbage", basp_header(0x02, 64 * 1024, 0, 1, 1) + std::string(64 * 1024, '\xc1'), true);
  abuse("nothing at all (connect and close)", std::string(), false);

  // Many connections at once, each with garbage.
  std::vector<std::uint16_t> peers;
  {
    std::vector<std::unique_ptr<RawConnection>> raws;
    for (int i = 0; i < 20; ++i) {
      raws.push_back(std::make_unique<RawConnection>(port));
      peers.push_back(raws.back()->local_port());
      (void)raws.back()->send(basp_header(static_cast<std::uint8_t>(i), 17u * i) + std::string(i, 'z'));
    }
  }
  CHECK(process_alive(scheduler));
  check_serves(cluster);
  for (const std::uint16_t peer : peers)
    CHECK_MESSAGE(eventually([&] { return !scheduler_line_about(log, peer).empty(); }),
                  "no scheduler log line about 127.0.0.1:" << peer);
  // The client that was connected throughout still works.
  CHECK(client.submit(inc, 41).result(kPatience) == 42);
}

TEST_CASE("Cluster.worker_with_conflicting_signature_is_refused" * doctest::timeout(90)) {
  cask::LocalCluster cluster{cluster_options()};
  cask::Client client{cluster};
  REQUIRE(client.stats().workers == 2);
  ScratchDir dir;
  // Its library registers "inc" as std::string(std::string); the cluster's is int(int).
  Process worker({CASK_TEST_WORKER_EXECUTABLE, cluster.address(), "--name", "conflicting", "--preload",
                  CASK_TEST_CONFLICT_TASKS_LIBRARY},
                 dir.file("worker.out"));
  const std::optional<int> code = worker.wait_exit(3 * kPatience);
  INFO("worker output: " << worker.output());
  REQUIRE(code.has_value());
  CHECK(*code != 0);
  CHECK(contains(worker.output(), "refused"));
  CHECK(contains(worker.output(), "inc"));
  // The cluster keeps serving, with its two workers and inc as int(int).
  CHECK(client.stats().workers == 2);
  CHECK(client.submit(inc, 1).result(kPatience) == 2);
  check_serves(cluster);
}

TEST_CASE("Cluster.worker_with_missing_preload_library_exits_nonzero" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(0)};  // only the scheduler
  ScratchDir dir;
  Process worker({CASK_TEST_WORKER_EXECUTABLE, cluster.address(), "--preload", "/nonexistent.so"},
                 dir.file("worker.out"));
  const std::optional<int> code = worker.wait_exit(kPatience);
  INFO("worker output: " << worker.output());
  REQUIRE(code.has_value());
  CHECK(*code != 0);
  CHECK(contains(worker.output(), "/nonexistent.so"));
  CHECK(contains(worker.output(), "cannot preload"));
  cask::Client client{cluster};
  CHECK(client.stats().workers == 0);
}

TEST_CASE("Cluster.worker_with_preload_registering_nothing_exits_nonzero" * doctest::timeout(60)) {
  cask::LocalCluster cluster{cluster_options(0)};
  ScratchDir dir;
  Process worker({CASK_TEST_WORKER_EXECUTABLE, cluster.address(), "--preload", CASK_TEST_EMPTY_TASKS_LIBRARY},
                 dir.file("worker.out"));
  const std::optional<int> code = worker.wait_exit(kPatience);
  INFO("worker output: " << worker.output());
  REQUIRE(code.has_value());
  CHECK(*code != 0);
  CHECK(contains(worker.output(), CASK_TEST_EMPTY_TASKS_LIBRARY));
  CHECK(contains(worker.output(), "registers no function"));
  cask::Client client{cluster};
  CHECK(client.stats().workers == 0);
}
