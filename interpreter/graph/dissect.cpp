#include "dissect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace pkt {

namespace {

std::uint64_t get_bits(const std::uint8_t* data, std::uint32_t bitoff, unsigned bits) {
  if ((bitoff & 7) == 0 && (bits & 7) == 0) {
    const std::uint8_t* p = data + (bitoff >> 3);
    std::uint64_t v = 0;
    for (unsigned k = 0; k < bits / 8; ++k) v = (v << 8) | p[k];
    return v;
  }
  std::uint64_t v = 0;
  for (unsigned k = 0; k < bits; ++k) {
    std::uint32_t bit = bitoff + k;
    v = (v << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1u);
  }
  return v;
}

bool rule_has_len(const AutoExpr& e) {
  if (e.op == AutoExpr::Op::Len) return true;
  for (auto& a : e.args)
    if (rule_has_len(a)) return true;
  return false;
}

}  // namespace

std::vector<ReadBind> Dissector::first_for_linktype(std::uint32_t linktype) const {
  std::vector<ReadBind> out;
  auto binds = reg_.reads_from("pcap");
  for (auto& b : *binds)
    if (b.value.num == linktype) out.push_back(b);
  return out;
}

std::vector<ReadBind> Dissector::first_is(std::shared_ptr<const LayerDef> layer) {
  ReadBind b;
  b.upper = std::move(layer);
  return {b};
}

void Dissector::refresh() {
  if (generation_ == reg_.generation()) return;
  next_.clear();
  raw_ = reg_.layer("raw");
  generation_ = reg_.generation();
}

bool Dissector::read_one(std::shared_ptr<const LayerDef> def, const std::uint8_t* data, std::uint32_t pos,
                         std::uint32_t end, Packet& out, std::string& why) {
  out.notes_.clear();
  out.finalized_ = true;
  out.layers_.resize(1);
  out.layers_[0].def = std::move(def);
  if (!read_layer(*out.layers_[0].def, data + pos, 0, end - pos, 0, out, why)) return false;
  LayerInst& li = out.layers_[0];
  out.buf_.assign(data + pos, data + pos + li.size);
  out.field_base_.assign(1, 0);
  li.payload_end = li.size;
  out.state_.assign(li.fields.size(), 2);
  out.sums_.assign(li.fields.size(), 0);
  out.deps_.reset();
  ++out.layout_version_;
  return true;
}

const std::vector<ReadBind>& Dissector::next_of(const std::shared_ptr<const LayerDef>& def) {
  refresh();
  auto it = next_.find(def.get());
  if (it == next_.end()) it = next_.emplace(def.get(), reg_.reads_from(def->name)).first;
  return *it->second;
}

bool Dissector::read_layer(const LayerDef& def, const std::uint8_t* data, std::uint32_t pos, std::uint32_t end,
                           std::size_t idx, Packet& out, std::string& why) {
  LayerInst& li = out.layers_[idx];
  li.fields.resize(def.fields.size());
  li.offset = pos;
  li.trailer.clear();
  li.selector = -1;
  std::uint64_t bit = std::uint64_t(pos) * 8;
  const std::uint64_t limit = std::uint64_t(end) * 8;
  for (std::size_t f = 0; f < def.fields.size(); ++f) {
    FieldSlot& s = li.fields[f];
    const FieldDef& d = def.fields[f];
    s.origin = Origin::Wire;
    s.bit_offset = static_cast<std::uint32_t>(bit);
    s.present = true;
    if (d.cond) {
      bool on;
      try {
        on = out.eval_read_rule(*d.cond, idx) != 0;
      } catch (const ScriptError& e) {
        why = fmt::format("{}.{}: {}", def.name, d.name, e.what());
        return false;
      }
      if (!on) {
        s.present = false;
        s.bit_size = 0;
        s.value.num = 0;
        s.value.bytes.clear();
        s.origin = Origin::Default;
        continue;
      }
    }
    if (d.fixed_size()) {
      if (bit + d.bits > limit) {
        why = fmt::format("{}.{} needs {} bytes, {} left", def.name, d.name, (d.bits + 7) / 8, (limit - bit) / 8);
        return false;
      }
      s.bit_size = d.bits;
      if (d.kind == FieldKind::UInt) {
        if (d.little_endian) {
          std::uint64_t v = 0;
          for (unsigned j = d.bits / 8; j-- > 0;) v = (v << 8) | data[bit / 8 + j];
          s.value.num = v;
        } else {
          s.value.num = get_bits(data, static_cast<std::uint32_t>(bit), d.bits);
        }
      } else {
        s.value.bytes.assign(reinterpret_cast<const char*>(data + bit / 8), d.bits / 8);
      }
      bit += d.bits;
      continue;
    }
    std::uint64_t left = (limit - bit) / 8, n = left;
    if (d.size_rule) {
      try {
        n = out.eval_read_rule(*d.size_rule, idx);
      } catch (const ScriptError& e) {
        why = fmt::format("{}.{}: size {}: {}", def.name, d.name, d.size_text, e.what());
        return false;
      }
      if (n > left) {
        why = fmt::format("{}.{} has size {} = {} bytes, but {} are left", def.name, d.name, d.size_text, n, left);
        return false;
      }
    }
    if (d.kind == FieldKind::Array && n % (d.bits / 8)) {
      why = fmt::format("{}.{} is {} bytes, not a whole number of u{} elements", def.name, d.name, n, d.bits);
      return false;
    }
    s.bit_size = static_cast<std::uint32_t>(n * 8);
    s.value.bytes.assign(reinterpret_cast<const char*>(data + bit / 8), n);
    bit += n * 8;
  }
  li.size = static_cast<std::uint32_t>(bit / 8) - pos;
  return true;
}

void Dissector::dissect(const std::uint8_t* data, std::size_t n, const std::vector<ReadBind>& first, Packet& out) {
  refresh();
  out.notes_.clear();
  out.finalized_ = true;  // read rules take the values as read
  if (n > (256u << 20)) {
    out.add_note(fmt::format("{} bytes is more than the 256 MiB limit; the rest is cut", n));
    n = 256u << 20;
  }
  std::uint32_t pos = 0, end = static_cast<std::uint32_t>(n);
  std::size_t count = 0;
  const std::vector<ReadBind>* cands = &first;
  std::string why, why_layer;
  std::string lower_desc = "the link type";
  while (pos < end) {
    bool ok = false;
    why.clear();
    if (out.layers_.size() <= count) out.layers_.emplace_back();
    for (const ReadBind& c : *cands) {
      LayerInst& li = out.layers_[count];
      if (li.def != c.upper) li.def = c.upper;
      std::string w;
      if (!read_layer(*c.upper, data, pos, end, count, out, w)) {
        if (why.empty()) why = std::move(w), why_layer = c.upper->name;
        continue;
      }
      if (c.when) {
        bool on = false;
        try {
          on = out.eval_read_rule(*c.when, count) != 0;
        } catch (const ScriptError&) {
        }
        if (!on) continue;
      }
      ok = true;
      break;
    }
    if (!ok) {
      if (!why.empty()) out.add_note(fmt::format("{}: {}; the rest ({} bytes) is raw", why_layer, why, end - pos));
      if (!raw_) {
        out.add_note("no raw layer is declared; the rest is a trailer");
        if (count == 0) break;
        out.layers_[count - 1].trailer.assign(reinterpret_cast<const char*>(data + pos), end - pos);
        pos = end;
        break;
      }
      LayerInst& li = out.layers_[count];
      if (li.def != raw_) li.def = raw_;
      std::string w;
      read_layer(*raw_, data, pos, end, count, out, w);
      pos += li.size;
      ++count;
      break;
    }
    LayerInst& li = out.layers_[count];
    const LayerDef& def = *li.def;
    pos += li.size;
    ++count;
    if (def.payload_size) {
      std::uint64_t want = 0;
      bool have = true;
      try {
        want = out.eval_read_rule(*def.payload_size, count - 1);
      } catch (const ScriptError& e) {
        out.add_note(fmt::format("{}: payload size {}: {}", def.name, def.payload_text, e.what()));
        have = false;
      }
      if (have && want > end - pos) {
        out.add_note(fmt::format("{}: payload size {} is {} bytes, but {} are left", def.name, def.payload_text, want, end - pos));
      } else if (have && want < end - pos) {
        li.trailer.assign(reinterpret_cast<const char*>(data + pos + want), end - pos - want);
        end = pos + static_cast<std::uint32_t>(want);
      }
    }
    if (pos >= end) break;
    // The next layer: every binding from this one whose field holds its
    // value; the lowest value first (the lower port, as Wireshark does).
    const std::vector<ReadBind>& binds = next_of(li.def);
    cands_.clear();
    for (const ReadBind& b : binds) {
      const FieldSlot& s = li.fields[b.field];
      if (s.present && s.value == b.value) cands_.push_back(b);
    }
    if (cands_.size() > 1)
      std::stable_sort(cands_.begin(), cands_.end(), [](const ReadBind& a, const ReadBind& b) { return a.value.num < b.value.num; });
    for (const ReadBind& b : cands_)
      if (li.selector < 0) li.selector = static_cast<int>(b.field);
    thread_local std::vector<ReadBind> next;
    next.swap(cands_);
    cands = &next;
    if (next.empty()) cands = &next;  // nothing bound: the loop makes the rest raw
  }
  out.layers_.resize(count);
  // The packet as the graph lays it out: the same bytes, fields in place.
  out.buf_.assign(data, data + n);
  out.field_base_.resize(count);
  std::size_t flat = 0;
  for (std::size_t l = 0; l < count; ++l) {
    out.field_base_[l] = flat;
    flat += out.layers_[l].fields.size();
  }
  std::uint32_t layers_end = count ? out.layers_[count - 1].offset + out.layers_[count - 1].size : 0;
  std::uint64_t e = layers_end;
  for (std::size_t l = count; l-- > 0;) {
    out.layers_[l].payload_end = static_cast<std::uint32_t>(e);
    e += out.layers_[l].trailer.size();
  }
  if (e < n) {
    // Bytes no layer took (only when no raw layer is declared).
    out.buf_.resize(e);
  }
  out.state_.assign(flat, 2);
  out.sums_.assign(flat, 0);
  out.deps_.reset();
  ++out.layout_version_;
  out.finalized_ = true;
}

Packet Dissector::dissect(const std::uint8_t* data, std::size_t n, const std::vector<ReadBind>& first) {
  Packet p;
  dissect(data, n, first, p);
  return p;
}

std::vector<OptionElem> read_options(const Registry& reg, const LayerDef& layer, const FieldDef& field,
                                     const std::string& bytes, std::uint32_t at) {
  std::vector<OptionElem> out;
  auto opts = reg.options_of(layer.name, field.name);
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::uint32_t n = static_cast<std::uint32_t>(bytes.size());
  Dissector dis(reg);
  Packet p;
  std::uint32_t pos = 0;
  while (pos < n) {
    OptionElem el;
    for (auto& od : opts) {
      const FieldDef& tag = od->fields[0];
      bool tagged = tag.has_default && !tag.auto_rule && tag.fixed_size();
      if (tagged) {
        if (std::uint64_t(pos) * 8 + tag.bits > std::uint64_t(n) * 8) continue;
        if (tag.kind == FieldKind::UInt && get_bits(data, pos * 8, tag.bits) != tag.default_value.num) continue;
        if (tag.kind != FieldKind::UInt && bytes.compare(pos, tag.bits / 8, tag.default_value.bytes) != 0) continue;
      }
      std::string why;
      if (!dis.read_one(od, data, pos, n, p, why)) continue;
      // An option whose length rule disagrees with its bytes does not fit.
      p.resolve_wire_origins();
      bool agrees = true;
      const LayerInst& li = p.layers()[0];
      for (std::size_t f = 0; f < li.fields.size(); ++f)
        if (li.fields[f].origin == Origin::Wire && od->fields[f].auto_rule && rule_has_len(*od->fields[f].auto_rule)) agrees = false;
      if (!agrees || li.size == 0) continue;
      el.def = tagged ? od : nullptr;
      el.offset = pos;
      el.size = li.size;
      break;
    }
    if (el.size == 0) {
      el.def = nullptr;
      el.offset = pos;
      el.size = n - pos;
    }
    out.push_back(el);
    pos += el.size;
  }
  // Padding at the end that alignment would add back is left out.
  if (field.align > 1) {
    while (!out.empty()) {
      const OptionElem& last = out.back();
      if (field.padded_size(at, last.offset) != n) break;
      if (bytes.compare(last.offset, n - last.offset, field.pad_fill(n - last.offset)) != 0) break;
      out.pop_back();
    }
  }
  return out;
}

Packet option_packet(const Registry& reg, const OptionElem& elem, const std::string& bytes) {
  Dissector dis(reg);
  Packet p;
  std::string why;
  dis.read_one(elem.def, reinterpret_cast<const std::uint8_t*>(bytes.data()), elem.offset, elem.offset + elem.size, p, why);
  p.resolve_wire_origins();
  return p;
}

}  // namespace pkt
