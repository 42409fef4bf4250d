// Raw sockets for Sender: raw IPv4 (IPPROTO_RAW + IP_HDRINCL), raw IPv6
// (IPPROTO_RAW: the kernel sends our IPv6 header as is) and AF_PACKET for
// whole Ethernet frames. Opened on first use and kept; one raw IP socket per
// interface a script names with `on IFACE` (bound with SO_BINDTODEVICE).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pkt::net {

// The message for a missing CAP_NET_RAW, naming the fix for this binary.
std::string need_raw_privilege();

struct InterfaceInfo {
  std::string name;
  unsigned index = 0;
  bool loopback = false;
  bool up = false;
  int hw_type = 0;  // ARPHRD_*: 1 Ethernet, 772 loopback
  unsigned mtu = 0;
};

// Interface names, in index order (if_nameindex).
std::vector<std::string> interface_names();
// Throws SendError: "no interface named 'x' (did you mean 'y'?); available: lo, eth0".
InterfaceInfo interface_info(const std::string& name);
// False for an unknown interface.
bool is_loopback_interface(const std::string& name);

// The outcome of one sendto: err is 0 or an errno; written is what sendto returned.
struct RawResult {
  int err = 0;
  std::size_t written = 0;
};

// The outcome of a batch: `sent` packets left (the first `sent` of the
// batch, in order); err is the errno of the first that did not (0: all left).
struct BatchResult {
  std::size_t sent = 0;
  int err = 0;
};

// The outcome of a batch of raw IP packets: as BatchResult, and when err is 0
// but sent < n, the kernel took only `written` bytes of packet `sent`.
struct IpBatchResult {
  std::size_t sent = 0;
  int err = 0;
  std::size_t written = 0;
};

class RawSockets {
 public:
  RawSockets();
  ~RawSockets();
  RawSockets(const RawSockets&) = delete;
  RawSockets& operator=(const RawSockets&) = delete;

  // Open (once) the socket a send will use. Throw SendError on failure,
  // need_raw_privilege() when the process lacks CAP_NET_RAW.
  void open_ipv4(const std::string& iface);
  void open_ipv6(const std::string& iface);
  // `bypass`: PACKET_QDISC_BYPASS (frames skip the interface's queueing
  // discipline). `max_frame`: the largest frame the send will queue; it sizes
  // the PACKET_TX_RING that send_frames uses (larger frames take sendto). When
  // the kernel refuses the ring (or PKT_TX_RING=0), send_frames uses sendto.
  // `iface`: where the frames go, named if the socket cannot be opened.
  void open_packet(bool bypass = false, std::size_t max_frame = 1514, const std::string& iface = "");
  // Whether send_frames goes through a PACKET_TX_RING (after open_packet).
  bool tx_ring() const { return ring_ != nullptr; }

  // Send one packet; retry briefly while the queue is full (ENOBUFS/EAGAIN)
  // and on EINTR unless interrupted(). `scope_id`: the interface index for
  // link-local IPv6 destinations (0 otherwise).
  RawResult send_ipv4(const std::uint8_t* p, std::size_t n, const std::uint8_t dst[4], const std::string& iface);
  RawResult send_ipv6(const std::uint8_t* p, std::size_t n, const std::uint8_t dst[16], const std::string& iface,
                      unsigned scope_id);
  RawResult send_frame(const std::uint8_t* p, std::size_t n, unsigned ifindex);
  // Raw IP packets of one family (IPv4: send_ipv4_batch), in order, each to
  // the destination in its own header, by sendmmsg: a partial batch is
  // continued, ENOBUFS/EAGAIN and EINTR are retried as send_ipv4 does. Only
  // packets the kernel accepted are counted in `sent`. The packets must have
  // passed ip_destination.
  IpBatchResult send_ipv4_batch(const std::uint8_t* const* pkts, const std::size_t* lens, std::size_t n,
                                const std::string& iface);
  IpBatchResult send_ipv6_batch(const std::uint8_t* const* pkts, const std::size_t* lens, std::size_t n,
                                const std::string& iface, unsigned scope_id);
  // Ethernet frames on ifindex, in order. Returns when each of the n frames
  // has left (released by the kernel) or one failed: only frames that left
  // are counted. Retries like send_frame; stops early on interrupt (EINTR).
  BatchResult send_frames(const std::uint8_t* const* frames, const std::size_t* lens, std::size_t n, unsigned ifindex);

 private:
  struct TxRing;  // socket_raw.cpp
  void open_plain_packet(const std::string& iface = "");
  std::map<std::string, int> v4_, v6_;  // by interface ("" = routed normally)
  int packet_ = -1;                     // AF_PACKET for sendto: send_frame, frames too large for the ring
  bool bypass_ = false;                 // PACKET_QDISC_BYPASS asked (set on both packet sockets)
  bool ring_refused_ = false;           // the kernel refused a ring once: do not ask again
  std::unique_ptr<TxRing> ring_;        // one per RawSockets: each sender thread has its own
  unsigned mtu_ifindex_ = 0;            // the interface whose MTU mtu_ holds
  std::size_t mtu_ = 0;
  IpBatchResult send_batch(int fd, int family, const std::uint8_t* const* pkts, const std::size_t* lens,
                           std::size_t n, unsigned scope_id);
  // Reused by every batch (a RawSockets belongs to one sender thread).
  std::vector<struct mmsghdr> msgs_;
  std::vector<struct iovec> iovs_;
  std::vector<struct sockaddr_in6> addrs_;  // sockaddr_in fits in one
};

// Sockets opened before privileges are dropped (privilege.hpp): RawSockets
// takes these first, and they stay open for the whole run. Throw SendError
// as RawSockets' open_* do.
// Raw IPv4 and IPv6 sockets for `iface` ("" = routed normally). Shared by
// every sender thread: sendmmsg on one raw socket from several threads is
// safe. A system without IPv6 gets the IPv4 one only.
void preopen_ip(const std::string& iface);
// AF_PACKET sockets: one for sendto (shared), and `rings` more, each of which
// one sender thread takes for its PACKET_TX_RING (a thread that finds none
// left sends by sendto).
void preopen_packet(unsigned rings);

// A short, precise reason for a failed send: "network is unreachable", ...
std::string send_errno_text(int err);

}  // namespace pkt::net
