#include "socket_raw.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
    // The device queue is full: wait for it to drain (up to about a second)
    // rather than fail a fast `interval 0` burst.
    if ((e == ENOBUFS || e == EAGAIN) && full_retries < 1000 && !interrupted()) {
      ++full_retries;
      sleep_interruptible(1'000'000);
      continue;
    }
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

void RawSockets::open_packet(bool /*bypass*/, std::size_t /*max_frame*/) {
  if (packet_ >= 0) return;
  // Protocol 0: this socket only sends; it receives nothing.
  packet_ = open_raw(AF_PACKET, SOCK_RAW, 0, "packet socket (AF_PACKET)");
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
  open_packet();
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(ifindex);
  to.sll_halen = 6;
  if (n >= 14) {
    std::memcpy(to.sll_addr, p, 6);
    std::memcpy(&to.sll_protocol, p + 12, 2);  // the frame's EtherType, already in network order
  }
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
    // The device queue is full: wait for it to drain (up to about a second
    // without progress) rather than fail a fast burst.
    if ((e == ENOBUFS || e == EAGAIN) && full_retries < 1000 && !interrupted()) {
      ++full_retries;
      sleep_interruptible(1'000'000);
      continue;
    }
    r.err = e;
    return r;
  }
  return r;
}

// Placeholder until the TX_RING path (helper "txring") replaces it: one
// send_frame per frame, with the batch interface the sender loop uses.
BatchResult RawSockets::send_frames(const std::uint8_t* const* frames, const std::size_t* lens, std::size_t n,
                                    unsigned ifindex) {
  BatchResult r;
  for (; r.sent < n; ++r.sent) {
    RawResult one = send_frame(frames[r.sent], lens[r.sent], ifindex);
    if (one.err) {
      r.err = one.err;
      return r;
    }
    if (one.written != lens[r.sent]) {
      r.err = EMSGSIZE;
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
