// Live capture (net/capture.hpp) and its helpers. Captures listen on lo and
// the traffic is UDP datagrams this test sends to 127.0.0.1; the cases
// tagged [root] need CAP_NET_RAW and are skipped without it (exit 77: ctest shows "Skipped").
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

#include "net/capture.hpp"
#include "net/send.hpp"
#include "skip.hpp"
#include "run/sniffer.hpp"

using namespace pkt;

namespace {


// Sends n datagrams "cap<k>" from an ephemeral port to 127.0.0.1:port.
void send_udp(int port, int n) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int k = 0; k < n; ++k) {
    std::string msg = "cap" + std::to_string(k);
    sendto(s, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  close(s);
}

std::string message_of(const CaptureConfig& cfg) {
  try {
    Capture c(cfg);
  } catch (const CaptureError& e) {
    return e.what();
  }
  return "";
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

constexpr int kPort = 47123;

}  // namespace

TEST_CASE("durations: units, plain seconds, and what is refused") {
  CHECK(parse_duration("2s") == 2'000'000'000ULL);
  CHECK(parse_duration("500ms") == 500'000'000ULL);
  CHECK(parse_duration("1500us") == 1'500'000ULL);
  CHECK(parse_duration("10ns") == 10ULL);
  CHECK(parse_duration("1.5") == 1'500'000'000ULL);
  CHECK(parse_duration("0") == 0ULL);
  for (const char* bad : {"", "soon", "2m", "-1s", "1e30", "s", "nan"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH(parse_duration(bad), Catch::Contains("is not a duration"));
  }
}

TEST_CASE("the end-of-run report: captured always, dropped only when not zero") {
  SniffResult r;
  r.captured = 1;
  CHECK(sniff_report(r) == "1 packet captured\n");
  r.captured = 7;
  r.stats.dropped = 3;
  CHECK(sniff_report(r) == "7 packets captured\n3 packets dropped by kernel\n");
}

TEST_CASE("capture errors name the interface, list the others, quote the filter", "[root]") {
  NEED_ROOT();
  CaptureConfig cfg;
  cfg.iface = "nosuch0";
  std::string m = message_of(cfg);
  CHECK_THAT(m, Catch::StartsWith("cannot capture on nosuch0: no such interface; interfaces: "));
  CHECK_THAT(m, Catch::Contains("lo"));
  cfg.iface = "lo";
  cfg.filter = "udp port nonsense";
  CHECK(message_of(cfg) == "bad filter 'udp port nonsense': unknown port 'nonsense'");
  cfg.filter = "tcp and";
  CHECK_THAT(message_of(cfg), Catch::StartsWith("bad filter 'tcp and': ") && Catch::Contains("syntax error"));
  cfg.iface = "";
  CHECK_THAT(message_of(cfg), Catch::StartsWith("no interface given; interfaces: "));
}

TEST_CASE("a capture on lo delivers what was sent, with its time, fn can stop it", "[root]") {
  NEED_ROOT();
  for (bool immediate : {true, false}) {
    CAPTURE(immediate);
    CaptureConfig cfg;
    cfg.iface = "lo";
    cfg.filter = "udp dst port " + std::to_string(kPort);
    cfg.immediate = immediate;
    Capture cap(cfg);
    CHECK(cap.linktype() == 1);
    CHECK(cap.iface() == "lo");
    // Nothing yet: no wait returns at once.
    auto t0 = std::chrono::steady_clock::now();
    CHECK(cap.dispatch(0, [](const CapturedPacket&) { return true; }) == 0);
    CHECK(since(t0) < 0.05);
    send_udp(kPort, 3);
    // fn returning false stops after the first.
    std::string first;
    std::int64_t sec = 0;
    std::size_t got = 0;
    t0 = std::chrono::steady_clock::now();
    while (got == 0 && since(t0) < 5)
      got = cap.dispatch(1'000'000'000, [&](const CapturedPacket& p) {
        first.assign(reinterpret_cast<const char*>(p.data) + p.caplen - 4, 4);
        sec = p.sec;
        CHECK(p.caplen == p.len);
        CHECK(p.caplen == 14 + 20 + 8 + 4);
        CHECK(p.nsec < 1'000'000'000u);
        return false;
      });
    CHECK(got == 1);
    CHECK(first == "cap0");
    CHECK(std::abs(static_cast<long long>(sec) - static_cast<long long>(std::time(nullptr))) < 10);
    // The other two are still there.
    std::size_t rest = 0;
    t0 = std::chrono::steady_clock::now();
    while (rest < 2 && since(t0) < 5) rest += cap.dispatch(200'000'000, [](const CapturedPacket&) { return true; });
    CHECK(rest == 2);
    CHECK(cap.stats().received >= 3);
    CHECK(cap.stats().dropped == 0);
  }
}

TEST_CASE("a wait ends at its time, or at once on Ctrl-C", "[root]") {
  NEED_ROOT();
  CaptureConfig cfg;
  cfg.iface = "lo";
  cfg.filter = "udp dst port 1";
  Capture cap(cfg);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(cap.dispatch(300'000'000, [](const CapturedPacket&) { return true; }) == 0);
  CHECK(since(t0) >= 0.29);
  CHECK(since(t0) < 1.0);
  install_interrupt_handler();
  raise(SIGINT);
  t0 = std::chrono::steady_clock::now();
  CHECK(cap.dispatch(5'000'000'000ULL, [](const CapturedPacket&) { return true; }) == 0);
  CHECK(since(t0) < 0.2);
  clear_interrupt();
}

TEST_CASE("any is Linux cooked v2", "[root]") {
  NEED_ROOT();
  CaptureConfig cfg;
  cfg.iface = "any";
  Capture cap(cfg);
  CHECK(cap.linktype() == 276);
}
