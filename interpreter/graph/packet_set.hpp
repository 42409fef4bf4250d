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

// Packets alive at once, for a batched send: their bytes back to back in one
// buffer. ptrs() and lens() are parallel arrays, valid until the next push or clear.
class PacketBatch {
 public:
  std::size_t size() const { return lens_.size(); }
  bool empty() const { return lens_.empty(); }
  void clear() {
    data_.clear();
    offs_.clear();
    lens_.clear();
    ptrs_.clear();
  }
  void push(const std::uint8_t* p, std::size_t n) {
    offs_.push_back(data_.size());
    lens_.push_back(n);
    data_.insert(data_.end(), p, p + n);
  }
  const std::uint8_t* const* ptrs() {
    ptrs_.resize(offs_.size());
    for (std::size_t i = 0; i < offs_.size(); ++i) ptrs_[i] = data_.data() + offs_[i];
    return ptrs_.data();
  }
  const std::size_t* lens() const { return lens_.data(); }
  const std::uint8_t* data(std::size_t i) const { return data_.data() + offs_[i]; }
  std::size_t len(std::size_t i) const { return lens_[i]; }

 private:
  std::vector<std::uint8_t> data_;
  std::vector<std::size_t> offs_, lens_;
  std::vector<const std::uint8_t*> ptrs_;
};

// Walks a packet set in generator order from any index, one incremental step
// per packet (as for_each), wrapping to the first packet after the last, so
// a sender thread can start at its share's first index and run `count` rounds.
// The set must outlive the cursor.
class PacketCursor {
 public:
  explicit PacketCursor(const PacketSet& set, std::uint64_t start = 0);
  // The current packet; valid until the next advance().
  const Packet& packet() const { return set_.list ? (*set_.list)[list_i_] : p_; }
  void advance() {
    if (!set_.list) step();
    else if (++list_i_ >= set_.list->size()) list_i_ = 0;
  }
  // Appends the current packet and the max - 1 after it to b (advancing past them).
  void fill(PacketBatch& b, std::size_t max) {
    for (std::size_t i = 0; i < max; ++i) {
      const Packet& q = packet();
      b.push(q.bytes().data(), q.size());
      advance();
    }
  }

 private:
  friend class PacketSet;
  void make_plans();
  void step();      // the odometer's next value (generators, not a list)
  void odometer();  // the same, inlined where it is defined
  const PacketSet& set_;
  Packet p_;
  std::vector<std::uint64_t> idx_;
  std::vector<Packet::FastPlan> plans_;
  std::uint64_t planned_for_ = 0;
  std::size_t list_i_ = 0;
};

}  // namespace pkt
