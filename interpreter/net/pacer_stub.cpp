// PLACEHOLDER (branch send-engine): the integrator deletes this file when
// helper "rate"'s pacer.cpp lands. Only enough of the pacer.hpp seam for the
// sender loop to link and to keep `interval` working: an absolute schedule,
// one packet admitted at a time, slept for with sleep_interruptible.
#include <time.h>

#include "pacer.hpp"
#include "send.hpp"

namespace pkt {

namespace {
std::int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}
}  // namespace

Pacer::Pacer(const Rate& r, double share) {
  limited_ = r.limited();
  if (r.pps > 0) ns_per_packet_ = 1e9 / (r.pps * share);
  else if (r.interval_ns) ns_per_packet_ = static_cast<double>(r.interval_ns) / share;
  if (r.bps > 0) ns_per_bit_ = 1e9 / (r.bps * share);
}

std::size_t Pacer::admit(const std::size_t* lens, std::size_t n) {
  if (!limited_ || n == 0) return n;
  const std::int64_t now = now_ns();
  if (start_ns_ < 0) start_ns_ = now;
  const std::int64_t due = start_ns_ + static_cast<std::int64_t>(due_ns_);
  if (due > now) {
    if (!sleep_interruptible(static_cast<std::uint64_t>(due - now))) return 0;
  } else if (now - due > 1'000'000'000) {
    start_ns_ = now;  // a stall: restart the schedule instead of bursting
    due_ns_ = 0;
  }
  due_ns_ += ns_per_packet_ + ns_per_bit_ * 8.0 * static_cast<double>(lens[0]);
  return 1;
}

bool parse_rate(const std::string& text, Rate& out, std::string& why) {
  why = "rate is not implemented in this branch (placeholder)";
  return false;
}

}  // namespace pkt
