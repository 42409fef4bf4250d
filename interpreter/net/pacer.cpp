// Pacer: an absolute schedule (packet k is due at start + the cost of the
// packets before it), so lateness never accumulates into drift. Waits sleep
// until shortly before the due time and spin the rest: a nanosleep overshoots
// by the timer slack (50 us by default, which the sending thread lowers to
// 1 us) and the wake-up latency, more than a whole interval at 20 kpps and up.
#include "pacer.hpp"

#include <sys/prctl.h>
#include <time.h>

#include <cctype>
#include <cmath>

#include "send.hpp"  // interrupted(), sleep_interruptible()

namespace pkt {

namespace {

// Spin (instead of sleeping) the last this-many nanoseconds before a due
// time: the wake-up latency of a loaded machine, with a 1 us timer slack.
constexpr double kSpinNs = 60'000;
constexpr unsigned long kTimerSlackNs = 1'000;
// Behind the schedule by more than this: restart it rather than burst.
constexpr double kStallNs = 1e9;

std::int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

Pacer::Pacer(const Rate& r, double share) {
  if (!(share > 0)) share = 1;
  if (r.pps > 0) ns_per_packet_ = 1e9 / (r.pps * share);
  else if (r.interval_ns > 0) ns_per_packet_ = static_cast<double>(r.interval_ns) / share;
  else if (r.bps > 0) ns_per_bit_ = 1e9 / (r.bps * share);
  limited_ = ns_per_packet_ > 0 || ns_per_bit_ > 0;
}

std::size_t Pacer::admit(const std::size_t* lens, std::size_t n) {
  if (!limited_ || n == 0) return n;
  // The sending thread's sleeps end within 1 us of when they are asked to
  // (not the default 50 us): less to spin. It stays so for the thread.
  if (start_ns_ < 0) prctl(PR_SET_TIMERSLACK, kTimerSlackNs, 0, 0, 0);
  std::int64_t now = now_ns();
  if (start_ns_ < 0) {  // the first packet leaves at once and starts the schedule
    start_ns_ = now;
    due_ns_ = 0;
  }
  double t = static_cast<double>(now - start_ns_);
  if (due_ns_ > t) {
    double wait = due_ns_ - t;
    if (wait > kSpinNs && !sleep_interruptible(static_cast<std::uint64_t>(wait - kSpinNs))) return 0;
    std::uint32_t spins = 0;
    do {
      if ((++spins & 0x3ff) == 0 && interrupted()) return 0;
      now = now_ns();
      t = static_cast<double>(now - start_ns_);
    } while (t < due_ns_);
  } else if (t - due_ns_ > kStallNs) {
    start_ns_ = now;  // a long stall: the schedule starts again from here
    due_ns_ = 0;
    t = 0;
  }
  // Every packet already due leaves now: after an overshot sleep, or when
  // one packet's interval is shorter than a send, the schedule catches up.
  std::size_t k = 0;
  while (k < n && due_ns_ <= t) {
    due_ns_ += ns_per_packet_ > 0 ? ns_per_packet_ : static_cast<double>(lens[k]) * 8.0 * ns_per_bit_;
    ++k;
  }
  return k;
}

bool parse_rate(const std::string& text, Rate& out, std::string& why) {
  static const char* const kUnits = "pps, kpps, Mpps, Gpps (packets/s) or bit, kbit, Mbit, Gbit (bits/s)";
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  const std::string num = text.substr(0, i), unit = text.substr(i);
  if (num.empty() || num.front() == '.' || num.back() == '.' || num.find('.') != num.rfind('.')) {
    why = "expected a rate such as 100kpps or 1Gbit: a number, then one of " + std::string(kUnits);
    return false;
  }
  double value = std::strtod(num.c_str(), nullptr);
  double scale = 1;
  std::string base = unit;
  if (!base.empty() && (base[0] == 'k' || base[0] == 'M' || base[0] == 'G') && base.size() > 1) {
    scale = base[0] == 'k' ? 1e3 : base[0] == 'M' ? 1e6 : 1e9;
    base = base.substr(1);
  }
  if (unit.empty()) {
    why = "rate " + text + " has no unit; expected " + kUnits + " after the number (e.g. " + text + "pps)";
    return false;
  }
  if (base != "pps" && base != "bit") {
    why = "unknown rate unit '" + unit + "'; expected " + kUnits;
    if (base == "bps" || base == "bit/s" || base == "b")
      why += " (bits/s are written " + std::string(scale == 1e3 ? "k" : scale == 1e6 ? "M" : scale == 1e9 ? "G" : "") +
             "bit)";
    else if (unit == "mpps" || unit == "mbit" || unit == "gpps" || unit == "gbit" || unit == "Kpps" || unit == "Kbit")
      why += " (k is lower case, M and G upper case)";
    return false;
  }
  value *= scale;
  if (!(value > 0) || !std::isfinite(value)) {
    why = "rate " + text + " is not above 0; to send as fast as possible, give no rate";
    return false;
  }
  if (base == "pps" && value > 1e9) {
    why = "rate " + text + " is more than 1 Gpps";
    return false;
  }
  if (base == "bit" && value > 1e12) {
    why = "rate " + text + " is more than 1000 Gbit";
    return false;
  }
  out = Rate{};
  (base == "pps" ? out.pps : out.bps) = value;
  return true;
}

}  // namespace pkt
