// Sending built packets: the path is chosen by the packet's link type
// (LINKTYPE_RAW: a raw IPv4 socket with IP_HDRINCL or a raw IPv6 socket, by
// the version nibble; EN10MB: an AF_PACKET socket on an interface). Every
// send is checked against the scope first, can be teed to a pcap, and with
// dry_run is only written there.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "pacer.hpp"
#include "packet_set.hpp"
#include "scope.hpp"
#include "send_stats.hpp"

namespace pkt {

class PcapWriter;

// A failure to send (no privilege, out of scope, no such interface, ...).
// The message is complete and says how to fix it where there is a fix.
struct SendError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SendConfig {
  bool dry_run = false;     // write to the pcap only; nothing leaves
  std::string pcap_path;    // --pcap FILE ("" = none)
  Scope scope;              // --scope / PKT_SCOPE (empty = unrestricted)
  // Non-fatal notes (e.g. "the kernel rewrites the IPv4 checksum of raw
  // packets"), each given once per Sender. Unset: printed to stderr.
  std::function<void(const std::string&)> warn;
  unsigned threads = 1;     // --threads N: the default for sends that name none
  bool progress = false;    // show the progress line (stderr is a terminal, no --quiet); the Sender owns it
};

struct SendOptions {
  std::uint64_t count = 1;        // times to send the whole set
  std::uint64_t interval_ns = 0;  // pause between packets
  std::string iface;              // `on IFACE`: required for link-layer frames
  bool check_only = false;        // check every packet (scope, sizes, interface) and send nothing
  double rate_pps = 0;            // `rate 100kpps`: packets per second (0: none)
  double rate_bps = 0;            // `rate 1Gbit`: bits per second, counting each packet's bytes as sent
  unsigned threads = 0;           // `threads N` (0: SendConfig::threads)
  bool bypass = false;            // `bypass`: PACKET_QDISC_BYPASS on the AF_PACKET socket
};

class Sender {
 public:
  Sender(SendConfig cfg, const Registry& reg);
  ~Sender();

  // Sends every packet of the set, `count` times, in generator order. Checks
  // the scope of every packet before the first one leaves. Stops early when
  // interrupted(). Returns how many packets actually left (or were written,
  // with dry_run). Throws SendError.
  std::uint64_t send(const PacketSet& set, const SendOptions& opts);
  // The same with the pcap link type given (101 raw IP, 1 Ethernet) instead
  // of looked up from the packet's first layer.
  std::uint64_t send_as(const PacketSet& set, const SendOptions& opts, int link_type);
  std::uint64_t total_sent() const { return total_; }
  // What the last send did (its packets, bytes, time and the rate asked),
  // also when it failed or was interrupted half-way.
  const SendStats& last_stats() const { return last_; }
  // `threads N` accepts 1..kMaxThreads.
  static constexpr unsigned kMaxThreads = 256;
  const SendConfig& config() const { return cfg_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SendConfig cfg_;
  const Registry& reg_;
  std::uint64_t total_ = 0;
  SendStats last_;
};

// Ctrl-C: the handler only sets a flag; loops (sends, sleeps, the Lua hook)
// poll it and stop cleanly, throwing this where they cannot return early.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};
void install_interrupt_handler();
bool interrupted();
void clear_interrupt();
// The signal that interrupted (SIGINT or SIGTERM), 0 if none: exit 128 + it.
int interrupt_signal();
// Sleeps up to ns nanoseconds, waking early on interrupt. False if interrupted.
bool sleep_interruptible(std::uint64_t ns);

}  // namespace pkt
