// A packet with generator fields: a list or range in a field makes a set,
// the cartesian product of all generators, the first generator (in reading
// order) varying slowest. Each step changes only the fields whose generator
// moved (the fastest one, and any that carried), through precomputed plans
// or Packet::set, so only what depends on them is recomputed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "packet.hpp"

namespace pkt {

struct Dim {
  std::size_t layer = 0, field = 0;
  bool is_range = false;
  bool ipv4 = false;                 // a range of IPv4 addresses (lo..hi as numbers)
  std::uint64_t lo = 0, hi = 0;      // inclusive, when is_range
  std::vector<FieldValue> values;    // otherwise
  Pos pos;
  std::uint64_t size() const { return is_range ? hi - lo + 1 : values.size(); }
  FieldValue at(std::uint64_t i) const;
};

class PacketSet {
 public:
  Packet tmpl;             // finalized with every generator at its first value
  std::vector<Dim> dims;
  // Or a list of packets (a capture read back): tmpl is the first; no dims.
  std::shared_ptr<const std::vector<Packet>> list;

  std::uint64_t count() const;  // throws ScriptError when the product overflows
  // Calls f for each packet in generator order; f returns false to stop.
  // Returns how many packets f accepted.
  std::uint64_t for_each(const std::function<bool(const Packet&)>& f) const;
  Packet at(std::uint64_t index) const;  // the index-th packet
  bool is_single() const { return dims.empty() && (!list || list->size() <= 1); }
};

}  // namespace pkt
