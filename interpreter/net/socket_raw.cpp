#include "socket_raw.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "diagnostic.hpp"
#include "send.hpp"

namespace pkt::net {

// The fix names this binary's own path, whatever it is called.
std::string need_raw_privilege() {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string path = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : "build/pkt";
  return "raw sockets need CAP_NET_RAW, which this process lacks: run as root (with its capabilities), or `sudo setcap "
         "cap_net_raw+ep " + path + "`; --dry-run --pcap FILE writes the packets without sending";
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// A socket to ask the kernel about interfaces with (no privilege needed).
struct QuerySocket {
  int fd = -1;
  QuerySocket() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  ~QuerySocket() {
    if (fd >= 0) close(fd);
  }
};

int open_raw(int domain, int type, int protocol, const char* what) {
  int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
  if (fd >= 0) return fd;
  int e = errno;
  if (e == EPERM || e == EACCES) throw SendError(need_raw_privilege());
  if (e == EAFNOSUPPORT) throw SendError(std::string("cannot open a ") + what + ": this system does not support it (" +
                                          std::strerror(e) + ")");
  throw SendError(std::string("cannot open a ") + what + ": " + std::strerror(e));
}

void bind_to_device(int fd, const std::string& iface) {
  if (iface.empty()) return;
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface.c_str(), static_cast<socklen_t>(iface.size())) != 0) {
    int e = errno;
    close(fd);
    if (e == EPERM || e == EACCES) throw SendError(need_raw_privilege());
    if (e == ENODEV) interface_info(iface);  // throws the "no interface named" error
    throw SendError("cannot send on " + iface + ": " + std::strerror(e));
  }
}

// A full device queue (ENOBUFS, EAGAIN) is waited out rather than fail a
// fast burst: true when the caller should try again. On lo the queue is the
// backlog this core drains in softirq (ksoftirqd once it has too much), so
// the first retries only yield the core; then sleeps of 20 us doubling to
// 1 ms, about a second in all without progress before giving up.
bool wait_out_full_queue(int e, int& retries) {
  if ((e != ENOBUFS && e != EAGAIN) || interrupted()) return false;
  constexpr int kYields = 200, kSleeps = 1000;
  if (retries >= kYields + kSleeps) return false;
  ++retries;
  if (retries <= kYields) {
    sched_yield();
    return true;
  }
  const int k = retries - kYields;  // 1, 2, ...
  sleep_interruptible(k >= 6 ? 1'000'000 : 20'000ull << (k - 1));
  return true;
}

// sendto with the retries every raw path needs.
RawResult send_retrying(int fd, const void* p, std::size_t n, const sockaddr* to, socklen_t tolen) {
  RawResult r;
  int full_retries = 0;
  while (true) {
    ssize_t w = sendto(fd, p, n, 0, to, tolen);
    if (w >= 0) {
      r.written = static_cast<std::size_t>(w);
      return r;
    }
    int e = errno;
    if (e == EINTR && !interrupted()) continue;
    if (wait_out_full_queue(e, full_retries)) continue;
    r.err = e;
    return r;
  }
}

}  // namespace

std::vector<std::string> interface_names() {
  std::vector<std::string> out;
  if (struct if_nameindex* list = if_nameindex()) {
    for (struct if_nameindex* i = list; i->if_index != 0 || i->if_name != nullptr; ++i) out.emplace_back(i->if_name);
    if_freenameindex(list);
  }
  return out;
}

InterfaceInfo interface_info(const std::string& name) {
  InterfaceInfo info;
  info.name = name;
  info.index = name.size() < IFNAMSIZ ? if_nametoindex(name.c_str()) : 0;
  if (info.index == 0) {
    auto names = interface_names();
    std::string hint = nearest_name(name, names);
    throw SendError("no interface named '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                    "; available: " + (names.empty() ? std::string("none") : join(names)));
  }
  QuerySocket q;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  if (q.fd >= 0 && ioctl(q.fd, SIOCGIFFLAGS, &ifr) == 0) {
    info.loopback = (ifr.ifr_flags & IFF_LOOPBACK) != 0;
    info.up = (ifr.ifr_flags & IFF_UP) != 0;
  }
  if (q.fd >= 0 && ioctl(q.fd, SIOCGIFHWADDR, &ifr) == 0) info.hw_type = ifr.ifr_hwaddr.sa_family;
  if (q.fd >= 0 && ioctl(q.fd, SIOCGIFMTU, &ifr) == 0) info.mtu = static_cast<unsigned>(ifr.ifr_mtu);
  return info;
}

bool is_loopback_interface(const std::string& name) {
  try {
    return interface_info(name).loopback;
  } catch (const SendError&) {
    return false;
  }
}

// PACKET_TX_RING (TPACKET_V2): frames are copied into slots of a ring the
// kernel shares with us, marked TP_STATUS_SEND_REQUEST, and sent by one
// send() for the whole batch. The kernel sets a slot back to
// TP_STATUS_AVAILABLE when it frees the frame's buffer (the frame has left:
// on a real NIC after the transmit completes, on lo when it is delivered),
// which is what send_frames counts. Every send on a socket with a TX ring
// takes its frames from the ring, so frames too large for a slot (and
// send_frame) use the plain socket, packet_.
struct RawSockets::TxRing {
  int fd = -1;
  std::uint8_t* map = nullptr;
  std::size_t map_len = 0;
  std::size_t block_size = 0, frames_per_block = 0, frame_size = 0, frame_nr = 0;
  std::size_t max_data = 0;  // the largest frame a slot holds
  std::size_t head = 0;      // the next slot to fill: the one the kernel looks at next

  // A ring for frames up to max_frame bytes, or null when the kernel refuses
  // one (no TPACKET_V2 or TX_RING, no memory): sendto still works then.
  static std::unique_ptr<TxRing> make(std::size_t max_frame, bool bypass);
  ~TxRing() {
    if (map) munmap(map, map_len);
    if (fd >= 0) close(fd);
  }
  tpacket2_hdr* slot(std::size_t i) const {
    i %= frame_nr;
    return reinterpret_cast<tpacket2_hdr*>(map + (i / frames_per_block) * block_size + (i % frames_per_block) * frame_size);
  }
  static std::uint8_t* data(tpacket2_hdr* h) {
    // Without PACKET_TX_HAS_OFF the frame starts right after the header.
    return reinterpret_cast<std::uint8_t*>(h) + (TPACKET2_HDRLEN - sizeof(sockaddr_ll));
  }
  // The slot's state as the kernel last wrote it (timestamp flags dropped).
  static unsigned status(const tpacket2_hdr* h) {
    return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) &
           (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT);
  }
  static void set_status(tpacket2_hdr* h, unsigned s) { __atomic_store_n(&h->tp_status, s, __ATOMIC_RELEASE); }
};

namespace {

constexpr std::size_t kTxOffset = TPACKET2_HDRLEN - sizeof(sockaddr_ll);  // where a TX frame starts in its slot
constexpr std::size_t kRingFrames = 512;                                   // enough slots for any batch we hand over
constexpr std::size_t kRingBytes = 2u << 20;                               // and at most about 2 MiB of them

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

bool tx_ring_disabled() {
  const char* v = std::getenv("PKT_TX_RING");
  return v && std::strcmp(v, "0") == 0;
}

void set_bypass(int fd, bool on) {
#ifdef PACKET_QDISC_BYPASS
  int v = on ? 1 : 0;
  // Linux 3.14+; an older kernel keeps the queueing discipline, which only costs speed.
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof v);
#else
  (void)fd;
  (void)on;
#endif
}

std::uint64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(t.tv_nsec);
}

// The destination of a frame for sendto: the interface, the frame's EtherType
// (as skb->protocol) and its destination MAC.
sockaddr_ll frame_address(const std::uint8_t* p, std::size_t n, unsigned ifindex) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(ifindex);
  to.sll_halen = 6;
  if (n >= 14) {
    std::memcpy(to.sll_addr, p, 6);
    std::memcpy(&to.sll_protocol, p + 12, 2);  // the frame's EtherType, already in network order
  }
  return to;
}

bool same_ethertype(const std::uint8_t* a, std::size_t an, const std::uint8_t* b, std::size_t bn) {
  if (an < 14 || bn < 14) return an < 14 && bn < 14;
  return a[12] == b[12] && a[13] == b[13];
}

}  // namespace

// A ring for frames up to max_frame bytes, or null when the kernel refuses
// one (no TPACKET_V2 or TX_RING, no memory): sendto still works then.
std::unique_ptr<RawSockets::TxRing> RawSockets::TxRing::make(std::size_t max_frame, bool bypass) {
  auto r = std::make_unique<TxRing>();
  r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: it receives nothing
  if (r->fd < 0) return nullptr;
  int version = TPACKET_V2;
  if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) return nullptr;
  set_bypass(r->fd, bypass);
  // A blocking send() waits for the frames it sent to be released; a timeout
  // lets it return now and then, so Ctrl-C and a stuck queue are noticed.
  timeval tv{0, 50'000};
  setsockopt(r->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  r->frame_size = std::max<std::size_t>(TPACKET_ALIGN(kTxOffset + max_frame), TPACKET_ALIGN(TPACKET2_HDRLEN));
  std::size_t want = std::clamp<std::size_t>(kRingBytes / r->frame_size, 1, kRingFrames);
  // Blocks of up to 64 KiB (the kernel allocates each in one piece), at least one slot each.
  r->block_size = std::max(round_up(r->frame_size, page), std::min(round_up(r->frame_size * want, page), std::size_t{64} << 10));
  r->frames_per_block = r->block_size / r->frame_size;
  std::size_t blocks = (want + r->frames_per_block - 1) / r->frames_per_block;
  r->frame_nr = blocks * r->frames_per_block;
  r->max_data = r->frame_size - kTxOffset;

  tpacket_req req{};
  req.tp_block_size = static_cast<unsigned>(r->block_size);
  req.tp_block_nr = static_cast<unsigned>(blocks);
  req.tp_frame_size = static_cast<unsigned>(r->frame_size);
  req.tp_frame_nr = static_cast<unsigned>(r->frame_nr);
  if (setsockopt(r->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) != 0) return nullptr;
  r->map_len = r->block_size * blocks;
  void* m = mmap(nullptr, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, 0);
  if (m == MAP_FAILED) return nullptr;
  r->map = static_cast<std::uint8_t*>(m);
  return r;
}

RawSockets::RawSockets() = default;

RawSockets::~RawSockets() {
  for (auto& [n, fd] : v4_) close(fd);
  for (auto& [n, fd] : v6_) close(fd);
  if (packet_ >= 0) close(packet_);
}

void RawSockets::open_ipv4(const std::string& iface) {
  if (v4_.count(iface)) return;
  int fd = open_raw(AF_INET, SOCK_RAW, IPPROTO_RAW, "raw IPv4 socket");
  int one = 1;
  // IPPROTO_RAW implies IP_HDRINCL on Linux; say it anyway.
  setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
  // A script that builds a packet to a broadcast address means it.
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  bind_to_device(fd, iface);
  v4_[iface] = fd;
}

void RawSockets::open_ipv6(const std::string& iface) {
  if (v6_.count(iface)) return;
  int fd = open_raw(AF_INET6, SOCK_RAW, IPPROTO_RAW, "raw IPv6 socket");
  // With IPPROTO_RAW the kernel takes the whole IPv6 header from us and sends
  // it unchanged (checked by capture in tests/test_net.cpp). IPV6_HDRINCL
  // (Linux 4.5+) states it explicitly; older kernels lack the option.
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif
  int one = 1;
  setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof one);
  bind_to_device(fd, iface);
  v6_[iface] = fd;
}

void RawSockets::open_plain_packet() {
  if (packet_ >= 0) return;
  // Protocol 0: this socket only sends; it receives nothing.
  packet_ = open_raw(AF_PACKET, SOCK_RAW, 0, "packet socket (AF_PACKET)");
  if (bypass_) set_bypass(packet_, true);
}

void RawSockets::open_packet(bool bypass, std::size_t max_frame) {
  open_plain_packet();  // first: a missing CAP_NET_RAW shows here
  if (bypass != bypass_) {
    bypass_ = bypass;
    set_bypass(packet_, bypass);
    if (ring_) set_bypass(ring_->fd, bypass);
  }
  if (ring_refused_ || tx_ring_disabled() || (ring_ && ring_->max_data >= max_frame)) return;
  // A ring cannot grow while mapped: a larger frame size takes a new one
  // (every frame of the old one was released when send_frames returned).
  ring_.reset();
  ring_ = TxRing::make(max_frame, bypass_);
  if (!ring_) ring_refused_ = true;
}

RawResult RawSockets::send_ipv4(const std::uint8_t* p, std::size_t n, const std::uint8_t dst[4],
                                const std::string& iface) {
  open_ipv4(iface);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  std::memcpy(&to.sin_addr, dst, 4);
  return send_retrying(v4_.at(iface), p, n, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

RawResult RawSockets::send_ipv6(const std::uint8_t* p, std::size_t n, const std::uint8_t dst[16],
                                const std::string& iface, unsigned scope_id) {
  open_ipv6(iface);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  std::memcpy(&to.sin6_addr, dst, 16);
  to.sin6_scope_id = scope_id;
  return send_retrying(v6_.at(iface), p, n, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

RawResult RawSockets::send_frame(const std::uint8_t* p, std::size_t n, unsigned ifindex) {
  open_plain_packet();
  sockaddr_ll to = frame_address(p, n, ifindex);
  return send_retrying(packet_, p, n, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

IpBatchResult RawSockets::send_ipv4_batch(const std::uint8_t* const* pkts, const std::size_t* lens, std::size_t n,
                                          const std::string& iface) {
  open_ipv4(iface);
  return send_batch(v4_.at(iface), AF_INET, pkts, lens, n, 0);
}

IpBatchResult RawSockets::send_ipv6_batch(const std::uint8_t* const* pkts, const std::size_t* lens, std::size_t n,
                                          const std::string& iface, unsigned scope_id) {
  open_ipv6(iface);
  return send_batch(v6_.at(iface), AF_INET6, pkts, lens, n, scope_id);
}

// sendmmsg over the batch. The kernel stops a batch at the first packet it
// refuses and returns how many it took before it (that packet's error is
// lost); the rest is sent again, so that packet's own error comes back.
IpBatchResult RawSockets::send_batch(int fd, int family, const std::uint8_t* const* pkts, const std::size_t* lens,
                                     std::size_t n, unsigned scope_id) {
  if (msgs_.size() < n) {
    msgs_.resize(n);
    iovs_.resize(n);
    addrs_.resize(n);
  }
  for (std::size_t i = 0; i < n; ++i) {
    iovs_[i].iov_base = const_cast<std::uint8_t*>(pkts[i]);
    iovs_[i].iov_len = lens[i];
    msghdr& h = msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    h.msg_name = &addrs_[i];
    if (family == AF_INET) {
      auto* to = reinterpret_cast<sockaddr_in*>(&addrs_[i]);
      *to = sockaddr_in{};
      to->sin_family = AF_INET;
      std::memcpy(&to->sin_addr, pkts[i] + 16, 4);
      h.msg_namelen = sizeof(sockaddr_in);
    } else {
      sockaddr_in6& to = addrs_[i];
      to = sockaddr_in6{};
      to.sin6_family = AF_INET6;
      std::memcpy(&to.sin6_addr, pkts[i] + 24, 16);
      const std::uint8_t* a = pkts[i] + 24;
      // Only a link-scope destination takes the interface (as send_ipv6's caller does).
      if ((a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || (a[0] == 0xff && (a[1] & 0x0f) <= 0x02))
        to.sin6_scope_id = scope_id;
      h.msg_namelen = sizeof(sockaddr_in6);
    }
  }
  IpBatchResult r;
  int full_retries = 0;
  while (r.sent < n) {
    // UIO_MAXIOV (1024) messages at most per call.
    const unsigned want = static_cast<unsigned>(std::min<std::size_t>(n - r.sent, 1024));
    int m = sendmmsg(fd, &msgs_[r.sent], want, 0);
    if (m > 0) {
      for (int i = 0; i < m; ++i, ++r.sent) {
        if (msgs_[r.sent].msg_len != lens[r.sent]) {
          r.written = msgs_[r.sent].msg_len;
          return r;  // a short write (raw sockets do not make them): not counted
        }
      }
      full_retries = 0;
      continue;
    }
    int e = m == 0 ? EAGAIN : errno;
    if (e == EINTR && !interrupted()) continue;
    if (wait_out_full_queue(e, full_retries)) continue;  // counted from the last progress
    r.err = e;
    return r;
  }
  return r;
}

BatchResult RawSockets::send_frames(const std::uint8_t* const* frames, const std::size_t* lens, std::size_t n,
                                    unsigned ifindex) {
  BatchResult r;
  if (n == 0) return r;
  if (packet_ < 0) open_packet(bypass_);
  // A frame over the MTU takes sendto, which refuses it with EMSGSIZE, where
  // the ring would log "packet size is too long" to the kernel log.
  if (ring_ && mtu_ifindex_ != ifindex) {
    char name[IF_NAMESIZE] = {};
    ifreq ifr{};
    QuerySocket q;
    mtu_ = ring_->max_data;
    if (if_indextoname(ifindex, name) && q.fd >= 0) {
      std::memcpy(ifr.ifr_name, name, IF_NAMESIZE);
      if (ioctl(q.fd, SIOCGIFMTU, &ifr) == 0) mtu_ = static_cast<std::size_t>(ifr.ifr_mtu) + 14 + 4;  // + header, VLAN tag
    }
    mtu_ifindex_ = ifindex;
  }
  const std::size_t ring_max = ring_ ? std::min(ring_->max_data, mtu_) : 0;

  std::size_t i = 0;
  while (i < n) {
    if (interrupted()) {
      r.err = EINTR;
      return r;
    }
    if (!ring_ || lens[i] > ring_max) {
      RawResult one = send_frame(frames[i], lens[i], ifindex);
      if (!one.err && one.written != lens[i]) one.err = EMSGSIZE;  // AF_PACKET sends all or nothing: cannot happen
      if (one.err) {
        r.err = one.err;
        return r;
      }
      ++r.sent;
      ++i;
      continue;
    }
    TxRing& ring = *ring_;
    // Fill: consecutive frames that fit a slot, with the first one's
    // EtherType (one send() has one address), into free slots from the head.
    const std::size_t start = ring.head;
    std::size_t m = 0;
    while (i + m < n && m < ring.frame_nr && lens[i + m] <= ring_max &&
           same_ethertype(frames[i], lens[i], frames[i + m], lens[i + m])) {
      tpacket2_hdr* h = ring.slot(start + m);
      if (TxRing::status(h) != TP_STATUS_AVAILABLE) break;  // still the kernel's (a frame given up on before)
      std::memcpy(TxRing::data(h), frames[i + m], lens[i + m]);
      h->tp_len = static_cast<unsigned>(lens[i + m]);
      TxRing::set_status(h, TP_STATUS_SEND_REQUEST);
      ++m;
    }
    if (m == 0) {
      // The head slot is still in flight from an earlier batch: wait for it.
      const std::uint64_t until = now_ns() + 1'000'000'000ULL;
      while (TxRing::status(ring.slot(start)) == TP_STATUS_SENDING && now_ns() < until && !interrupted())
        sleep_interruptible(50'000);
      if (TxRing::status(ring.slot(start)) == TP_STATUS_SENDING) {
        r.err = interrupted() ? EINTR : ENOBUFS;
        return r;
      }
      if (TxRing::status(ring.slot(start)) != TP_STATUS_AVAILABLE) TxRing::set_status(ring.slot(start), TP_STATUS_AVAILABLE);
      continue;
    }

    // Send and wait until each of the m frames is released, or one fails.
    sockaddr_ll to = frame_address(frames[i], lens[i], ifindex);
    std::size_t done = 0;  // the released prefix
    int fail = 0;          // stop sending: the first frame not released gets this error
    int full_retries = 0;
    std::uint64_t progress_at = now_ns();
    unsigned spins = 0;
    while (true) {
      std::size_t before = done;
      while (done < m && TxRing::status(ring.slot(start + done)) == TP_STATUS_AVAILABLE) ++done;
      if (done == m) break;
      const std::uint64_t t = now_ns();
      if (done != before) {
        progress_at = t;
        spins = 0;
      }
      tpacket2_hdr* h = ring.slot(start + done);
      const unsigned st = TxRing::status(h);
      if (st & TP_STATUS_WRONG_FORMAT) {
        // Refused as malformed; the kernel's head stays on it. send() said why.
        if (!fail) fail = lens[i + done] > mtu_ ? EMSGSIZE : EINVAL;
        break;
      }
      if (st == TP_STATUS_SEND_REQUEST) {
        // The kernel has not taken it: ask it to (unless we stop here).
        if (fail) break;
        if (interrupted()) {
          fail = EINTR;
          break;
        }
        if (sendto(ring.fd, nullptr, 0, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
          int e = errno;
          if (e == EINTR || e == ETIMEDOUT) continue;  // rescan; a Ctrl-C is seen above
          // The device queue is full (the frame is back to SEND_REQUEST): wait for it to drain, as sendto does.
          if (wait_out_full_queue(e, full_retries) || interrupted()) continue;  // a Ctrl-C is seen above
          fail = e;  // the frame at the head was refused (EMSGSIZE, EINVAL, ENETDOWN, ...); wait for those before it
        }
        continue;
      }
      // TP_STATUS_SENDING: in flight, released soon (on lo, at once). A frame
      // that stays the kernel's for a second is given up on, and not counted.
      if (t - progress_at > 1'000'000'000ULL) {
        if (!fail) fail = interrupted() ? EINTR : ENOBUFS;
        break;
      }
      if (++spins < 64) sched_yield();
      else {
        timespec ts{0, 20'000};
        nanosleep(&ts, nullptr);
      }
    }
    // Frames the kernel did not take are withdrawn; its head is on the first
    // of them. (Frames before it that it still holds were given up on: they
    // are not counted, and their slots are skipped until released.)
    std::size_t next = done;
    while (next < m && (TxRing::status(ring.slot(start + next)) & (TP_STATUS_SEND_REQUEST | TP_STATUS_WRONG_FORMAT)) == 0)
      ++next;
    for (std::size_t j = next; j < m; ++j) TxRing::set_status(ring.slot(start + j), TP_STATUS_AVAILABLE);
    ring.head = (start + next) % ring.frame_nr;
    r.sent += done;
    i += done;
    if (done < m) {
      r.err = fail ? fail : EIO;
      return r;
    }
  }
  return r;
}

std::string send_errno_text(int err) {
  switch (err) {
    case ENETUNREACH: return "network is unreachable (no route to the destination)";
    case EHOSTUNREACH: return "host is unreachable";
    case EMSGSIZE: return "the packet is larger than the outgoing interface's MTU";
    case ENETDOWN: return "the interface is down";
    case ENXIO: case ENODEV: return "the interface is gone";
    case EPERM: return "operation not permitted (a firewall rule may refuse it)";
    case EACCES: return "permission denied";
    case ENOBUFS: case EAGAIN: return "the interface's queue stayed full";
    case EINVAL: return "the kernel refused the packet as invalid (EINVAL)";
    case EINTR: return "interrupted";
    default: return std::strerror(err);
  }
}

}  // namespace pkt::net
