#include "route.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace pkt {

namespace {
std::atomic<std::uint64_t> queries{0};
std::atomic<RouteAsker> asker{nullptr};
}  // namespace

void set_route_asker(RouteAsker a) { asker.store(a); }

std::string route_source(const std::string& dst) {
  if (dst.size() == 4 && static_cast<unsigned char>(dst[0]) == 127) return std::string("\x7f\0\0\x01", 4);
  static const std::string v6_loopback = std::string(15, '\0') + '\x01';
  if (dst == v6_loopback) return v6_loopback;
  RouteAsker ask = asker.load();
  if ((dst.size() != 4 && dst.size() != 16) || !ask) return std::string(dst.size(), '\0');
  // Lookups are per destination, never per packet; bounded, so that a sweep
  // over a /8 does not keep millions of answers.
  static std::mutex mu;
  static std::unordered_map<std::string, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(dst);
  if (it != cache.end()) return it->second;
  ++queries;
  std::string src = ask(dst);
  if (cache.size() >= (1u << 16)) cache.clear();
  cache.emplace(dst, src);
  return src;
}

std::uint64_t route_queries() { return queries.load(); }

}  // namespace pkt
