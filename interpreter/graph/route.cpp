#include "route.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace pkt {

namespace {

std::atomic<std::uint64_t> queries{0};

// connect() on a UDP socket makes the kernel pick the source it would use
// for that destination (the same route lookup as a send, policy routing
// included); getsockname() reads it back. No packet leaves. Chosen over a
// netlink RTM_GETROUTE for its size: four system calls, both families alike.
std::string ask_kernel(const std::string& dst) {
  ++queries;
  const bool v4 = dst.size() == 4;
  std::string none(dst.size(), '\0');
  int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return none;
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
  // As the raw socket that sends: a packet built to a broadcast address means it.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  std::string out = none;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), len) == 0) {
    sockaddr_storage me{};
    socklen_t mlen = sizeof me;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&me), &mlen) == 0) {
      if (v4) out.assign(reinterpret_cast<const char*>(&reinterpret_cast<sockaddr_in*>(&me)->sin_addr), 4);
      else out.assign(reinterpret_cast<const char*>(&reinterpret_cast<sockaddr_in6*>(&me)->sin6_addr), 16);
    }
  }
  close(fd);
  return out;
}

}  // namespace

std::string route_source(const std::string& dst) {
  if (dst.size() == 4 && static_cast<unsigned char>(dst[0]) == 127) return std::string("\x7f\0\0\x01", 4);
  static const std::string v6_loopback = std::string(15, '\0') + '\x01';
  if (dst == v6_loopback) return v6_loopback;
  if (dst.size() != 4 && dst.size() != 16) return std::string(dst.size(), '\0');
  // Lookups are per destination, never per packet; bounded, so that a sweep
  // over a /8 does not keep millions of answers.
  static std::mutex mu;
  static std::unordered_map<std::string, std::string> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(dst);
    if (it != cache.end()) return it->second;
  }
  std::string src = ask_kernel(dst);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= (1u << 16)) cache.clear();
  cache.emplace(dst, src);
  return src;
}

std::uint64_t route_queries() { return queries.load(); }

}  // namespace pkt
