// Sniffing: live capture (net/capture.hpp), each packet dissected by the
// declarations into one reused Packet. `pkt sniff`, the DSL's sniff
// statement and sniff(...) expression all run through Sniffer::run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "capture.hpp"
#include "dissect.hpp"
#include "privilege.hpp"

namespace pkt {

struct SniffOptions {
  CaptureConfig capture;
  std::uint64_t count = 0;       // stop after N packets (0: no limit)
  std::uint64_t timeout_ns = 0;  // stop after this long (0: no limit)
};

struct SniffResult {
  std::uint64_t captured = 0;  // packets handed to the callback
  Capture::Stats stats;        // the kernel's counts (pcap_stats)
  bool interrupted = false;    // Ctrl-C ended it
};

class Sniffer {
 public:
  // Opens the capture (throws CaptureError) and picks the first layer from
  // its link type (std::runtime_error when nothing is bound to it).
  Sniffer(const Registry& reg, const SniffOptions& opts);
  Capture& capture() { return cap_; }
  const std::vector<ReadBind>& first() const { return first_; }

  // Captures until count, timeout or Ctrl-C. fn gets each packet, numbered
  // from 1, with `p` its dissection (finalized, wire origins not yet
  // resolved) unless dissect is false; false from fn stops. after_batch runs
  // after each batch libpcap delivered (to flush output).
  using PacketFn = std::function<bool(std::uint64_t n, const CapturedPacket& rec, Packet& p)>;
  SniffResult run(const PacketFn& fn, bool dissect = true, const std::function<void()>& after_batch = {});

 private:
  SniffOptions opts_;
  Capture cap_;
  Dissector dis_;
  std::vector<ReadBind> first_;
};

// tcpdump's end-of-run lines for stderr: "N packets captured", and
// "N packets dropped by kernel" when there were drops.
std::string sniff_report(const SniffResult& r);

// The interface `pkt sniff` uses without -i: like tcpdump, the first one
// libpcap lists that is up, running and not loopback; "lo" when none is.
std::string default_sniff_interface();

// The option words of sniff(on IFACE, filter "BPF", count N, timeout T):
// each at most once, nothing else. Throws ScriptError at the offending argument.
void sniff_call_args(const ast::Expr& call, std::string& iface, ast::ExprPtr& filter, ast::ExprPtr& count,
                     ast::ExprPtr& timeout);

struct SniffArgs {
  std::string iface;                 // -i ("" = default_sniff_interface())
  std::uint64_t count = 0;           // -c
  std::string timeout;               // --timeout 2s
  bool no_promisc = false;           // --no-promisc
  std::string format;                // "" = summary, or none with -w
  std::string write;                 // -w FILE.pcap
  std::vector<std::string> filter;   // FILTER words, joined with spaces
  std::vector<std::string> scripts;  // --script FILE: declarations to load first
  net::DropPlan drop;                // --user, --no-drop, sudo: carried out once the capture is open
};

// Runs `pkt sniff`; returns the exit code (0, also after Ctrl-C). Throws
// CaptureError or std::runtime_error for main to print (exit 1).
int run_sniff(const SniffArgs& args);

}  // namespace pkt
