// Rates (issue 10 §2, §3): parse_rate's units and refusals; the final line
// and the shortfall line, character for character; the Pacer against the
// steady clock (an absolute schedule: late packets do not move later ones,
// a long stall restarts it, several due packets are admitted at once); the
// progress line as written to stderr.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/pacer.hpp"
#include "net/send_stats.hpp"

using namespace pkt;
using Clock = std::chrono::steady_clock;

namespace {

Rate rate(const std::string& text) {
  Rate r;
  std::string why;
  INFO(text);
  REQUIRE(parse_rate(text, r, why));
  CHECK(why.empty());
  return r;
}

std::string refusal(const std::string& text) {
  Rate r;
  r.pps = 42;
  std::string why;
  INFO(text);
  CHECK_FALSE(parse_rate(text, r, why));
  CHECK(r.pps == 42);  // untouched
  CHECK_FALSE(why.empty());
  return why;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

SendStats stats(std::uint64_t packets, std::uint64_t bytes, double seconds, double asked_pps = 0, double asked_bps = 0) {
  SendStats s;
  s.packets = packets;
  s.bytes = bytes;
  s.seconds = seconds;
  s.asked_pps = asked_pps;
  s.asked_bps = asked_bps;
  return s;
}

}  // namespace

TEST_CASE("parse_rate: packets/s and bits/s, k M G in 1000s", "[rate]") {
  CHECK(rate("100kpps").pps == 100e3);
  CHECK(rate("2Mpps").pps == 2e6);
  CHECK(rate("500pps").pps == 500);
  CHECK(rate("1pps").pps == 1);
  CHECK(rate("1Gpps").pps == 1e9);
  CHECK(rate("1.5Mpps").pps == 1.5e6);
  CHECK(rate("0.5pps").pps == 0.5);
  CHECK(rate("1Gbit").bps == 1e9);
  CHECK(rate("200Mbit").bps == 200e6);
  CHECK(rate("64kbit").bps == 64e3);
  CHECK(rate("9600bit").bps == 9600);
  Rate r = rate("1Gbit");
  CHECK(r.pps == 0);
  CHECK(r.interval_ns == 0);
  CHECK(r.limited());
  CHECK(rate("10kpps").bps == 0);
  CHECK(rate("10kpps").asked_pps() == 10e3);
  Rate iv;
  iv.interval_ns = 10'000;
  CHECK(iv.asked_pps() == 100e3);
  CHECK_FALSE(Rate{}.limited());
}

TEST_CASE("parse_rate: what is not a rate, and why", "[rate]") {
  const std::string units = "pps, kpps, Mpps, Gpps (packets/s) or bit, kbit, Mbit, Gbit (bits/s)";
  CHECK(refusal("100") == "rate 100 has no unit; expected " + units + " after the number (e.g. 100pps)");
  CHECK(refusal("10kbps") == "unknown rate unit 'kbps'; expected " + units + " (bits/s are written kbit)");
  CHECK(refusal("2mpps") == "unknown rate unit 'mpps'; expected " + units + " (k is lower case, M and G upper case)");
  CHECK(refusal("1Mbits") == "unknown rate unit 'Mbits'; expected " + units);
  CHECK(refusal("0pps") == "rate 0pps is not above 0; to send as fast as possible, give no rate");
  CHECK(refusal("2Gpps") == "rate 2Gpps is more than 1 Gpps");
  for (const char* bad : {"", "pps", "kpps", ".5pps", "5.pps", "1.2.3pps", "100 kpps", "-1pps", "1e3pps", "fast"})
    refusal(bad);
}

TEST_CASE("final_line: the issue's shape, thousands separators, 1 packet, 0 s, small rates", "[rate][stats]") {
  // The rate is between the first packet and the last: (N - 1) / seconds.
  CHECK(final_line(stats(1'000'000, 74'800'000, 1.23)) ==
        "sent 1,000,000 packets in 1.23 s (813,007 packets/s, 487 Mbit/s)");
  CHECK(final_line(stats(10'000, 10'000 * 29, 0.9999)) == "sent 10,000 packets in 1.00 s (10,000 packets/s, 2.32 Mbit/s)");
  CHECK(final_line(stats(0, 0, 0)) == "sent 0 packets");
  CHECK(final_line(stats(1, 75, 0.000004)) == "sent 1 packet");
  CHECK(final_line(stats(5, 375, 0)) == "sent 5 packets");  // a dry run: no time, no rate
  CHECK(final_line(stats(10, 1000, 9.0)) == "sent 10 packets in 9.00 s (1.00 packets/s, 800 bit/s)");
  CHECK(final_line(stats(3, 300, 4.0)) == "sent 3 packets in 4.00 s (0.50 packets/s, 400 bit/s)");
  CHECK(final_line(stats(101, 101 * 1250, 0.00999)) == "sent 101 packets in 9.99 ms (10,010 packets/s, 100 Mbit/s)");
  CHECK(final_line(stats(2, 150, 0.000012)) == "sent 2 packets in 12 us (83,333 packets/s, 50.0 Mbit/s)");
  CHECK(final_line(stats(21, 21 * 100, 2.0)) == "sent 21 packets in 2.00 s (10.0 packets/s, 8.00 kbit/s)");
  CHECK(final_line(stats(2'000'001, 2'000'001ULL * 1500, 1.0)) ==
        "sent 2,000,001 packets in 1.00 s (2,000,000 packets/s, 24.0 Gbit/s)");
}

TEST_CASE("shortfall_line: only when more than 2% below the rate asked", "[rate][stats]") {
  CHECK(shortfall_line(stats(1'000'000, 75'000'000, 1.23, 2e6)) == "asked 2,000,000 packets/s, reached 813,007");
  CHECK(shortfall_line(stats(10'001, 0, 1.0, 10e3)) == "");         // on time
  CHECK(shortfall_line(stats(10'001, 0, 1.015, 10e3)) == "");       // 1.5% late: within 2%
  CHECK(shortfall_line(stats(10'001, 0, 1.03, 10e3)) == "asked 10,000 packets/s, reached 9,709");
  CHECK(shortfall_line(stats(10'001, 0, 0.5, 10e3)) == "");         // faster is no shortfall
  CHECK(shortfall_line(stats(1'000'000, 0, 5.0)) == "");            // no rate asked
  CHECK(shortfall_line(stats(1, 0, 1.0, 1e6)) == "");               // one packet has no rate
  CHECK(shortfall_line(stats(3, 0, 25e-6, 100e3)) == "");           // 5 us late on a 20 us send: not a shortfall
  CHECK(shortfall_line(stats(101, 0, 0.002, 100e3)) == "asked 100,000 packets/s, reached 50,000");
  CHECK(shortfall_line(stats(3, 0, 4.0, 0.5)) == "");            // 3 packets at 0.5/s: 4 s
  CHECK(shortfall_line(stats(3, 0, 10.0, 0.5)) == "asked 0.50 packets/s, reached 0.20");
  // Bits/s asked: the shortfall in bits/s.
  CHECK(shortfall_line(stats(100'001, 100'001ULL * 1250, 1.0, 0, 1e9)) == "");
  CHECK(shortfall_line(stats(100'001, 100'001ULL * 1250, 2.0, 0, 1e9)) == "asked 1.00 Gbit/s, reached 500 Mbit/s");
}

TEST_CASE("SendStats += joins the parts of one send run side by side", "[stats]") {
  SendStats a = stats(600, 600 * 64, 1.0, 1000);
  SendStats b = stats(400, 400 * 64, 1.2, 1000);
  b.interrupted = true;
  a += b;
  CHECK(a.packets == 1000);
  CHECK(a.bytes == 64'000);
  CHECK(a.seconds == 1.2);
  CHECK(a.asked_pps == 1000);
  CHECK(a.interrupted);
}

// The admission times of `n` packets of `len` bytes, in seconds after the
// first admit was called. The schedule starts inside that call, so no
// packet of a correct pacer is early by this clock; a t0 read after the
// first admit returned (it was) made every packet look early by however
// long the test was preempted, or slowed by ASan, in between.
std::vector<double> admissions(Pacer& p, int n, std::size_t len, std::chrono::microseconds work = {}) {
  std::vector<double> at;
  const auto t0 = Clock::now();
  while (static_cast<int>(at.size()) < n) {
    std::size_t k = p.admit(&len, 1);
    REQUIRE(k == 1);
    at.push_back(seconds_since(t0));
    if (work.count()) std::this_thread::sleep_for(work);  // a slow send, without taking the CPU
  }
  return at;
}

// A timing check on a shared machine: a process that spins more than its
// share of a busy CPU is preempted for a few ms now and then, and when that
// falls on the last packet the run ends late (the schedule then catches up,
// but there is nothing left to send). So the bound must hold in one of five
// runs; a pacer that is wrong is wrong every time. The figures are printed
// on failure.
template <typename Run>
void within(double expected, double bound, Run run) {
  std::string tries;
  for (int attempt = 0; attempt < 5; ++attempt) {
    double s = run();
    tries += std::to_string(s) + " s; ";
    if (s >= expected * (1 - bound) && s <= expected * (1 + bound)) {
      SUCCEED(tries);
      return;
    }
  }
  FAIL_CHECK("expected " << expected << " s within " << bound * 100 << "%, took " << tries);
}

TEST_CASE("Pacer: 10,000 admissions at 100 kpps take 0.1 s (within 2%)", "[rate][pacer][timing]") {
  within(0.09999, 0.02, [] {
    Pacer p(rate("100kpps"));
    REQUIRE(p.limited());
    std::vector<double> at = admissions(p, 10'000, 64);
    // Never early: packet k leaves at k * 10 us or later.
    for (std::size_t k = 0; k < at.size(); ++k) REQUIRE(at[k] >= static_cast<double>(k) * 10e-6 - 1e-6);
    return at.back();
  });
}

TEST_CASE("Pacer: an interval schedule does not drift when each send is late", "[rate][pacer][timing]") {
  Rate r;
  r.interval_ns = 1'000'000;  // 1 ms
  // Each send takes 0.4 ms (and more: a sleep overshoots): a schedule that
  // restarts from the send (drift) would end at 199 * 1.4 ms = 0.279 s or later.
  within(0.199, 0.02, [&] {
    Pacer p(r);
    std::vector<double> at = admissions(p, 200, 64, std::chrono::microseconds(400));
    std::vector<double> late;
    for (std::size_t k = 0; k < at.size(); ++k) late.push_back(at[k] - static_cast<double>(k) * 1e-3);
    std::sort(late.begin(), late.end());
    CHECK(late.front() > -1e-6);  // never early
    CHECK(late[late.size() / 2] < 10e-3);  // drifting, the median packet would be 50 ms late
    return at.back();
  });
}

TEST_CASE("Pacer: bits/s count each packet's bytes", "[rate][pacer][timing]") {
  // 1250 bytes = 10,000 bits = 100 us at 100 Mbit/s; 250 bytes = 20 us.
  std::vector<std::size_t> lens;
  for (int i = 0; i < 1000; ++i) lens.push_back(i % 2 ? 250 : 1250);
  const double expected = 500 * 100e-6 + 499 * 20e-6;  // the bits of every packet but the last
  within(expected, 0.02, [&] {
    Pacer p(rate("100Mbit"));
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < lens.size();) {
      std::size_t k = p.admit(&lens[i], 1);
      REQUIRE(k == 1);
      if (i == 0) t0 = Clock::now();
      i += k;
    }
    return seconds_since(t0);
  });
}

TEST_CASE("Pacer: several due packets at once, unlimited admits all, a share of the rate", "[rate][pacer]") {
  std::vector<std::size_t> lens(64, 100);
  Pacer none(Rate{});
  CHECK_FALSE(none.limited());
  CHECK(none.admit(lens.data(), 64) == 64);

  Pacer fast(rate("1Mpps"));
  CHECK(fast.admit(lens.data(), 64) == 1);  // the first starts the schedule
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK(fast.admit(lens.data(), 64) == 64);  // 2 ms late: 2000 packets are due, 64 asked

  // Half of 1 kpps (a thread's share of two): 2 ms apart.
  Pacer half(rate("1kpps"), 0.5);
  const std::size_t len = 100;
  REQUIRE(half.admit(&len, 1) == 1);
  auto t0 = Clock::now();
  for (int i = 0; i < 10; ++i) REQUIRE(half.admit(&len, 1) == 1);
  double s = seconds_since(t0);
  INFO(s);
  CHECK(s > 0.020 * 0.95);
  CHECK(s < 0.020 * 1.05);
}

TEST_CASE("Pacer: a stall longer than a second restarts the schedule instead of bursting", "[rate][pacer][timing]") {
  Pacer p(rate("1kpps"));
  std::vector<std::size_t> lens(10, 100);
  REQUIRE(p.admit(lens.data(), 1) == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  CHECK(p.admit(lens.data(), 10) == 1);  // not the 1,200 packets the old schedule owes
  auto t0 = Clock::now();
  CHECK(p.admit(lens.data(), 10) < 10);  // the next 1 ms after it (more if preempted meanwhile: not 10)
  CHECK(seconds_since(t0) > 0.0005);
}

namespace {

// Runs f with stderr (fd 2) sent to a file; returns what was written.
template <typename F>
std::string stderr_of(F f) {
  std::fflush(stderr);
  char path[] = "/tmp/pkt_progress_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  int saved = dup(2);
  dup2(fd, 2);
  f();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string out;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  unlink(path);
  return out;
}

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("Progress: redrawn at most 4 times a second, erased at the end, nothing when disabled", "[stats][progress]") {
  std::string out = stderr_of([] {
    Progress p(true, 1000);
    auto t0 = Clock::now();
    while (seconds_since(t0) < 1.2) {
      p.add(10, 640);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    p.finish();
  });
  INFO(out);
  // Drawn at 0.5, 0.75 and 1.0 s (and perhaps 1.25 s, if the finish came late).
  CHECK(count_of(out, "\rsent ") >= 3);
  CHECK(count_of(out, "\rsent ") <= 4);
  CHECK(out.rfind("\rsent ", 0) == 0);  // nothing before the first draw
  CHECK(out.find(" of 1,000 (") != std::string::npos);
  CHECK(out.find(" packets/s  0:0") != std::string::npos);
  CHECK(out.find("  ETA ") != std::string::npos);
  CHECK(out.size() >= 4);
  CHECK(out.substr(out.size() - 4) == "\r\033[K");  // erased: the final line starts on a clean line

  // A short send shows nothing; a disabled one nothing at all.
  CHECK(stderr_of([] {
          Progress p(true, 10);
          p.add(10, 640);
        }).empty());
  CHECK(stderr_of([] {
          Progress p(false, 1000);
          p.add(10, 640);
          std::this_thread::sleep_for(std::chrono::milliseconds(800));
        }).empty());
  // The total unknown (0): no share, no ETA.
  std::string open = stderr_of([] {
    Progress p(true, 0);
    p.add(5, 320);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  });
  INFO(open);
  CHECK(open.rfind("\rsent 5 packets  ", 0) == 0);
  CHECK(open.find("ETA") == std::string::npos);
}
