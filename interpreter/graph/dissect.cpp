#include "dissect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace pkt {

namespace {

// Big-endian bits [bitoff, bitoff + bits) of data; the caller checked the bounds.
inline __attribute__((always_inline)) std::uint64_t get_bits(const std::uint8_t* data, std::uint32_t bitoff, unsigned bits) {
  const std::uint8_t* p = data + (bitoff >> 3);
  const unsigned skip = bitoff & 7;
  if (skip == 0) {
    if (bits == 8) return p[0];
    if (bits == 16) return (std::uint64_t(p[0]) << 8) | p[1];
    if (bits == 32) return (std::uint64_t(p[0]) << 24) | (std::uint64_t(p[1]) << 16) | (std::uint64_t(p[2]) << 8) | p[3];
  }
  if (skip + bits <= 64) {
    const unsigned nbytes = (skip + bits + 7) / 8;
    std::uint64_t v = 0;
    for (unsigned k = 0; k < nbytes; ++k) v = (v << 8) | p[k];
    v >>= nbytes * 8 - skip - bits;
    return bits >= 64 ? v : v & ((1ULL << bits) - 1);
  }
  std::uint64_t v = 0;
  for (unsigned k = 0; k < bits; ++k) {
    std::uint32_t bit = bitoff + k;
    v = (v << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1u);
  }
  return v;
}

}  // namespace

// Follows a name with compression pointers (RFC 1035 4.1.4) through the
// message: each pointer must point before the start of the labels it ends
// (the name's start, then where the last pointer led), so the starts only
// go down and there is no loop; at most 64 pointers, 255 bytes in all.
bool follow_name(const std::uint8_t* msg, std::uint32_t len, std::uint32_t pos, std::string& why,
                 std::vector<std::string_view>* labels) {
  std::uint32_t total = 0, jumps = 0, start = pos;
  while (true) {
    if (pos >= len) {
      why = fmt::format("the name runs past the end of the message (at byte {})", pos);
      return false;
    }
    unsigned b = msg[pos];
    if (b == 0) return true;
    if ((b & 0xc0) == 0xc0) {
      if (pos + 1 >= len) {
        why = "a compression pointer runs past the end of the message";
        return false;
      }
      std::uint32_t off = ((b & 0x3fu) << 8) | msg[pos + 1];
      if (off >= start) {
        why = fmt::format("the compression pointer at byte {} points to byte {}, not before the labels it ends (byte {}): a loop",
                          pos, off, start);
        return false;
      }
      start = off;
      if (++jumps > 64) {
        why = "the name follows more than 64 compression pointers";
        return false;
      }
      pos = off;
      continue;
    }
    if (b & 0xc0) {
      why = fmt::format("a label length byte 0x{:02x} at byte {} is neither a length (at most 63) nor a pointer", b, pos);
      return false;
    }
    if (labels && pos + 1 + b <= len) labels->emplace_back(reinterpret_cast<const char*>(msg + pos + 1), b);
    total += 1 + b;
    if (total + 1 > 255) {
      why = "the name, its compression pointers followed, is longer than 255 bytes";
      return false;
    }
    pos += 1 + b;
  }
}

namespace {

bool rule_has_len(const AutoExpr& e) {
  if (e.op == AutoExpr::Op::Len) return true;
  for (auto& a : e.args)
    if (rule_has_len(a)) return true;
  return false;
}

// A read rule over the numbers of one layer being read: the common forms
// (numbers, fields, arithmetic, comparisons) directly; the rest through
// Packet::eval_read_rule. Sets `ok` false where that one is needed.
std::uint64_t quick_rule(const AutoExpr& e, const std::vector<LayerInst>& layers, std::size_t idx, bool& ok) {
  const LayerInst& li = layers[idx];
  using Op = AutoExpr::Op;
  switch (e.op) {
    case Op::Int: return e.i;
    case Op::Field: {
      const FieldSlot& s = li.fields[e.index];
      if (li.def->fields[e.index].kind != FieldKind::UInt) { ok = false; return 0; }
      return s.present ? s.value.num : 0;
    }
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Eq: case Op::Ne: case Op::Lt: case Op::Le:
    case Op::Gt: case Op::Ge: case Op::BitAnd: case Op::And: case Op::Or: {
      std::uint64_t a = quick_rule(e.args[0], layers, idx, ok), b = quick_rule(e.args[1], layers, idx, ok);
      switch (e.op) {
        case Op::Add: if (a + b < a) ok = false; return a + b;
        case Op::Sub: if (b > a) ok = false; return a - b;
        case Op::Mul: if (a && b > ~0ULL / a) ok = false; return a * b;
        case Op::Div: if (b == 0) { ok = false; return 0; } return a / b;
        case Op::Eq: return a == b;
        case Op::Ne: return a != b;
        case Op::Lt: return a < b;
        case Op::Le: return a <= b;
        case Op::Gt: return a > b;
        case Op::Ge: return a >= b;
        case Op::BitAnd: return a & b;
        case Op::And: return a && b;
        default: return a || b;
      }
    }
    case Op::Not: return quick_rule(e.args[0], layers, idx, ok) ? 0 : 1;
    case Op::LowerField:
      // LAYER.FIELD: the nearest layer of that name below; its field's index
      // is looked up once per definition.
      for (std::size_t k = idx; k-- > 0;) {
        const LayerDef* d = layers[k].def.get();
        if (d != e.cache_def) {
          if (d->name != e.s) continue;
          e.cache_def = d;
          e.cache_field = d->field_index(e.s2);
        }
        if (e.cache_field < 0 || d->fields[e.cache_field].kind != FieldKind::UInt) break;
        return layers[k].fields[e.cache_field].value.num;
      }
      ok = false;
      return 0;
    default: ok = false; return 0;
  }
}

// "tcp.ack needs 4 bytes, 1 left"
std::string needs(const LayerDef& def, std::size_t f, unsigned bits, std::uint64_t left_bits) {
  unsigned n = (bits + 7) / 8;
  return fmt::format("{}.{} needs {} byte{}, {} left", def.name, def.fields[f].name, n, n == 1 ? "" : "s", left_bits / 8);
}

// Copies bytes into a field's value, in place when the size is unchanged
// (the next packet of a capture usually has the same layout).
inline void set_bytes(std::string& out, const std::uint8_t* p, std::size_t n) {
  if (out.size() == n) {
    char* d = out.data();
    if (n <= 16) {
      for (std::size_t k = 0; k < n; ++k) d[k] = static_cast<char>(p[k]);  // addresses: no call
    } else {
      std::memcpy(d, p, n);
    }
  } else {
    out.assign(reinterpret_cast<const char*>(p), n);
  }
}

// A linear rule's value; false when it is negative (the slow path says why).
inline bool linear_value(const LinearRule& r, const LayerInst& li, std::uint64_t& out) {
  std::int64_t v = r.k;
  for (auto& [f, c] : r.terms) v += c * static_cast<std::int64_t>(li.fields[f].value.num);
  if (v < 0) return false;
  out = static_cast<std::uint64_t>(v);
  return true;
}

// A read rule's value for layer idx of out; errors (a negative size) throw.
std::uint64_t read_rule(const AutoExpr& e, const Packet& out, std::size_t idx) {
  bool ok = true;
  std::uint64_t v = quick_rule(e, out.layers(), idx, ok);
  return ok ? v : out.eval_read_rule(e, idx);
}

}  // namespace

std::vector<ReadBind> Dissector::first_for_linktype(std::uint32_t linktype) const {
  std::vector<ReadBind> out;
  auto binds = reg_.reads_from("pcap");
  for (auto& b : *binds)
    if (b.value.num == linktype) out.push_back(b);
  if (out.empty())
    if (auto raw = reg_.layer("raw")) {
      ReadBind b;
      b.upper = std::move(raw);
      b.note = fmt::format("no layer is bound to pcap.linktype = {}: read as raw (--first LAYER, or bind pcap.linktype = {} -> LAYER)",
                           linktype, linktype);
      out.push_back(std::move(b));
    }
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

const Dissector::NextTable& Dissector::next_of(const LayerDef* def) {
  refresh();
  for (auto& [d, t] : next_)
    if (d == def) return *t;
  auto t = std::make_unique<NextTable>();
  t->binds = reg_.reads_from(def->name);
  for (const ReadBind& b : *t->binds) {
    if (b.field == kNoField) {
      t->always.push_back(&b);
      continue;
    }
    if (def->fields[b.field].kind != FieldKind::UInt) {
      t->other.push_back(&b);
      continue;
    }
    auto it = std::find_if(t->by_field.begin(), t->by_field.end(), [&](auto& x) { return x.first == b.field; });
    if (it == t->by_field.end()) it = t->by_field.insert(t->by_field.end(), {b.field, {}});
    it->second.push_back({b.value.num, &b});
  }
  for (auto& [f, entries] : t->by_field)
    std::stable_sort(entries.begin(), entries.end(), [](const NextTable::Entry& a, const NextTable::Entry& b) { return a.value < b.value; });
  next_.emplace_back(def, std::move(t));
  return *next_.back().second;
}

bool Dissector::read_list(const LayerDef& def, std::size_t f, const std::uint8_t* data, std::uint32_t start,
                          std::uint32_t stop, std::uint64_t want, const std::uint8_t* msg, std::uint32_t msg_len,
                          std::uint32_t& end, std::uint64_t& got, std::string& why) {
  const FieldDef& fd = def.fields[f];
  const bool counted = want != ~0ULL, marked = !fd.until.empty();
  auto opts = reg_.options_of(def.name, fd.name);
  Dissector dis(reg_);
  dis.msg_ = msg;
  dis.msg_len_ = msg_len;
  Packet one;
  std::uint32_t p = start;
  got = 0;
  for (bool ended = false; counted ? got < want : marked ? !ended : p < stop; ++got) {
    if (p >= stop) {
      why = counted ? fmt::format("{}.{} has count {} = {}, but the bytes end after {}", def.name, fd.name, fd.count_text, want, got)
                    : fmt::format("{}.{} runs past the end without its '{}'", def.name, fd.name, fd.until);
      return false;
    }
    std::string w;
    OptionElem el = match_option(opts, data, p, stop, dis, one, &w);
    if (!el.size) {
      why = fmt::format("{}.{}: element {} (at byte {}) is none of its options{}", def.name, fd.name, got + 1, p - start,
                        w.empty() ? ", or runs past the end" : ": " + w);
      return false;
    }
    if (marked && el.def && el.def->name == fd.until) ended = true;
    p += el.size;
  }
  end = p;
  return true;
}

bool Dissector::read_layer(const LayerDef& def, const std::uint8_t* data, std::uint32_t pos, std::uint32_t end,
                           std::size_t idx, Packet& out, std::string& why) {
  LayerInst& li = out.layers_[idx];
  // Slots that held this definition's fields last time (the next packet of
  // a capture) need no clearing of the half of a value a field does not use.
  const bool fresh = li.slots_def != &def;
  li.slots_def = nullptr;  // until the whole layer is read
  li.fields.resize(def.fields.size());
  li.offset = pos;
  li.trailer.clear();
  li.selector = -1;
  std::uint64_t bit = std::uint64_t(pos) * 8;
  const std::uint64_t limit = std::uint64_t(end) * 8;
  const std::size_t nf = def.read_plan.size();
  for (std::size_t f = 0; f < nf; ++f) {
    if (def.read_plan[f].run > 1 && bit + def.read_plan[f].run_bits + 64 <= limit) {
      // A row of simple numbers with eight bytes to spare after it: no
      // bounds to check field by field.
      const std::size_t last = f + def.read_plan[f].run;
      for (; f < last; ++f) {
        FieldSlot& s = li.fields[f];
        const unsigned bits = def.read_plan[f].bits;
        s.origin = Origin::Wire;
        s.bit_offset = static_cast<std::uint32_t>(bit);
        if (fresh) {
          s.bit_size = bits;
          s.present = true;
          s.value.bytes.clear();
        }
        std::uint64_t w;
        std::memcpy(&w, data + (bit >> 3), 8);
        s.value.num = (__builtin_bswap64(w) << (bit & 7)) >> (64 - bits);
        bit += bits;
      }
      --f;
      continue;
    }
    FieldSlot& s = li.fields[f];
    const ReadField& d = def.read_plan[f];
    s.origin = Origin::Wire;
    s.bit_offset = static_cast<std::uint32_t>(bit);
    s.present = true;
    if (d.simple) {
      // A big-endian number with no condition: most fields of most layers.
      if (bit + d.bits > limit) {
        why = needs(def, f, d.bits, limit - bit);
        return false;
      }
      s.bit_size = d.bits;
      if (!s.value.bytes.empty()) s.value.bytes.clear();  // a slot reused from another layer
      const std::uint8_t* p = data + (bit >> 3);
      const unsigned skip = bit & 7;
      if (limit - (bit & ~std::uint64_t(7)) >= 64) {
        // Eight bytes are there: one load covers any field of up to 57 bits.
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        w = __builtin_bswap64(w);
        s.value.num = (w << skip) >> (64 - d.bits);
      } else {
        s.value.num = get_bits(data, static_cast<std::uint32_t>(bit), d.bits);
      }
      bit += d.bits;
      continue;
    }
    if (d.cond) {
      bool on;
      try {
        on = read_rule(*d.cond, out, idx) != 0;
      } catch (const ScriptError& e) {
        why = fmt::format("{}.{}: {}", def.name, def.fields[f].name, e.what());
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
    if (d.fixed) {
      if (bit + d.bits > limit) {
        why = needs(def, f, d.bits, limit - bit);
        return false;
      }
      s.bit_size = d.bits;
      // The slot may hold another candidate layer's value: clear the half not read.
      if (d.kind == FieldKind::UInt) {
        if (!s.value.bytes.empty()) s.value.bytes.clear();
        if (d.little_endian) {
          std::uint64_t v = 0;
          for (unsigned j = d.bits / 8; j-- > 0;) v = (v << 8) | data[bit / 8 + j];
          s.value.num = v;
        } else {
          s.value.num = get_bits(data, static_cast<std::uint32_t>(bit), d.bits);
        }
      } else {
        s.value.num = 0;
        set_bytes(s.value.bytes, data + bit / 8, d.bits / 8);
      }
      bit += d.bits;
      continue;
    }
    std::uint64_t left = (limit - bit) / 8, n = left;
    if (d.count || d.until) {
      // A list that ends after a count of options, or at a marker option.
      const FieldDef& fd = def.fields[f];
      std::uint64_t want = ~0ULL;
      if (d.count) {
        try {
          want = read_rule(*d.count, out, idx);
        } catch (const ScriptError& e) {
          why = fmt::format("{}.{}: count {}: {}", def.name, fd.name, fd.count_text, e.what());
          return false;
        }
      }
      const std::uint32_t start = static_cast<std::uint32_t>(bit / 8);
      std::uint32_t p = 0;
      std::uint64_t got = 0;
      if (!read_list(def, f, data, start, static_cast<std::uint32_t>(limit / 8), want, msg_ ? msg_ : data + li.offset,
                     msg_ ? msg_len_ : static_cast<std::uint32_t>(limit / 8) - li.offset, p, got, why))
        return false;
      s.bit_size = (p - start) * 8;
      set_bytes(s.value.bytes, data + start, p - start);
      s.value.num = got;
      bit = std::uint64_t(p) * 8;
      continue;
    }
    if (d.self_sized && !d.size) {
      const FieldDef& fd = def.fields[f];
      std::string w;
      n = fd.type().read_size(data + bit / 8, left, w);
      if (!n) {
        why = fmt::format("{}.{}: {}", def.name, fd.name, w);
        return false;
      }
      const std::uint8_t* at = data + bit / 8;
      if (msg_ && n >= 2 && (at[n - 2] & 0xc0) == 0xc0 && at >= msg_ && at < msg_ + msg_len_ &&
          !follow_name(msg_, msg_len_, static_cast<std::uint32_t>(at - msg_), w)) {
        why = fmt::format("{}.{}: {}", def.name, fd.name, w);
        return false;
      }
    }
    if (d.size && !(d.size_linear.ok && linear_value(d.size_linear, li, n))) {
      const FieldDef& fd = def.fields[f];
      try {
        n = read_rule(*d.size, out, idx);
      } catch (const ScriptError& e) {
        why = fmt::format("{}.{}: size {}: {}", def.name, fd.name, fd.size_text, e.what());
        return false;
      }
    }
    if (d.size && n > left) {
      const FieldDef& fd = def.fields[f];
      why = fmt::format("{}.{} has size {} = {} bytes, but {} are left", def.name, fd.name, fd.size_text, n, left);
      return false;
    }
    if (d.strict && n) {
      // A strict list: split option by option now; bytes that are none of
      // its options make the layer not fit (raw with a note).
      const std::uint32_t start = static_cast<std::uint32_t>(bit / 8);
      std::uint32_t p = 0;
      std::uint64_t got = 0;
      if (!read_list(def, f, data, start, start + static_cast<std::uint32_t>(n), ~0ULL, msg_ ? msg_ : data + li.offset,
                     msg_ ? msg_len_ : static_cast<std::uint32_t>(limit / 8) - li.offset, p, got, why))
        return false;
      s.bit_size = static_cast<std::uint32_t>(n * 8);
      set_bytes(s.value.bytes, data + start, n);
      s.value.num = got;
      bit += n * 8;
      continue;
    }
    if (d.kind == FieldKind::Array && n % (d.bits / 8)) {
      why = fmt::format("{}.{} is {} bytes, not a whole number of u{} elements", def.name, def.fields[f].name, n, d.bits);
      return false;
    }
    s.bit_size = static_cast<std::uint32_t>(n * 8);
    s.value.num = 0;
    set_bytes(s.value.bytes, data + bit / 8, n);
    bit += n * 8;
  }
  li.size = static_cast<std::uint32_t>(bit / 8) - pos;
  li.slots_def = &def;
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
  cands_.clear();
  for (const ReadBind& b : first) cands_.push_back(&b);
  std::string why, why_layer;
  std::string lower_desc = "the link type";
  while (pos < end) {
    bool ok = false;
    why.clear();
    if (out.layers_.size() <= count) out.layers_.emplace_back();
    for (const ReadBind* cp : cands_) {
      const ReadBind& c = *cp;
      LayerInst& li = out.layers_[count];
      if (li.def != c.upper) li.def = c.upper;
      std::string w;
      msg_ = data + pos;
      msg_len_ = end - pos;
      bool fits = read_layer(*c.upper, data, pos, end, count, out, w);
      msg_ = nullptr;
      if (!fits) {
        if (why.empty()) why = std::move(w), why_layer = c.upper->name;
        continue;
      }
      if (c.when) {
        bool on = false;
        try {
          on = read_rule(*c.when, out, count) != 0;
        } catch (const ScriptError&) {
        }
        if (!on) {
          if (why.empty()) why = fmt::format("`when {}` is false", c.when_text), why_layer = c.upper->name;
          continue;
        }
      }
      ok = true;
      if (!c.note.empty()) out.add_note(c.note);
      break;
    }
    if (!ok) {
      if (!why.empty()) {
        bool named = why.compare(0, why_layer.size() + 1, why_layer + ".") == 0;
        out.add_note(fmt::format("{}{}; the rest ({} bytes) is raw", named ? "" : why_layer + ": ", why, end - pos));
      }
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
        if (!(def.payload_linear.ok && linear_value(def.payload_linear, li, want))) want = read_rule(*def.payload_size, out, count - 1);
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
    const NextTable& table = next_of(li.def.get());
    cands_.clear();
    for (const auto& [field, entries] : table.by_field) {
      const FieldSlot& s = li.fields[field];
      if (!s.present) continue;
      const std::uint64_t v = s.value.num;
      auto e = std::lower_bound(entries.begin(), entries.end(), v,
                                [](const NextTable::Entry& x, std::uint64_t y) { return x.value < y; });
      for (; e != entries.end() && e->value == v; ++e) cands_.push_back(e->bind);
    }
    for (const ReadBind* b : table.other) {
      const FieldSlot& s = li.fields[b->field];
      if (s.present && s.value == b->value) cands_.push_back(b);
    }
    if (cands_.size() > 1 && table.by_field.size() + table.other.size() > 1)
      std::stable_sort(cands_.begin(), cands_.end(), [](const ReadBind* a, const ReadBind* b) { return a->value.num < b->value.num; });
    for (const ReadBind* b : table.always) cands_.push_back(b);
    if (!cands_.empty() && cands_.front()->field != kNoField) li.selector = static_cast<int>(cands_.front()->field);
    // With no candidate, the loop makes the rest raw.
  }
  if (out.layers_.size() != count) out.layers_.resize(count);
  // The packet as the graph lays it out: the same bytes, fields in place.
  out.buf_.assign(data, data + n);
  if (out.field_base_.size() != count) out.field_base_.resize(count);
  std::size_t flat = 0;
  bool trailers = false;
  for (std::size_t l = 0; l < count; ++l) {
    out.field_base_[l] = flat;
    flat += out.layers_[l].fields.size();
    trailers = trailers || !out.layers_[l].trailer.empty();
  }
  std::uint32_t layers_end = count ? out.layers_[count - 1].offset + out.layers_[count - 1].size : 0;
  std::uint64_t e = layers_end;
  if (!trailers) {
    for (std::size_t l = 0; l < count; ++l) out.layers_[l].payload_end = layers_end;
  } else {
    for (std::size_t l = count; l-- > 0;) {
      out.layers_[l].payload_end = static_cast<std::uint32_t>(e);
      e += out.layers_[l].trailer.size();
    }
  }
  if (e < n) {
    // Bytes no layer took (only when no raw layer is declared).
    out.buf_.resize(e);
  }
  // All fields are as read (state 2, done). The cached sums only serve auto
  // fields, and resolve_wire_origins computes those it makes auto.
  if (out.state_.size() != flat) out.state_.assign(flat, 2);
  if (out.sums_.size() != flat) out.sums_.assign(flat, 0);
  out.deps_.reset();
  ++out.layout_version_;
  out.finalized_ = true;
}

Packet Dissector::dissect(const std::uint8_t* data, std::size_t n, const std::vector<ReadBind>& first) {
  Packet p;
  dissect(data, n, first, p);
  return p;
}

OptionElem match_option(const std::vector<std::shared_ptr<const LayerDef>>& opts, const std::uint8_t* data,
                        std::uint32_t pos, std::uint32_t n, Dissector& dis, Packet& p, std::string* why_out) {
  OptionElem el;
  bool any_tagged = false;
  for (auto& od : opts) {
    const FieldDef& tag = od->fields[0];
    if (tag.has_default && !tag.auto_rule && tag.fixed_size()) any_tagged = true;
  }
  for (auto& od : opts) {
    const FieldDef& tag = od->fields[0];
    bool tagged = tag.has_default && !tag.auto_rule && tag.fixed_size();
    if (tagged) {
      if (std::uint64_t(pos) * 8 + tag.bits > std::uint64_t(n) * 8) continue;
      if (tag.kind == FieldKind::UInt && get_bits(data, pos * 8, tag.bits) != tag.default_value.num) continue;
      if (tag.kind != FieldKind::UInt &&
          std::memcmp(data + pos, tag.default_value.bytes.data(), tag.bits / 8) != 0) continue;
    }
    std::string why;
    if (!dis.read_one(od, data, pos, n, p, why)) {
      if (why_out && why_out->empty()) *why_out = why;
      continue;
    }
    // An option whose length rule disagrees with its bytes does not fit.
    p.resolve_wire_origins();
    bool agrees = true;
    const LayerInst& li = p.layers()[0];
    for (std::size_t f = 0; f < li.fields.size() && agrees; ++f)
      if (li.fields[f].origin == Origin::Wire && od->fields[f].auto_rule && rule_has_len(*od->fields[f].auto_rule)) {
        agrees = false;
        // Why, for a note or an error: "shutdown.length is 0, but len(this) gives 8".
        if (why_out && why_out->empty() && od->fields[f].kind == FieldKind::UInt) {
          try {
            *why_out = fmt::format("{}.{} is {}, but {} gives {}", od->name, od->fields[f].name, li.fields[f].value.num,
                                   od->fields[f].auto_text, p.computed_value(0, f).num);
          } catch (const ScriptError&) {
          }
        }
      }
    if (!agrees || li.size == 0) continue;
    // A generic option (no tag) stands for bytes of any other kind, unless
    // the list has only generic ones (records such as DNS questions).
    el.def = tagged || !any_tagged ? od : nullptr;
    el.offset = pos;
    el.size = li.size;
    break;
  }
  return el;
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
    OptionElem el = match_option(opts, data, pos, n, dis, p);
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
