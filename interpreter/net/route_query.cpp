// The kernel's answer to "which source for this destination": netlink's
// RTM_GETROUTE (as `ip route get`), or a connected UDP socket where netlink
// is unavailable. Sockets, so here and not in the packet graph, which asks
// through the hook route.hpp declares.
#include "route_query.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "route.hpp"

namespace pkt::net {

namespace {

// The sockets that ask, kept for the run.
struct QuerySockets {
  int netlink = -2;  // -2: not opened yet; -1: unavailable (then UDP)
  std::uint32_t seq = 0;
  int udp[2] = {-1, -1};
  ~QuerySockets() {
    if (netlink >= 0) close(netlink);
    for (int f : udp)
      if (f >= 0) close(f);
  }
};

// RTM_GETROUTE for dst: the route the kernel would send by and the source
// it chooses (RTA_PREFSRC), as `ip route get` shows them. Two system calls
// a lookup. False when netlink is not available here.
bool ask_netlink(QuerySockets& q, const std::string& dst, std::string& out) {
  if (q.netlink == -2) {
    q.netlink = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (q.netlink >= 0) {
      timeval tv{1, 0};  // the kernel answers at once; never wait forever
      setsockopt(q.netlink, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
  }
  if (q.netlink < 0) return false;
  const bool v4 = dst.size() == 4;
  struct {
    nlmsghdr nh;
    rtmsg rt;
    char attrs[64];
  } req{};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.nh.nlmsg_type = RTM_GETROUTE;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.nh.nlmsg_seq = ++q.seq;
  req.rt.rtm_family = v4 ? AF_INET : AF_INET6;
  req.rt.rtm_dst_len = v4 ? 32 : 128;
  auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
  rta->rta_type = RTA_DST;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(dst.size()));
  std::memcpy(RTA_DATA(rta), dst.data(), dst.size());
  req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(q.netlink, &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return false;
  alignas(nlmsghdr) char buf[8192];
  for (;;) {
    ssize_t n = recv(q.netlink, buf, sizeof buf, 0);
    if (n < 0) return false;
    int len = static_cast<int>(n);
    for (auto* nh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
      if (nh->nlmsg_seq != q.seq) continue;  // an answer to an earlier question that timed out
      if (nh->nlmsg_type == NLMSG_ERROR) return true;  // no route (ENETUNREACH, ...): `out` stays zeros
      if (nh->nlmsg_type != RTM_NEWROUTE) continue;
      auto* rt = static_cast<rtmsg*>(NLMSG_DATA(nh));
      int alen = static_cast<int>(RTM_PAYLOAD(nh));
      for (auto* a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == RTA_PREFSRC && RTA_PAYLOAD(a) == dst.size())
          out.assign(static_cast<const char*>(RTA_DATA(a)), dst.size());
      return true;
    }
  }
}

// Where netlink is not available: connect() a UDP socket to dst (the same
// route lookup; no packet leaves), read its name back, and disconnect it
// (a connected UDP socket keeps its source otherwise).
void ask_udp(QuerySockets& q, const std::string& dst, std::string& out) {
  const bool v4 = dst.size() == 4;
  int& fd = q.udp[v4 ? 0 : 1];
  if (fd < 0) {
    fd = socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    int one = 1;  // as the raw socket that sends: a packet built to a broadcast address means it
    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  }
  sockaddr_storage to{};
  socklen_t len;
  if (v4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&to);
    a->sin_family = AF_INET;
    a->sin_port = htons(9);
    std::memcpy(&a->sin_addr, dst.data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&to);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(9);
    std::memcpy(&a->sin6_addr, dst.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), len) != 0) return;
  sockaddr_storage me{};
  socklen_t mlen = sizeof me;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&me), &mlen) == 0) {
    if (v4) out.assign(reinterpret_cast<const char*>(&reinterpret_cast<sockaddr_in*>(&me)->sin_addr), 4);
    else out.assign(reinterpret_cast<const char*>(&reinterpret_cast<sockaddr_in6*>(&me)->sin6_addr), 16);
  }
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  connect(fd, &unspec, sizeof unspec);
}

// Called with the route cache's lock held (route.cpp).
std::string ask_kernel(QuerySockets& q, const std::string& dst) {
  std::string out(dst.size(), '\0');
  if (!ask_netlink(q, dst, out)) ask_udp(q, dst, out);
  return out;
}

}  // namespace

std::string ask_route_source(const std::string& dst, RouteQuery how) {
  QuerySockets q;
  std::string out(dst.size(), '\0');
  if (how == RouteQuery::Netlink) {
    if (!ask_netlink(q, dst, out)) throw std::runtime_error("netlink (NETLINK_ROUTE) is not available here");
  } else {
    ask_udp(q, dst, out);
  }
  return out;
}

void install_route_asker() {
  set_route_asker([](const std::string& dst) {
    static QuerySockets socks;  // kept for the run; the cache's lock serialises their use
    return ask_kernel(socks, dst);
  });
}

}  // namespace pkt::net
