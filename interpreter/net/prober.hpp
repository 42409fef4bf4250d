// Send and receive (`sr`, `sr1`): sends probes and matches what comes back
// to them by the layers' `reply` rules (graph/reply.hpp). The capture opens
// before the first probe leaves, narrowed to the hosts the probes name; the
// probes themselves, seen on the wire, give the kernel's send timestamps.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "packet_set.hpp"
#include "send.hpp"

namespace pkt {

struct SrOptions {
  std::uint64_t timeout_ns = 2'000'000'000;  // wait after the last probe of a round
  unsigned retry = 0;                        // rounds again for the probes left unanswered
  std::uint64_t interval_ns = 0;             // between probes
  std::string iface;                         // `on IFACE`: send (frames) and capture there; else capture on "any"
  bool stop_when_answered = true;            // stop waiting once every probe has its answer
};

struct SrProbe {
  Packet sent;                 // as built
  bool answered = false;
  Packet reply;                // read back by the declarations
  double rtt = 0;              // seconds
  std::int64_t sent_sec = 0;   // when it left (the kernel's timestamp when seen on the wire)
  std::uint32_t sent_nsec = 0;
  std::int64_t reply_sec = 0;  // the kernel's timestamp of the reply
  std::uint32_t reply_nsec = 0;
};

struct SrResult {
  std::vector<SrProbe> probes;  // in sending order
  std::uint64_t answered = 0;
  std::uint64_t captured = 0;   // packets the capture delivered
  std::uint64_t dropped = 0;    // by the kernel (capture buffer full)
  std::string filter;           // the capture filter used
  std::string iface;            // where it captured
  bool dry_run = false;         // nothing was sent, nothing awaited
};

// Sends every packet of the sets through `sender` (scope, pcap tee, dry run
// apply) and collects the answers. Throws SendError, CaptureError, or
// Interrupted when Ctrl-C stopped it. A dry run sends and waits for nothing.
SrResult send_receive(Sender& sender, const Registry& reg, const std::vector<std::shared_ptr<PacketSet>>& sets,
                      const SrOptions& opts);

// The line sr prints per probe: `sent  ->  reply  rtt 0.042 ms` or `sent  ->  unanswered`.
std::string sr_line(const SrProbe& p);
// The same as one JSON object (docs/receiving.md#sr-as-json), no newline:
// {"n": N, "sent": PACKET, "reply": PACKET or null, "rtt": seconds or null},
// each PACKET the object of docs/reading.md#json with its time and length.
std::string sr_json(const SrProbe& p, std::uint64_t n, const Registry& reg);

// Seconds on the monotonic clock, with nanosecond resolution (Lua's now()).
double monotonic_seconds();

}  // namespace pkt
