// Live capture through libpcap: opened, activated and filtered in the
// constructor; dispatch() waits on the capture's selectable descriptor and
// hands over what the kernel has, with nanosecond timestamps. libpcap owns
// the loop (pcap_dispatch); this adds waiting that Ctrl-C interrupts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pkt {

// An interface that does not exist, a bad filter, missing privileges, or
// libpcap failing; the message says which and what to do.
struct CaptureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CaptureConfig {
  std::string iface;   // an interface name; "any" = all interfaces (Linux cooked, link type 276)
  std::string filter;  // BPF (libpcap syntax); "" = everything
  bool promisc = true;
  int snaplen = 262144;
  // true: each packet is handed over as it arrives (libpcap then uses
  // TPACKET_V2, one ring slot per packet, sized for the MTU: 64 KiB each on
  // lo). false: the kernel packs packets into blocks (TPACKET_V3), handed
  // over when one fills or after kBlockTimeoutMs: what keeps up with a flood.
  bool immediate = true;
};

constexpr int kBlockTimeoutMs = 50;  // the longest a packet waits in a block when !immediate

// One packet; `data` is valid only during the callback that receives it.
struct CapturedPacket {
  const std::uint8_t* data;
  std::uint32_t caplen, len;
  std::int64_t sec;
  std::uint32_t nsec;
};

class Capture {
 public:
  // Throws CaptureError. On return packets are being captured.
  explicit Capture(const CaptureConfig& cfg);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  int linktype() const;  // LINKTYPE_ value (1 EN10MB, 113 LINUX_SLL, 276 LINUX_SLL2, ...)
  const std::string& iface() const;

  // Waits up to wait_ns for packets (0 = do not wait), delivers all that are
  // ready to fn (false from fn stops), returns how many were delivered;
  // returns early on interrupted() (the Ctrl-C flag of send.hpp).
  std::size_t dispatch(std::uint64_t wait_ns, const std::function<bool(const CapturedPacket&)>& fn);

  struct Stats {
    std::uint64_t received = 0, dropped = 0, if_dropped = 0;
  };
  // The kernel's counts since the capture opened (pcap_stats).
  Stats stats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens a capture on `iface` before privileges are dropped (privilege.hpp);
// it captures nothing until a Capture on that interface takes it over, with
// its own filter, and it returns here when that Capture ends. Such a capture
// is in immediate mode, promiscuous if `promisc`. Throws CaptureError.
void preopen_capture(const std::string& iface, bool promisc);

// Names from pcap_findalldevs, in its order.
std::vector<std::string> capture_interfaces();

// "2s", "500ms", "1500us", "10ns", or a plain number of seconds ("1.5"):
// nanoseconds. Throws std::invalid_argument naming the text.
std::uint64_t parse_duration(const std::string& text);

}  // namespace pkt
