// Pacing a send to an asked rate without drift: packets/s, bits/s (counting
// each packet's bytes as sent) or a fixed interval. The schedule is absolute
// (packet k is due at start + k / rate), so a late packet does not move the
// ones after it; after a stall longer than a second the schedule restarts
// instead of bursting. Short intervals are paced by admitting several
// packets at once and by spinning the last microseconds, not a nanosleep
// per packet. (Seam shared by the sender loop; see docs/sending.md.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pkt {

struct Rate {
  double pps = 0;                // packets per second (rate 100kpps)
  double bps = 0;                // bits per second (rate 1Gbit)
  std::uint64_t interval_ns = 0; // interval 10us
  bool limited() const { return pps > 0 || bps > 0 || interval_ns > 0; }
  double asked_pps() const { return pps > 0 ? pps : interval_ns ? 1e9 / static_cast<double>(interval_ns) : 0; }
};

class Pacer {
 public:
  // `share`: this thread's share of the rate (1 / threads).
  explicit Pacer(const Rate& r, double share = 1.0);
  bool limited() const { return limited_; }
  // Waits until the first of the next n packets (lens[i] bytes each) is
  // due, and returns how many of them are due now (1..n); n when the rate
  // is unlimited. Returns 0 when interrupted while waiting.
  std::size_t admit(const std::size_t* lens, std::size_t n);

 private:
  bool limited_ = false;
  double ns_per_packet_ = 0;  // packets/s or interval
  double ns_per_bit_ = 0;     // bits/s
  std::int64_t start_ns_ = -1;
  double due_ns_ = 0;         // time, since start, at which the next packet is due
};

// Parses a rate as written after `rate`: "100kpps", "2Mpps", "500pps",
// "1Gbit", "200Mbit", "64kbit" (k, M, G are powers of 1000). False when it
// is not one, with `why` saying what is expected.
bool parse_rate(const std::string& text, Rate& out, std::string& why);

}  // namespace pkt
