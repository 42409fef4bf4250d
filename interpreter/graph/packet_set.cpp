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

std::uint64_t PacketSet::for_each(const std::function<bool(const Packet&)>& f) const {
  std::uint64_t n = count();
  if (n == 0) return 0;
  if (list) {
    std::uint64_t done = 0;
    for (const Packet& q : *list) {
      if (!f(q)) break;
      ++done;
    }
    return done;
  }
  Packet p = tmpl;
  if (!p.finalized()) p.finalize();
  std::vector<std::uint64_t> idx(dims.size(), 0);
  // Range generators over plain number fields take the precomputed fast path.
  std::vector<Packet::FastPlan> plans;
  std::uint64_t planned_for = 0;
  auto make_plans = [&] {
    plans.clear();
    for (auto& d : dims) plans.push_back(d.is_range && !d.ipv4 ? p.plan(d.layer, d.field) : Packet::FastPlan{});
    planned_for = p.layout_version();
  };
  make_plans();
  std::uint64_t done = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    if (k) {
      // Odometer: the last generator varies fastest.
      for (std::size_t d = dims.size(); d-- > 0;) {
        const Dim& dim = dims[d];
        bool more = ++idx[d] < dim.size();
        if (!more) idx[d] = 0;
        if (p.layout_version() != planned_for) make_plans();  // a list of payloads or options changed sizes
        if (plans[d].valid) p.apply(plans[d], dim.lo + idx[d]);
        else if (dim.is_range && !dim.ipv4) p.set(dim.layer, dim.field, dim.lo + idx[d], Origin::User, dim.pos);
        else if (dim.is_range) p.set(dim.layer, dim.field, dim.at(idx[d]), Origin::User, dim.pos);
        else p.set(dim.layer, dim.field, dim.values[idx[d]], Origin::User, dim.pos);
        if (more) break;
      }
    }
    if (!f(p)) break;
    ++done;
  }
  return done;
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
