// The bulk channel (runtime/bulk_channel.hpp): values above kBulkThreshold move between
// workers, and to clients, over a plain TCP port of the holding worker. Real worker
// processes and sockets: values of every size arrive intact across workers; the port
// answers a key it holds and "not found" for one it no longer has; a peer sending garbage,
// a truncated header or an absurd length is dropped with a logged reason while the worker
// keeps serving; a holder that stops in the middle of a value makes the fetch fail (never a
// partial value); a holder killed around a transfer has its value recomputed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bulk_tasks.hpp"
#include "cluster_util.hpp"
#include "runtime/bulk_channel.hpp"
#include "tasks.hpp"

using namespace cask_cluster_test;
using namespace cluster_tasks;
using namespace std::string_literals;

namespace {

#ifdef __SANITIZE_ADDRESS__
constexpr int kBig = 8'000'000;  // every copy is slower under ASan, and the suite runs in parallel
#else
constexpr int kBig = 40'000'000;
#endif

/// The bulk ports of the workers, by worker name ("local-0"), from their log lines.
std::map<std::string, std::uint16_t> bulk_ports(const std::string& log) {
  std::map<std::string, std::uint16_t> out;
  const std::string says = " info: serving big values on 127.0.0.1:";
  for (const auto& line : read_lines(log)) {
    const auto at = line.find(says);
    const auto name = line.find("worker ");
    if (at == std::string::npos || name == std::string::npos || name > at) continue;
    out[line.substr(name + 7, at - name - 7)] =
        static_cast<std::uint16_t>(std::stoi(line.substr(at + says.size())));
  }
  return out;
}

std::string be(std::uint64_t v, int bytes) {
  std::string out(static_cast<std::size_t>(bytes), '\0');
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::string request_for(const std::string& key) { return "CSKQ" + be(key.size(), 4) + key; }

struct Answer {
  bool complete = false;  // a whole answer arrived
  bool found = false;
  std::string value;
};

/// Reads one answer from the bulk port (header, then the announced bytes). receive_some
/// may return more than it was asked for, so everything read goes into one buffer.
Answer read_answer(RawConnection& raw) {
  Answer a;
  std::string got;
  auto read_until = [&](std::size_t n) {
    while (got.size() < n) {
      const std::string more = raw.receive_some(kPatience, n - got.size());
      if (more.empty()) return false;
      got += more;
    }
    return true;
  };
  if (!read_until(13) || got.compare(0, 4, "CSKA") != 0) return a;
  a.found = got[4] == 1;
  std::uint64_t length = 0;
  for (std::size_t i = 5; i < 13; ++i) length = (length << 8) | static_cast<unsigned char>(got[i]);
  if (!read_until(13 + length) || got.size() != 13 + length) return a;
  a.value = got.substr(13);
  a.complete = true;
  return a;
}

Answer ask(std::uint16_t port, const std::string& key) {
  RawConnection raw(port);
  REQUIRE(raw.send(request_for(key)));
  return read_answer(raw);
}

/// A LocalCluster of 2 workers x 1 slot whose processes log to a file, a client of it, and
/// the workers' bulk ports (from their log lines).
struct LoggedCluster {
  ScratchDir dir;
  std::string log = dir.file("cluster.log");
  std::optional<cask::LocalCluster> cluster;
  std::optional<cask::Client> client;  // destroyed before the cluster
  std::map<std::string, std::uint16_t> ports;

  LoggedCluster() {
    {
      StderrToFile to_log(log);
      cluster.emplace(cluster_options(2, 1));
    }
    client.emplace(*cluster);
    ports = bulk_ports(log);
    REQUIRE(ports.size() == 2);
  }
};

long long ramp_sum(int n, int first) {
  const auto r = byte_ramp(n, first);
  return std::accumulate(r.begin(), r.end(), 0LL);
}

/// Two values made at once (one on each worker), then a consumer of both: one of them
/// crosses between the workers. Checks what the consumer saw.
void check_crossing(cask::Client& client, const ScratchDir& dir, int n, const std::string& tag) {
  CAPTURE(n);
  const std::string gate = dir.file("gate-" + tag), log = dir.file("starts-" + tag);
  auto a = client.submit(gated_ramp, gate, log, n, 1);
  auto b = client.submit(gated_ramp, gate, log, n, 2);
  REQUIRE(eventually([&] { return read_lines(log).size() >= 2; }));
  const std::vector<std::string> starts = read_lines(log);
  REQUIRE(starts.size() == 2);
  CHECK(starts[0] != starts[1]);  // "start <pid>": one on each worker
  open_gate(gate);
  const std::vector<long long> r = client.submit(ramp_sums, a, b).result(60s);
  REQUIRE(r.size() == 5);
  CHECK(r[1] == n);
  CHECK(r[2] == n);
  CHECK(r[3] == ramp_sum(n, 1));
  CHECK(r[4] == ramp_sum(n, 2));
}

}  // namespace

TEST_CASE("Bulk.values_of_every_size_cross_between_workers_intact" * doctest::timeout(120)) {
  LoggedCluster c;
  cask::Client& client = *c.client;
  const std::string& log = c.log;
  const int threshold = static_cast<int>(cask::detail::kBulkThreshold);
  int i = 0;
  for (const int n : {1000, threshold - 16, threshold + 1, 3'000'000, kBig})
    check_crossing(client, c.dir, n, std::to_string(i++));
  // The client's result() of a big value comes over the bulk channel as well.
  const auto big = client.submit(byte_ramp, kBig, 3).result(60s);
  CHECK(big == byte_ramp(kBig, 3));
  CHECK(!contains(read_text(log), "bulk fetch from"));  // no fetch failed on the way
}

TEST_CASE("Bulk.holder_answers_a_key_it_holds_and_not_found_once_it_is_freed" * doctest::timeout(90)) {
  LoggedCluster c;
  cask::Client& client = *c.client;
  const auto& ports = c.ports;

  constexpr int n = 1'000'000;
  std::optional<cask::Future<std::vector<unsigned char>>> f{client.submit(byte_ramp, n, 5)};
  REQUIRE(f->result(kPatience).size() == std::size_t(n));
  const std::string key = f->key();
  std::optional<std::uint16_t> holder;
  for (const auto& [name, port] : ports) {
    CAPTURE(name);
    const Answer a = ask(port, key);
    REQUIRE(a.complete);
    if (!a.found) continue;
    CHECK(!holder);  // one holder
    holder = port;
    // The value's MessagePack, exactly as stored (what a fetching worker decodes).
    const std::span<const char> bytes(a.value.data(), a.value.size());
    CHECK(cask::detail::msgpack::value_size(bytes) == a.value.size());
    CHECK(cask::detail::fast_decode<std::vector<unsigned char>>(bytes) == byte_ramp(n, 5));
  }
  REQUIRE(holder);
  const Answer unknown = ask(*holder, "no-such-key");
  CHECK(unknown.complete);
  CHECK(!unknown.found);
  CHECK(unknown.value.empty());

  f.reset();  // the last handle: the scheduler frees the value on its worker
  CHECK(eventually([&] {
    const Answer a = ask(*holder, key);
    return a.complete && !a.found;
  }));
}

TEST_CASE("Bulk.peer_sending_garbage_truncated_or_absurd_requests_is_dropped_and_worker_keeps_serving" *
          doctest::timeout(120)) {
  LoggedCluster c;
  cask::Client& client = *c.client;
  const std::string& log = c.log;
  const std::uint16_t port = c.ports.begin()->second;

  // Each abusive connection is closed by the worker, which logs a line naming the peer and
  // the reason: returns that line.
  auto abuse = [&](const std::string& what, const std::string& bytes, bool close_first) {
    INFO("sent: " << what);
    std::uint16_t peer = 0;
    {
      RawConnection raw(port);
      peer = raw.local_port();
      (void)raw.send(bytes);
      if (!close_first) CHECK(raw.receive_some(kPatience).empty());  // closed, no answer
    }
    const std::string name = "dropped 127.0.0.1:" + std::to_string(peer) + ": ";
    std::string line;
    CHECK_MESSAGE(eventually([&] {
                    for (const auto& l : read_lines(log))
                      if (contains(l, name)) line = l;
                    return !line.empty();
                  }),
                  "no log line about 127.0.0.1:" << peer << "; the log:\n" << read_text(log));
    // The worker still answers a proper request on a new connection.
    const Answer a = ask(port, "no-such-key");
    CHECK(a.complete);
    CHECK(!a.found);
    return line;
  };

  CHECK(contains(abuse("garbage", "\xde\xad\xbe\xef garbage \xc1\xff\x00\x01 more"s, false),
                 "not a bulk request (bad magic)"));
  CHECK(contains(abuse("an absurd key length", "CSKQ\xff\xff\xff\xff" + std::string(64, 'k'), false),
                 "absurd key length 4294967295"));
  CHECK(contains(abuse("a zero key length", "CSKQ"s + be(0, 4), false), "absurd key length 0"));
  CHECK(contains(abuse("a truncated header", "CSKQ\x00"s, true), "truncated request header (5 of 8 bytes"));
  CHECK(contains(abuse("a truncated key", "CSKQ"s + be(100, 4) + "short", true), "truncated key (5 of 100 bytes"));
  // A request followed by garbage: the first is answered, then the peer is dropped.
  {
    RawConnection raw(port);
    REQUIRE(raw.send(request_for("no-such-key") + "garbage!"));
    const Answer a = read_answer(raw);
    CHECK(a.complete);
    CHECK(!a.found);
    CHECK(raw.receive_some(kPatience).empty());
  }
  // Many at once.
  {
    std::vector<std::unique_ptr<RawConnection>> raws;
    for (int i = 0; i < 20; ++i) {
      raws.push_back(std::make_unique<RawConnection>(port));
      (void)raws.back()->send(std::string(static_cast<std::size_t>(i + 1), 'z'));
    }
  }
  // Values still cross between the workers, both ways round.
  check_crossing(client, c.dir, 3'000'000, "after");
}

TEST_CASE("Bulk.fetch_from_a_holder_that_stops_mid_value_fails_and_never_yields_part_of_it" *
          doctest::timeout(60)) {
  // A holder process stand-in on a real socket: it answers the request with a header
  // announcing `announced` bytes, sends `sent` of them and closes.
  using cask::detail::BulkFetched;
  auto found_then = [](std::uint64_t announced, std::size_t sent) {
    return "CSKA\x01"s + be(announced, 8) + std::string(sent, 'v');
  };
  struct Case {
    std::string name;
    std::string answer;
    std::string error;
  };
  const std::vector<Case> cases{
      {"stops in the middle", found_then(10'000'000, 1'000'000),
       "the holder stopped in the middle of k (1000000 of 10000000 bytes, then the peer closed)"},
      {"stops in the header", "CSKA\x01\x00\x00"s, "truncated answer header (7 of 13 bytes"},
      {"answers garbage", std::string(13, 'g'), "not a bulk answer"},
      {"announces an absurd length", found_then(~std::uint64_t(0), 10), "absurd value length"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    // One connection: read the request, answer, close.
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    std::thread holder([&] {
      const int fd = ::accept(listener, nullptr, nullptr);
      char request[64];
      (void)!::recv(fd, request, sizeof request, 0);
      (void)!::send(fd, c.answer.data(), c.answer.size(), MSG_NOSIGNAL);
      ::close(fd);
    });
    std::promise<std::vector<BulkFetched>> done;
    auto answer = done.get_future();
    cask::detail::BulkFetcher fetcher(1);
    fetcher.fetch({"127.0.0.1", ntohs(addr.sin_port)}, {"k"},
                  [&done](std::vector<BulkFetched> got) { done.set_value(std::move(got)); });
    REQUIRE(answer.wait_for(kPatience) == std::future_status::ready);
    const auto got = answer.get();
    holder.join();
    ::close(listener);
    REQUIRE(got.size() == 1);
    CHECK(got[0].kind == BulkFetched::Kind::failed);
    CHECK(got[0].bytes == nullptr);
    CHECK_MESSAGE(contains(got[0].error, c.error), got[0].error);
  }
  // Nobody listening at all.
  const auto nobody = cask::detail::bulk_fetch_once({"127.0.0.1", closed_port()}, "k");
  CHECK(nobody.kind == BulkFetched::Kind::failed);
  CHECK(contains(nobody.error, "cannot connect"));
}

TEST_CASE("Bulk.holder_killed_around_a_big_transfer_has_its_value_recomputed" * doctest::timeout(120)) {
  ScratchDir dir;
  cask::LocalCluster cluster{cluster_options(2, 1)};
  cask::Client client{cluster};
  const std::string gate = dir.file("gate"), log = dir.file("starts");
  auto a = client.submit(gated_ramp, gate, log, kBig, 1);
  auto b = client.submit(gated_ramp, gate, log, kBig, 2);
  REQUIRE(eventually([&] { return read_lines(log).size() == 2; }));
  open_gate(gate);
  REQUIRE(eventually([&] { return a.done() && b.done(); }, 60s));
  // The consumer fetches one value from the other worker; that worker (or the consumer's
  // own, depending on where it lands) dies while the transfer is starting or running. The
  // lost value is recomputed from lineage, the consumer rerun: the answer is still right.
  auto consumer = client.submit(ramp_sums, a, b);
  cluster.kill_worker(0);
  const std::vector<long long> r = consumer.result(90s);
  REQUIRE(r.size() == 5);
  CHECK(r[1] == kBig);
  CHECK(r[2] == kBig);
  CHECK(r[3] == ramp_sum(kBig, 1));
  CHECK(r[4] == ramp_sum(kBig, 2));
}
