// The figures of a send as the user reads them: counts with thousands
// separators, rates with three significant digits where they are small, and
// the progress line a terminal shows while a long send runs.
#include "send_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <utility>

namespace pkt {

namespace {

// 1234567 -> "1,234,567"
std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// A rate in packets/s: "812,000", "12.5", "0.50".
std::string packet_rate(double pps) {
  if (pps >= 99.95) return grouped(static_cast<std::uint64_t>(std::llround(pps)));
  if (pps >= 9.995) return fmt::format("{:.1f}", pps);
  return fmt::format("{:.2f}", pps);
}

// Three significant digits: "487", "48.7", "4.87".
std::string three_digits(double v) {
  if (v >= 99.95) return fmt::format("{:.0f}", v);
  if (v >= 9.995) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

// A rate in bits/s: "487 Mbit/s", "1.20 Gbit/s", "600 bit/s".
std::string bit_rate(double bps) {
  if (bps >= 999.5e6) return three_digits(bps / 1e9) + " Gbit/s";
  if (bps >= 999.5e3) return three_digits(bps / 1e6) + " Mbit/s";
  if (bps >= 999.5) return three_digits(bps / 1e3) + " kbit/s";
  return three_digits(bps) + " bit/s";
}

// A duration: "1.23 s", "100 ms", "4.20 ms", "12 us".
std::string duration(double s) {
  if (s >= 0.9995) return fmt::format("{:.2f} s", s);
  if (s >= 0.9995e-3) return three_digits(s * 1e3) + " ms";
  return fmt::format("{:.0f} us", s * 1e6);
}

// A clock time for the progress line: "0:07", "12:30", "1:02:03".
std::string clock_time(double s) {
  auto t = static_cast<std::uint64_t>(std::max(0.0, s) + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

std::string packets_word(std::uint64_t n) { return grouped(n) + (n == 1 ? " packet" : " packets"); }

}  // namespace

SendStats& SendStats::operator+=(const SendStats& o) {
  packets += o.packets;
  bytes += o.bytes;
  seconds = std::max(seconds, o.seconds);
  asked_pps = std::max(asked_pps, o.asked_pps);
  asked_bps = std::max(asked_bps, o.asked_bps);
  interrupted = interrupted || o.interrupted;
  return *this;
}

double SendStats::pps() const {
  if (packets < 2 || !(seconds > 0)) return 0;
  return static_cast<double>(packets - 1) / seconds;
}

double SendStats::bps() const {
  if (packets < 2) return 0;
  return pps() * 8.0 * static_cast<double>(bytes) / static_cast<double>(packets);
}

std::string final_line(const SendStats& s) {
  // One packet has no rate, and a time of 0 (a dry run waits for nothing)
  // gives none: the count alone.
  if (s.packets < 2 || !(s.seconds > 0)) return "sent " + packets_word(s.packets);
  return fmt::format("sent {} in {} ({} packets/s, {})", packets_word(s.packets), duration(s.seconds),
                     packet_rate(s.pps()), bit_rate(s.bps()));
}

std::string shortfall_line(const SendStats& s) {
  if (s.packets < 2 || !(s.seconds > 0)) return "";
  const double gaps = static_cast<double>(s.packets - 1);
  // A short send is not blamed for the few microseconds its last packet
  // takes to leave: the shortfall has to be 2% and 200 us.
  auto missed = [&](double expected_seconds) {
    return s.seconds > expected_seconds / 0.98 && s.seconds - expected_seconds > 200e-6;
  };
  if (s.asked_pps > 0) {
    if (!missed(gaps / s.asked_pps)) return "";
    return fmt::format("asked {} packets/s, reached {}", packet_rate(s.asked_pps), packet_rate(s.pps()));
  }
  if (s.asked_bps > 0) {
    const double bits = gaps * 8.0 * static_cast<double>(s.bytes) / static_cast<double>(s.packets);
    if (!missed(bits / s.asked_bps)) return "";
    return fmt::format("asked {}, reached {}", bit_rate(s.asked_bps), bit_rate(s.bps()));
  }
  return "";
}

Progress::Progress(bool enabled, std::uint64_t total) : total_(total), enabled_(enabled) {
  if (enabled_) thread_ = std::thread([this] { run(); });
}

Progress::~Progress() { finish(); }

void Progress::finish() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(m_);
    done_.store(true);
  }
  cv_.notify_all();
  thread_.join();
}

// Waits half a second (a short send shows nothing), then redraws the line
// every quarter of a second until finish(); the rate is over the last second.
void Progress::run() {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::deque<std::pair<Clock::time_point, std::uint64_t>> window{{start, 0}};
  bool drawn = false;
  auto wait = std::chrono::milliseconds(500);
  std::unique_lock<std::mutex> lock(m_);
  while (!cv_.wait_for(lock, wait, [this] { return done_.load(); })) {
    wait = std::chrono::milliseconds(250);
    const auto now = Clock::now();
    const std::uint64_t sent = packets_.load(std::memory_order_relaxed);
    while (window.size() > 1 && now - window[1].first >= std::chrono::seconds(1)) window.pop_front();
    const double span = std::chrono::duration<double>(now - window.front().first).count();
    const double rate = span > 0 ? static_cast<double>(sent - window.front().second) / span : 0;
    window.emplace_back(now, sent);
    const double elapsed = std::chrono::duration<double>(now - start).count();
    std::string line = "sent " + grouped(sent);
    if (total_) {
      line += fmt::format(" of {} ({}%)", grouped(total_), sent >= total_ ? 100 : sent * 100 / total_);
    } else {
      line += sent == 1 ? " packet" : " packets";
    }
    line += fmt::format("  {} packets/s  {}", packet_rate(rate), clock_time(elapsed));
    if (total_) line += "  ETA " + (rate > 0 ? clock_time(static_cast<double>(total_ - std::min(sent, total_)) / rate) : "-");
    line = "\r" + line + "\033[K";
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
    drawn = true;
  }
  if (drawn) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

}  // namespace pkt
