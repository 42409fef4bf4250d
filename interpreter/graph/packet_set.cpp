#include "packet_set.hpp"

#include <fmt/format.h>

namespace pkt {

FieldValue Dim::at(std::uint64_t i) const {
  if (!is_range) return values.at(i);
  FieldValue v;
  v.num = lo + i;
  if (ipv4) {
    for (int k = 24; k >= 0; k -= 8) v.bytes.push_back(static_cast<char>((lo + i) >> k));
    v.num = 0;
  }
  return v;
}

std::uint64_t PacketSet::count() const {
  if (list) return list->size();
  std::uint64_t n = 1;
  for (auto& d : dims) {
    std::uint64_t s = d.size();
    if (s && n > ~0ULL / s) throw ScriptError(d.pos, "the packet set has more than 2^64 packets");
    n *= s;
  }
  return n;
}

// Inlined into for_each, the build loop.
[[gnu::always_inline]] inline void PacketCursor::odometer() {
  // Odometer: the last generator varies fastest; after the last packet every
  // generator carries back to its first value.
  for (std::size_t d = set_.dims.size(); d-- > 0;) {
    const Dim& dim = set_.dims[d];
    const bool more = ++idx_[d] < dim.size();
    if (!more) idx_[d] = 0;
    if (p_.layout_version() != planned_for_) make_plans();  // a list of payloads or options changed sizes
    if (plans_[d].valid) p_.apply(plans_[d], dim.lo + idx_[d]);  // numbers, and IPv4 addresses as numbers
    else if (dim.is_range && !dim.ipv4) p_.set(dim.layer, dim.field, dim.lo + idx_[d], Origin::User, dim.pos);
    else if (dim.is_range) p_.set(dim.layer, dim.field, dim.at(idx_[d]), Origin::User, dim.pos);
    else p_.set(dim.layer, dim.field, dim.values[idx_[d]], Origin::User, dim.pos);
    if (more) break;
  }
}

void PacketCursor::step() { odometer(); }

std::uint64_t PacketSet::for_each(const std::function<bool(const Packet&)>& f) const {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  std::uint64_t done = 0;
  if (list) {
    for (const Packet& q : *list) {
      if (!f(q)) break;
      ++done;
    }
    return done;
  }
  PacketCursor c(*this);
  for (std::uint64_t k = 0; k < n; ++k) {
    if (k) c.odometer();
    if (!f(c.p_)) break;
    ++done;
  }
  return done;
}

PacketCursor::PacketCursor(const PacketSet& set, std::uint64_t start) : set_(set) {
  if (set.list) {
    list_i_ = set.list->empty() ? 0 : static_cast<std::size_t>(start % set.list->size());
    return;
  }
  const std::uint64_t n = set.count();
  if (n) start %= n;
  p_ = start ? set.at(start) : set.tmpl;
  if (!p_.finalized()) p_.finalize();
  idx_.assign(set.dims.size(), 0);
  for (std::size_t d = set.dims.size(); d-- > 0;) {
    const std::uint64_t s = set.dims[d].size();
    idx_[d] = s ? start % s : 0;
    if (s) start /= s;
  }
  make_plans();
}

// Range generators over plain number fields take the precomputed fast path.
void PacketCursor::make_plans() {
  plans_.clear();
  for (auto& d : set_.dims) {
    plans_.push_back(d.is_range ? p_.plan(d.layer, d.field) : Packet::FastPlan{});
    if (plans_.back().as_bytes && !d.ipv4) plans_.back() = Packet::FastPlan{};  // only IPv4 ranges are bytes from a number
  }
  planned_for_ = p_.layout_version();
}

Packet PacketSet::at(std::uint64_t index) const {
  if (list) return list->at(index);
  Packet p = tmpl;
  std::uint64_t rest = index;
  for (std::size_t d = dims.size(); d-- > 0;) {
    std::uint64_t s = dims[d].size();
    p.set(dims[d].layer, dims[d].field, dims[d].at(rest % s), Origin::User, dims[d].pos);
    rest /= s;
  }
  if (!p.finalized()) p.finalize();
  return p;
}

}  // namespace pkt
