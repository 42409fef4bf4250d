#include "packet.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <span>

#include "checksum.hpp"
#include "route.hpp"

namespace pkt {

const char* origin_name(Origin o) {
  switch (o) {
    case Origin::Default: return "default";
    case Origin::Bound: return "bound";
    case Origin::User: return "user";
    case Origin::Auto: return "auto";
    case Origin::Wire: return "wire";
    case Origin::Route: return "route";
  }
  return "?";
}

// How an auto field depends on the rest of the packet, built once per
// layout: the fields it reads by value, and the byte regions it reads as
// content. When its rule is a single inet_checksum over regions, a change
// inside them is applied to a cached sum (RFC 1624) instead of a full pass.
struct AutoDep {
  std::size_t layer = 0, field = 0, flat = 0;
  std::vector<std::size_t> value_deps;  // flat indices
  struct Seg { std::uint32_t begin, end, stream; };
  std::vector<Seg> content;             // byte regions read as content
  bool incremental = false;             // content feeds one inet_checksum only
  // The rule around the checksum: 1 = the checksum itself, 2 = nonzero(checksum, alt), 0 = other.
  int wrap = 0;
  std::uint64_t alt = 0;
};

// Dependencies of a whole packet, and for each field (by flat index) the
// auto fields a change to it affects.
struct DepTable {
  std::vector<AutoDep> deps;
  struct Hit { std::uint32_t dep; bool by_value; };
  std::vector<std::vector<Hit>> affected;
  // For each field, every auto field its change can reach (through the
  // auto fields it changes), each before those it reaches in turn: the
  // order in which one change is carried through, each auto field once.
  std::vector<std::vector<std::uint32_t>> order;
};

namespace {

// An evaluated auto-rule value: a number, bytes, or a region of the packet.
struct Val {
  enum class T : std::uint8_t { Int, Bytes, Region } t = T::Int;
  std::uint64_t i = 0;
  std::string b;
  std::uint32_t rb = 0, re = 0;
  std::size_t size() const { return t == T::Region ? re - rb : b.size(); }
};

void put_bits(std::uint8_t* buf, std::uint32_t bitoff, unsigned bits, std::uint64_t v) {
  if ((bitoff & 7) == 0 && (bits & 7) == 0) {
    std::uint8_t* p = buf + (bitoff >> 3);
    for (int k = static_cast<int>(bits) - 8, j = 0; k >= 0; k -= 8, ++j) p[j] = static_cast<std::uint8_t>(v >> k);
    return;
  }
  for (unsigned k = 0; k < bits; ++k) {
    std::uint32_t bit = bitoff + k;
    std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit & 7));
    if ((v >> (bits - 1 - k)) & 1) buf[bit >> 3] |= mask;
    else buf[bit >> 3] &= static_cast<std::uint8_t>(~mask);
  }
}

// Bits a field takes, `at` bytes into its layer (alignment is layer-relative).
std::uint32_t slot_bytes_size(const FieldDef& d, const FieldValue& v, std::uint32_t at) {
  if (d.fixed_size()) return d.bits;
  return d.padded_size(at, v.bytes.size()) * 8;
}

bool uses_content(const AutoExpr& e, bool inside_len) {
  if (e.op == AutoExpr::Op::This || e.op == AutoExpr::Op::Payload || e.op == AutoExpr::Op::Upper) return !inside_len;
  bool in_len = inside_len || e.op == AutoExpr::Op::Len;
  for (auto& a : e.args)
    if (uses_content(a, in_len)) return true;
  return false;
}

// The fields of its own layer a rule names (and whether it reads `pseudo`),
// but for the nodes in `skip` and below them.
void collect_fields(const AutoExpr& e, std::vector<std::size_t>& out, bool& pseudo,
                    const std::vector<const AutoExpr*>* skip = nullptr) {
  if (skip && std::find(skip->begin(), skip->end(), &e) != skip->end()) return;
  if (e.op == AutoExpr::Op::Field || e.op == AutoExpr::Op::Present || e.op == AutoExpr::Op::Given || e.op == AutoExpr::Op::Bound ||
      e.op == AutoExpr::Op::Count)
    out.push_back(e.index);
  if (e.op == AutoExpr::Op::Pseudo) pseudo = true;
  for (auto& a : e.args) collect_fields(a, out, pseudo, skip);
}

int count_checksums(const AutoExpr& e) {
  int n = e.op == AutoExpr::Op::Checksum ? 1 : 0;
  for (auto& a : e.args) n += count_checksums(a);
  return n;
}

const AutoExpr* find_checksum(const AutoExpr& e) {
  if (e.op == AutoExpr::Op::Checksum) return &e;
  for (auto& a : e.args)
    if (auto* c = find_checksum(a)) return c;
  return nullptr;
}

}  // namespace

void Packet::push_layer(std::shared_ptr<const LayerDef> def, Pos pos) {
  LayerInst li;
  li.fields.resize(def->fields.size());
  for (std::size_t i = 0; i < def->fields.size(); ++i) {
    li.fields[i].value = def->fields[i].default_value;
    li.fields[i].origin = Origin::Default;
  }
  li.def = std::move(def);
  li.pos = pos;
  layers_.push_back(std::move(li));
  if (!pos_.src) pos_ = pos;
  finalized_ = false;
}

void Packet::stack(const Packet& upper, const Registry& reg) {
  if (!layers_.empty() && !upper.layers_.empty()) {
    LayerInst& lo = layers_.back();
    auto binds = reg.bindings(lo.def->name, upper.layers_.front().def->name);
    std::erase_if(binds, [](const Binding* b) { return b->field == kNoField; });  // `bind L -> U` sets nothing
    if (!binds.empty()) lo.selector = static_cast<int>(binds.front()->field);
    for (const Binding* b : binds) {
      FieldSlot& s = lo.fields[b->field];
      if (s.origin == Origin::Default) {
        s.value = b->value;
        s.origin = Origin::Bound;
      }
    }
  }
  for (auto& l : upper.layers_) layers_.push_back(l);
  if (!pos_.src) pos_ = upper.pos_;
  finalized_ = false;
}

int Packet::layer_index(const std::string& name) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].def->name == name) return static_cast<int>(i);
  return -1;
}

void Packet::set(std::size_t layer, std::size_t field, std::uint64_t v, Origin origin, Pos pos) {
  // The generator's hot path: a number into a fixed-size field of a finished packet.
  LayerInst& li = layers_.at(layer);
  const FieldDef& d = li.def->fields.at(field);
  FieldSlot& s = li.fields[field];
  bool deps_change = ((d.auto_rule != nullptr) && is_given(origin) != is_given(s.origin)) || d.shapes_layout;
  if (finalized_ && d.kind == FieldKind::UInt && !deps_change) {
    if (v > d.max())
      throw ScriptError(pos, fmt::format("{}={} is out of range: {} is {}", d.name, v, d.name, d.describe_type()));
    std::uint32_t b = s.bit_offset / 8, e = (s.bit_offset + s.bit_size + 7) / 8;
    std::uint8_t old[16];
    for (std::uint32_t k = b; k < e; ++k) old[k - b] = buf_[k];
    s.value.num = v;
    s.origin = origin;
    write_field(s, d);
    on_changed(field_base_[layer] + field, b, e, old);
    return;
  }
  FieldValue fv;
  fv.num = v;
  set(layer, field, std::move(fv), origin, pos);
}

void Packet::set(std::size_t layer, std::size_t field, FieldValue v, Origin origin, Pos pos) {
  LayerInst& li = layers_.at(layer);
  const FieldDef& d = li.def->fields.at(field);
  FieldSlot& s = li.fields[field];
  if (d.kind == FieldKind::UInt && v.num > d.max())
    throw ScriptError(pos, fmt::format("{}={} is out of range: {} is {}", d.name, v.num, d.name, d.describe_type()));
  if (d.padded && v.bytes.size() != d.padded && is_given(origin)) {
    // `size N padded`: a shorter value is sent with zeros after it.
    if (v.bytes.size() > d.padded)
      throw ScriptError(pos, fmt::format("{}.{} is {} bytes, but it has room for {}", li.def->name, d.name, v.bytes.size(), d.padded));
    v.bytes.resize(d.padded, '\0');
  }
  // A value handed to its rule (origin auto) is only a placeholder until the rule runs.
  if (d.fixed_size() && d.kind != FieldKind::UInt && v.bytes.size() != d.bits / 8 && !(d.auto_rule && is_computed(origin)))
    throw ScriptError(pos, fmt::format("{}.{} needs {} bytes, got {}", li.def->name, d.name, d.bits / 8, v.bytes.size()));
  bool deps_change = ((d.auto_rule != nullptr) && is_given(origin) != is_given(s.origin)) || d.shapes_layout;
  if (!finalized_ || slot_bytes_size(d, v, s.bit_offset / 8 - li.offset) != s.bit_size || deps_change) {
    if (!finalized_) {
      s.value = std::move(v);
      s.origin = origin;
      return;
    }
    // A new layout: if the packet cannot be finished with the new value, keep the old one.
    FieldValue old_value = s.value;
    Origin old_origin = s.origin;
    s.value = std::move(v);
    s.origin = origin;
    try {
      finalize();
    } catch (...) {
      FieldSlot& back = layers_[layer].fields[field];
      back.value = std::move(old_value);
      back.origin = old_origin;
      finalize();
      throw;
    }
    return;
  }
  std::uint32_t b = s.bit_offset / 8, e = (s.bit_offset + s.bit_size + 7) / 8;
  std::uint8_t old[64];
  std::string old_big;
  const std::uint8_t* oldp = old;
  if (e - b <= sizeof old) {
    if (e > b) std::memcpy(old, buf_.data() + b, e - b);  // a field of no bytes in an empty packet: nothing to keep
  }
  else { old_big.assign(reinterpret_cast<char*>(buf_.data() + b), e - b); oldp = reinterpret_cast<const std::uint8_t*>(old_big.data()); }
  s.value = std::move(v);
  s.origin = origin;
  write_field(s, d);
  on_changed(flat_index(layer, field), b, e, oldp);
}

Packet::FastPlan Packet::plan(std::size_t layer, std::size_t field) {
  FastPlan fp;
  if (!finalized_) return fp;
  if (!deps_) build_deps();
  const FieldDef& d = layers_.at(layer).def->fields.at(field);
  const FieldSlot& s = layers_[layer].fields[field];
  // A number, or a field of a few bytes (an IPv4 address) written as one.
  const bool as_bytes = d.kind != FieldKind::UInt;
  if (as_bytes && (!d.fixed_size() || d.bits > 64 || d.padded || s.bit_size != d.bits)) return fp;
  if (d.little_endian || s.bit_offset % 8 || d.bits % 8 || d.auto_rule || d.shapes_layout || !s.present) return fp;
  fp.layer = layer;
  fp.field = field;
  fp.byte = s.bit_offset / 8;
  fp.nbytes = d.bits / 8;
  fp.as_bytes = as_bytes;
  for (const DepTable::Hit& hit : deps_->affected[field_base_[layer] + field]) {
    const AutoDep& dep = deps_->deps[hit.dep];
    if (hit.by_value || !dep.incremental || dep.wrap == 0 || !deps_->affected[dep.flat].empty()) return fp;
    const FieldSlot& cs = layers_[dep.layer].fields[dep.field];
    if (cs.bit_offset % 8 || cs.bit_size != 16) return fp;
    const AutoDep::Seg* seg = nullptr;
    for (auto& sg : dep.content)
      if (fp.byte >= sg.begin && fp.byte + fp.nbytes <= sg.end) seg = &sg;
    if (!seg) return fp;
    fp.sums.push_back({dep.layer, dep.field, dep.flat, cs.bit_offset / 8, seg->begin, seg->stream, dep.wrap, dep.alt});
  }
  fp.valid = true;
  return fp;
}

void Packet::apply(const FastPlan& fp, std::uint64_t v) {
  std::uint8_t old[8], *p = buf_.data() + fp.byte;
  FieldValue& fv = layers_[fp.layer].fields[fp.field].value;
  if (!fp.as_bytes) fv.num = v;
  for (std::uint32_t j = 0; j < fp.nbytes; ++j) old[j] = p[j];
  for (std::uint32_t j = fp.nbytes; j-- > 0; v >>= 8) p[j] = static_cast<std::uint8_t>(v);
  if (fp.as_bytes) fv.bytes.assign(reinterpret_cast<const char*>(p), fp.nbytes);
  for (const auto& sm : fp.sums) {
    bool odd = ((sm.stream + (fp.byte - sm.seg_begin)) & 1) != 0;
    std::uint32_t sum = ones_sum_update(sums_[sm.flat], old, p, fp.nbytes, odd);
    sums_[sm.flat] = sum;
    std::uint64_t c = ones_checksum(sum);
    if (sm.wrap == 2 && c == 0) c = sm.alt;
    buf_[sm.byte] = static_cast<std::uint8_t>(c >> 8);
    buf_[sm.byte + 1] = static_cast<std::uint8_t>(c);
    layers_[sm.layer].fields[sm.field].value.num = c;
  }
}

namespace {

// The value of a read rule (size, if, when, payload size): numbers over the
// fields of one layer. `get(i)` gives field i's number, `has(i, false)`
// whether it has a value (`has(i, true)`: whether it was given, set or
// read), `bytes(i)` its length in bytes, `lower(layer, field)` a field
// of the nearest layer of that name below.
template <typename Get, typename Has, typename Size, typename Lower>
std::uint64_t eval_rule(const AutoExpr& e, Get& get, Has& has, Size& bytes, Lower& lower) {
  using Op = AutoExpr::Op;
  auto sub = [&](std::size_t k) { return eval_rule(e.args[k], get, has, bytes, lower); };
  switch (e.op) {
    case Op::Int: return e.i;
    case Op::Field: return get(e.index);
    case Op::Present: return has(e.index, false) ? 1 : 0;
    case Op::Given: return has(e.index, true) ? 1 : 0;
    case Op::LowerField: return lower(e.s, e.s2, e.pos);
    case Op::Len: {
      std::uint64_t n = 0;
      for (auto& a : e.args) {
        if (a.op != Op::Field) throw ScriptError(a.pos, "len() in a size or condition takes fields only");
        n += bytes(a.index);
      }
      return n;
    }
    case Op::Not: return sub(0) ? 0 : 1;
    case Op::Choose: return sub(0) ? sub(1) : sub(2);
    case Op::And: return sub(0) && sub(1) ? 1 : 0;
    case Op::Or: return sub(0) || sub(1) ? 1 : 0;
    case Op::Eq: return sub(0) == sub(1);
    case Op::Ne: return sub(0) != sub(1);
    case Op::Lt: return sub(0) < sub(1);
    case Op::Le: return sub(0) <= sub(1);
    case Op::Gt: return sub(0) > sub(1);
    case Op::Ge: return sub(0) >= sub(1);
    case Op::BitAnd: return sub(0) & sub(1);
    case Op::Nonzero: { std::uint64_t a = sub(0); return a ? a : sub(1); }
    case Op::Add: {
      std::uint64_t a = sub(0), b = sub(1);
      if (a + b < a) throw ScriptError(e.pos, fmt::format("{} + {} overflows 64 bits", a, b));
      return a + b;
    }
    case Op::Sub: {
      std::uint64_t a = sub(0), b = sub(1);
      if (b > a) throw ScriptError(e.pos, fmt::format("{} - {} is negative", a, b));
      return a - b;
    }
    case Op::Mul: {
      std::uint64_t a = sub(0), b = sub(1);
      if (a && b > ~0ULL / a) throw ScriptError(e.pos, fmt::format("{} * {} overflows 64 bits", a, b));
      return a * b;
    }
    case Op::Div: {
      std::uint64_t a = sub(0), b = sub(1);
      if (b == 0) throw ScriptError(e.pos, "division by zero");
      return a / b;
    }
    default: throw ScriptError(e.pos, "this rule needs the packet's bytes; a size or condition reads fields only");
  }
}

}  // namespace

std::uint64_t Packet::eval_read_rule(const AutoExpr& e, std::size_t l) const {
  const LayerInst& li = layers_[l];
  auto get = [&](std::size_t i) -> std::uint64_t {
    const FieldSlot& s = li.fields[i];
    const FieldDef& d = li.def->fields[i];
    if (!s.present) return 0;
    if (d.auto_rule && !is_given(s.origin) && s.origin != Origin::Bound && !finalized_) {
      // Not computed yet (a condition read while laying out): a rule over fields only.
      static thread_local int depth = 0;
      if (depth > 32) throw ScriptError(d.auto_rule->pos, fmt::format("the rule of {}.{} depends on itself", li.def->name, d.name));
      ++depth;
      try {
        std::uint64_t v = eval_read_rule(*d.auto_rule, l);
        --depth;
        return v;
      } catch (...) {
        --depth;
        throw;
      }
    }
    return d.kind == FieldKind::UInt ? s.value.num : s.value.bytes.size();
  };
  auto has = [&](std::size_t i, bool given) {
    const FieldSlot& s = li.fields[i];
    if (given) return is_given(s.origin);
    return s.origin != Origin::Default || li.def->fields[i].has_default;
  };
  auto bytes = [&](std::size_t i) -> std::uint64_t {
    const FieldSlot& s = li.fields[i];
    const FieldDef& d = li.def->fields[i];
    if (!s.present) return 0;
    return d.fixed_size() ? d.bits / 8 : s.bit_size / 8;
  };
  auto lower = [&](const std::string& layer, const std::string& field, Pos pos) -> std::uint64_t {
    for (std::size_t k = l; k-- > 0;) {
      if (layers_[k].def->name != layer) continue;
      int fi = layers_[k].def->field_index(field);
      if (fi < 0) break;
      const FieldSlot& s = layers_[k].fields[fi];
      return layers_[k].def->fields[fi].kind == FieldKind::UInt ? s.value.num : s.value.bytes.size();
    }
    throw ScriptError(pos, fmt::format("{}.{}: there is no {} layer below {}", layer, field, layer, li.def->name));
  };
  return eval_rule(e, get, has, bytes, lower);
}

void Packet::set_trailer(std::size_t layer, std::string bytes) {
  layers_.at(layer).trailer = std::move(bytes);
  finalized_ = false;
}

void Packet::layout() {
  field_base_.resize(layers_.size());
  std::uint64_t bit = 0;
  std::size_t flat = 0;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    LayerInst& li = layers_[l];
    field_base_[l] = flat;
    flat += li.fields.size();
    li.offset = static_cast<std::uint32_t>(bit / 8);
    for (std::size_t f = 0; f < li.fields.size(); ++f) {
      FieldSlot& s = li.fields[f];
      const FieldDef& d = li.def->fields[f];
      s.bit_offset = static_cast<std::uint32_t>(bit);
      s.present = !d.cond || eval_read_rule(*d.cond, l) != 0;
      s.bit_size = s.present ? slot_bytes_size(d, s.value, static_cast<std::uint32_t>(bit / 8) - li.offset) : 0;
      bit += s.bit_size;
    }
    li.size = static_cast<std::uint32_t>(bit / 8) - li.offset;
  }
  // Trailers follow all layers, innermost first; a layer's payload ends
  // before its own trailer and those of the layers below it.
  std::uint64_t end = bit / 8;
  for (std::size_t l = layers_.size(); l-- > 0;) {
    layers_[l].payload_end = static_cast<std::uint32_t>(std::min<std::uint64_t>(end, 0xffffffffu));
    end += layers_[l].trailer.size();
  }
  // Offsets are 32-bit counts of bits.
  if (end > (256u << 20)) throw ScriptError(pos_, fmt::format("the packet would be {} bytes; the limit is 256 MiB", end));
  ++layout_version_;
  buf_.assign(end, 0);
  std::size_t at = bit / 8;
  for (std::size_t l = layers_.size(); l-- > 0;) {
    const std::string& t = layers_[l].trailer;
    if (!t.empty()) std::memcpy(buf_.data() + at, t.data(), t.size());
    at += t.size();
  }
  state_.assign(flat, 2);
  sums_.assign(flat, 0);
  deps_.reset();
}

// After the rules have run: a field left out by its `if` must not hold a
// value the user gave, and a size rule must agree with its field unless the
// user (or the wire) set what the rule reads.
void Packet::check_sizes() const {
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const LayerInst& li = layers_[l];
    for (std::size_t f = 0; f < li.fields.size(); ++f) {
      const FieldSlot& s = li.fields[f];
      const FieldDef& d = li.def->fields[f];
      if (!s.present && s.origin == Origin::User)
        throw ScriptError(li.pos.src ? li.pos : pos_,
                          fmt::format("{}.{} is set, but its condition `if {}` is false, so it would not be sent; "
                                      "set what the condition reads, or leave {} unset", li.def->name, d.name, d.cond_text, d.name));
      if (!s.present || !d.size_rule) continue;
      std::vector<std::size_t> reads;
      bool dummy = false;
      collect_fields(*d.size_rule, reads, dummy);
      bool given = false;
      for (auto r : reads) given = given || is_given(li.fields[r].origin);
      if (given) continue;
      std::uint64_t want = eval_read_rule(*d.size_rule, l);
      if (want != s.bit_size / 8)
        throw ScriptError(li.pos.src ? li.pos : pos_,
                          fmt::format("{}.{} is {} bytes, but its size rule `size {}` gives {}; set the field it reads "
                                      "(or give it `= auto len({})`)", li.def->name, d.name, s.bit_size / 8, d.size_text, want, d.name));
    }
  }
}

void Packet::resolve_wire_origins() {
  if (!finalized_) finalize();
  // Innermost first, as finalize computes them: a field equal to what its
  // rule gives becomes Auto (editing the packet recomputes it).
  for (std::size_t l = layers_.size(); l-- > 0;) {
    LayerInst& li = layers_[l];
    for (std::size_t f = 0; f < li.fields.size(); ++f) {
      FieldSlot& s = li.fields[f];
      const FieldDef& d = li.def->fields[f];
      // A rule that asks the kernel is not run per packet read: the value stays wire.
      if (s.origin != Origin::Wire || !d.auto_rule || !s.present || d.asks_route) continue;
      const FieldValue saved = s.value;
      std::size_t flat = field_base_[l] + f;
      bool computed = true;
      try {
        evaluate_auto(l, f);
      } catch (const ScriptError&) {
        state_[flat] = 2;  // a rule that cannot run here (no ipv6 below ipv6_route): as read
        computed = false;
      }
      if (computed && s.value == saved) {
        s.origin = Origin::Auto;
      } else {
        s.value = saved;
        write_field(s, d);
      }
    }
  }
  deps_.reset();
}

void Packet::write_field(const FieldSlot& s, const FieldDef& d) {
  if (!s.present) return;
  if (d.kind == FieldKind::UInt) {
    if (d.little_endian) {
      std::uint8_t* p = buf_.data() + s.bit_offset / 8;
      for (unsigned j = 0; j < d.bits / 8; ++j) p[j] = static_cast<std::uint8_t>(s.value.num >> (8 * j));
    } else {
      put_bits(buf_.data(), s.bit_offset, d.bits, s.value.num);
    }
    return;
  }
  std::uint8_t* p = buf_.data() + s.bit_offset / 8;
  std::size_t n = s.bit_size / 8;
  std::size_t k = std::min(n, s.value.bytes.size());
  if (k) std::memcpy(p, s.value.bytes.data(), k);
  if (n > k) {
    if (d.pad_option) {
      std::string fill = d.pad_fill(n - k);
      std::memcpy(p + k, fill.data(), n - k);
    } else {
      std::memset(p + k, 0, n - k);
    }
  }
}

void Packet::finalize() {
  finalized_ = false;
  layout();
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    LayerInst& li = layers_[l];
    for (std::size_t f = 0; f < li.fields.size(); ++f) {
      FieldSlot& s = li.fields[f];
      const FieldDef& d = li.def->fields[f];
      if (d.auto_rule && !is_given(s.origin) && s.origin != Origin::Bound) {
        s.origin = d.asks_route ? Origin::Route : Origin::Auto;
        s.value = FieldValue{};
        state_[field_base_[l] + f] = 0;
      } else {
        write_field(s, d);
      }
    }
  }
  // Innermost layer first; within a layer, rules pull what they read.
  for (std::size_t l = layers_.size(); l-- > 0;)
    for (std::size_t f = 0; f < layers_[l].fields.size(); ++f)
      if (state_[field_base_[l] + f] == 0) evaluate_auto(l, f);
  finalized_ = true;
  check_sizes();
}

namespace {
struct Evaluator {
  const std::vector<LayerInst>& layers;
  std::vector<std::uint8_t>& buf;
  std::function<void(std::size_t, std::size_t)> ensure_field;   // evaluate an auto field if still to do
  std::function<void(std::size_t)> ensure_layer;                 // all auto fields of a layer
  std::uint32_t* cached_sum;
  std::uint32_t last_sum = 0;
  std::size_t asker = 0;  // in a pseudo-header: the layer asking for it

  [[noreturn]] void fail(const AutoExpr& e, const std::string& msg) { throw ScriptError(e.pos, msg); }

  std::uint64_t as_int(const AutoExpr& e, const Val& v) {
    if (v.t != Val::T::Int) fail(e, "expected a number here, got bytes");
    return v.i;
  }

  void append(std::string& out, const Val& v, const AutoExpr& e) {
    if (v.t == Val::T::Int) fail(e, "expected bytes here, got a number (use u8()..u64())");
    if (v.t == Val::T::Region) out.append(reinterpret_cast<const char*>(buf.data() + v.rb), v.re - v.rb);
    else out += v.b;
  }

  Val pseudo_of(std::size_t l, const AutoExpr& e) {
    for (std::size_t k = l; k-- > 0;) {
      if (layers[k].def->pseudo.empty()) continue;
      Val out;
      out.t = Val::T::Bytes;
      std::size_t saved = asker;
      asker = l;
      for (auto& part : layers[k].def->pseudo) append(out.b, eval(part, k, false), part);
      asker = saved;
      return out;
    }
    Val none;
    none.t = Val::T::Bytes;
    return none;
  }

  Val eval(const AutoExpr& e, std::size_t l, bool size_only) {
    using Op = AutoExpr::Op;
    Val v;
    switch (e.op) {
      case Op::Int: v.i = e.i; return v;
      case Op::Bytes: v.t = Val::T::Bytes; v.b = e.s; return v;
      case Op::Field: {
        ensure_field(l, e.index);
        const FieldSlot& s = layers[l].fields[e.index];
        const FieldDef& d = layers[l].def->fields[e.index];
        if (d.kind == FieldKind::UInt) { v.i = s.present ? s.value.num : 0; return v; }
        v.t = Val::T::Region;
        v.rb = s.bit_offset / 8;
        v.re = v.rb + s.bit_size / 8;
        return v;
      }
      case Op::This:
        if (!size_only) ensure_layer(l);
        v.t = Val::T::Region; v.rb = layers[l].offset; v.re = layers[l].offset + layers[l].size;
        return v;
      case Op::Payload:
        if (!size_only) for (std::size_t k = l + 1; k < layers.size(); ++k) ensure_layer(k);
        v.t = Val::T::Region; v.rb = layers[l].offset + layers[l].size; v.re = layers[l].payload_end;
        return v;
      case Op::Pseudo: return pseudo_of(l, e);
      case Op::Upper: {
        std::size_t u = asker > l ? asker : l;
        if (!size_only) for (std::size_t k = u; k < layers.size(); ++k) ensure_layer(k);
        v.t = Val::T::Region; v.rb = layers[u].offset; v.re = layers[u].payload_end;
        return v;
      }
      case Op::Bound: {
        // The protocol number that selects the asking layer: the field the
        // binding used in the layer right below it, or this field when that is us.
        std::size_t below = asker > 0 ? asker - 1 : l;
        if (asker > l + 1 && layers[below].selector >= 0) {
          ensure_field(below, static_cast<std::size_t>(layers[below].selector));
          v.i = layers[below].fields[layers[below].selector].value.num;
        } else {
          ensure_field(l, e.index);
          v.i = layers[l].fields[e.index].value.num;
        }
        return v;
      }
      case Op::Count: v.i = layers[l].fields[e.index].value.num; return v;
      case Op::Present: {
        const FieldSlot& s = layers[l].fields[e.index];
        v.i = s.origin != Origin::Default || layers[l].def->fields[e.index].has_default ? 1 : 0;
        return v;
      }
      case Op::Given: v.i = is_given(layers[l].fields[e.index].origin) ? 1 : 0; return v;
      case Op::LowerField: {
        for (std::size_t k = l; k-- > 0;) {
          if (layers[k].def->name != e.s) continue;
          int fi = layers[k].def->field_index(e.s2);
          if (fi < 0) break;
          ensure_field(k, static_cast<std::size_t>(fi));
          const FieldSlot& s = layers[k].fields[fi];
          if (layers[k].def->fields[fi].kind == FieldKind::UInt) { v.i = s.value.num; return v; }
          v.t = Val::T::Region;
          v.rb = s.bit_offset / 8;
          v.re = v.rb + s.bit_size / 8;
          return v;
        }
        fail(e, fmt::format("{}.{}: there is no {} layer below {}", e.s, e.s2, e.s, layers[l].def->name));
      }
      case Op::Not: v.i = as_int(e.args[0], eval(e.args[0], l, size_only)) ? 0 : 1; return v;
      case Op::Choose:
        return as_int(e.args[0], eval(e.args[0], l, false)) ? eval(e.args[1], l, size_only) : eval(e.args[2], l, size_only);
      case Op::Slice: {
        Val x = eval(e.args[0], l, false);
        std::uint64_t from = as_int(e.args[1], eval(e.args[1], l, false));
        std::uint64_t n = as_int(e.args[2], eval(e.args[2], l, false));
        if (x.t == Val::T::Int) fail(e.args[0], "slice() takes bytes or a region, not a number");
        if (from > x.size() || n > x.size() - from)
          fail(e, fmt::format("slice({}, {}) is past the end of {} bytes", from, n, x.size()));
        v.t = Val::T::Bytes;
        if (x.t == Val::T::Region) v.b.assign(reinterpret_cast<const char*>(buf.data() + x.rb + from), n);
        else v.b = x.b.substr(from, n);
        return v;
      }
      case Op::RouteSource: {
        Val x = eval(e.args[0], l, false);
        if (x.t == Val::T::Int || (x.size() != 4 && x.size() != 16))
          fail(e.args[0], "route_source() takes an IPv4 or IPv6 address (4 or 16 bytes)");
        std::string dst;
        append(dst, x, e.args[0]);
        v.t = Val::T::Bytes;
        v.b = route_source(dst);
        return v;
      }
      case Op::And: case Op::Or: {
        bool a = as_int(e.args[0], eval(e.args[0], l, size_only)) != 0;
        if (e.op == Op::And && !a) { v.i = 0; return v; }
        if (e.op == Op::Or && a) { v.i = 1; return v; }
        v.i = as_int(e.args[1], eval(e.args[1], l, size_only)) != 0;
        return v;
      }
      case Op::Eq: case Op::Ne: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::BitAnd: {
        Val a = eval(e.args[0], l, size_only), b = eval(e.args[1], l, size_only);
        if ((e.op == Op::Eq || e.op == Op::Ne) && a.t != Val::T::Int && b.t != Val::T::Int) {
          std::string x, y;
          append(x, a, e.args[0]);
          append(y, b, e.args[1]);
          v.i = (x == y) == (e.op == Op::Eq);
          return v;
        }
        std::uint64_t x = as_int(e.args[0], a), y = as_int(e.args[1], b);
        switch (e.op) {
          case Op::Eq: v.i = x == y; break;
          case Op::Ne: v.i = x != y; break;
          case Op::Lt: v.i = x < y; break;
          case Op::Le: v.i = x <= y; break;
          case Op::Gt: v.i = x > y; break;
          case Op::Ge: v.i = x >= y; break;
          default: v.i = x & y; break;
        }
        return v;
      }
      case Op::Len: {
        std::uint64_t n = 0;
        for (auto& a : e.args) {
          if (a.op == Op::Field) {  // a number field's length is its width
            const FieldSlot& fs = layers[l].fields[a.index];
            n += fs.bit_size / 8;
            continue;
          }
          Val x = eval(a, l, true);
          if (x.t == Val::T::Int) fail(a, "len() takes fields, bytes or regions, not a number");
          n += x.size();
        }
        v.i = n;
        return v;
      }
      case Op::Checksum: {
        if (cached_sum) { last_sum = *cached_sum; v.i = ones_checksum(last_sum); return v; }
        std::uint32_t sum = 0;
        std::uint64_t stream = 0;
        for (auto& a : e.args) {
          Val x = eval(a, l, false);
          if (x.t == Val::T::Int) fail(a, "inet_checksum() takes bytes or regions, not a number");
          const std::uint8_t* p = x.t == Val::T::Region ? buf.data() + x.rb : reinterpret_cast<const std::uint8_t*>(x.b.data());
          sum = ones_sum(p, x.size(), sum, stream & 1);
          stream += x.size();
        }
        last_sum = sum;
        v.i = ones_checksum(sum);
        return v;
      }
      case Op::Crc32c: {
        // No incremental form: build_deps leaves it out of RFC 1624 updates,
        // so a change to what it covers reruns it over all its bytes.
        std::uint32_t crc = 0;
        for (auto& a : e.args) {
          Val x = eval(a, l, false);
          if (x.t == Val::T::Int) fail(a, "crc32c() takes bytes or regions, not a number");
          const std::uint8_t* p = x.t == Val::T::Region ? buf.data() + x.rb : reinterpret_cast<const std::uint8_t*>(x.b.data());
          crc = crc32c(p, x.size(), crc);
        }
        v.i = crc;
        return v;
      }
      case Op::Nonzero: {
        std::uint64_t a = as_int(e.args[0], eval(e.args[0], l, size_only));
        v.i = a != 0 ? a : as_int(e.args[1], eval(e.args[1], l, size_only));
        return v;
      }
      case Op::ToBytes: {
        std::uint64_t x = as_int(e.args[0], eval(e.args[0], l, size_only));
        unsigned w = static_cast<unsigned>(e.index);
        if (w < 64 && x >> w)
          throw ScriptError(layers[l].pos.src ? layers[l].pos : e.pos,
                            fmt::format("{}: u{}({}) does not fit in {} bits (in the rule at {}:{}): the packet is too long",
                                        layers[l].def->name, w, x, w, e.pos.src ? e.pos.src->name : "?", e.pos.line));
        v.t = Val::T::Bytes;
        for (int k = static_cast<int>(w) - 8; k >= 0; k -= 8) v.b.push_back(static_cast<char>(x >> k));
        return v;
      }
      case Op::Concat: {
        v.t = Val::T::Bytes;
        for (auto& a : e.args) append(v.b, eval(a, l, size_only), a);
        return v;
      }
      case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: {
        std::uint64_t a = as_int(e.args[0], eval(e.args[0], l, size_only));
        std::uint64_t b = as_int(e.args[1], eval(e.args[1], l, size_only));
        if ((e.op == Op::Add && a + b < a) || (e.op == Op::Mul && a && b > ~0ULL / a))
          fail(e, fmt::format("{} {} {} overflows 64 bits", a, e.op == Op::Add ? '+' : '*', b));
        if (e.op == Op::Add) v.i = a + b;
        else if (e.op == Op::Sub) {
          if (b > a) fail(e, fmt::format("{} - {} is negative", a, b));
          v.i = a - b;
        } else if (e.op == Op::Mul) v.i = a * b;
        else {
          if (b == 0) fail(e, "division by zero");
          v.i = a / b;
        }
        return v;
      }
    }
    return v;
  }
};
}  // namespace

void Packet::evaluate_auto(std::size_t l, std::size_t f) {
  std::size_t flat = field_base_[l] + f;
  LayerInst& li = layers_[l];
  FieldSlot& s = li.fields[f];
  const FieldDef& d = li.def->fields[f];
  state_[flat] = 1;
  s.value.num = 0;
  s.value.bytes.clear();
  write_field(s, d);  // a rule reads its own field as zero (a checksum covering itself)
  // The callbacks capture one pointer each, so std::function stores them
  // without allocating (this runs per packet when a generator moves a field
  // that a rule reads by value, such as ipv4.dst in the TCP pseudo-header).
  struct Current {
    Packet* self;
    std::size_t l, f;
  } cur{this, l, f};
  Evaluator ev{layers_, buf_,
               [c = &cur](std::size_t L, std::size_t F) {
                 Packet* self = c->self;
                 const std::size_t l = c->l, f = c->f;
                 auto& state_ = self->state_;
                 auto& layers_ = self->layers_;
                 std::uint8_t st = state_[self->field_base_[L] + F];
                 if (st == 0) self->evaluate_auto(L, F);
                 if (st == 1 && !(L == l && F == f))
                   throw ScriptError(layers_[l].def->fields[f].auto_rule->pos,
                                     fmt::format("the auto rules of {}.{} and {}.{} depend on each other",
                                                 layers_[l].def->name, layers_[l].def->fields[f].name,
                                                 layers_[L].def->name, layers_[L].def->fields[F].name));
               },
               [this](std::size_t L) {
                 for (std::size_t F = 0; F < layers_[L].fields.size(); ++F)
                   if (state_[field_base_[L] + F] == 0) evaluate_auto(L, F);
               },
               nullptr};
  Val r = ev.eval(*d.auto_rule, l, false);
  if (d.kind != FieldKind::UInt) {
    // An address field's rule gives its bytes.
    std::string b;
    if (r.t != Val::T::Int) ev.append(b, r, *d.auto_rule);
    if (r.t == Val::T::Int || b.size() != d.bits / 8)
      throw ScriptError(d.auto_rule->pos, fmt::format("the auto rule of {}.{} gives {}; expected {} bytes ({})", li.def->name,
                                                      d.name, r.t == Val::T::Int ? std::string("a number")
                                                                                  : fmt::format("{} bytes", b.size()),
                                                      d.bits / 8, d.type_name));
    s.value.bytes = std::move(b);
    write_field(s, d);
    state_[flat] = 2;
    return;
  }
  if (r.t != Val::T::Int) throw ScriptError(d.auto_rule->pos, fmt::format("the auto rule of {}.{} gives bytes; expected a number", li.def->name, d.name));
  if (r.i > d.max())
    throw ScriptError(li.pos.src ? li.pos : pos_,
                      fmt::format("{}.{} would be {}, but {} is {}: the packet is too long for it ({} is {} bytes, "
                                  "{} with its payload)",
                                  li.def->name, d.name, r.i, d.name, d.describe_type(), li.def->name, li.size,
                                  buf_.size() - li.offset));
  s.value.num = r.i;
  write_field(s, d);
  sums_[flat] = ev.last_sum;
  state_[flat] = 2;
}

FieldValue Packet::computed_value(std::size_t layer, std::size_t field) const {
  const FieldDef& d = layers_.at(layer).def->fields.at(field);
  if (!d.auto_rule) return layers_[layer].fields[field].value;
  Packet tmp = *this;
  tmp.evaluate_auto(layer, field);
  return tmp.layers_[layer].fields[field].value;
}

// The fields a rule of layer l reads as LAYER.FIELD, by flat index.
void Packet::lower_fields(const AutoExpr& e, std::size_t l, std::vector<std::size_t>& out,
                          const std::vector<const AutoExpr*>* skip) const {
  if (skip && std::find(skip->begin(), skip->end(), &e) != skip->end()) return;
  if (e.op == AutoExpr::Op::LowerField)
    for (std::size_t k = l; k-- > 0;)
      if (layers_[k].def->name == e.s) {
        int fi = layers_[k].def->field_index(e.s2);
        if (fi >= 0) out.push_back(field_base_[k] + static_cast<std::size_t>(fi));
        break;
      }
  for (auto& a : e.args) lower_fields(a, l, out, skip);
}

void Packet::build_deps() {
  auto table = std::make_shared<DepTable>();
  auto* deps = &table->deps;
  for (std::size_t l = layers_.size(); l-- > 0;) {
    const LayerInst& li = layers_[l];
    for (std::size_t f = 0; f < li.fields.size(); ++f) {
      const FieldDef& d = li.def->fields[f];
      if (!d.auto_rule || !is_computed(li.fields[f].origin)) continue;
      AutoDep dep;
      dep.layer = l;
      dep.field = f;
      dep.flat = field_base_[l] + f;
      const AutoExpr& rule = *d.auto_rule;
      // The layer whose pseudo-header the rule reads, if it reads one.
      std::size_t pk = l;
      {
        std::vector<std::size_t> unused;
        bool pseudo = false;
        collect_fields(rule, unused, pseudo);
        if (pseudo)
          for (std::size_t k = l; k-- > 0;)
            if (!layers_[k].def->pseudo.empty()) { pk = k; break; }
      }
      // Parts of the checksum's stream that are a field's own bytes (an
      // address in a pseudo-header): a change to them is a change of content.
      std::vector<const AutoExpr*> as_content;
      if (uses_content(rule, false)) {
        const AutoExpr* ck = find_checksum(rule);
        bool simple = count_checksums(rule) == 1 && ck;
        if (simple) {
          // Content must come only from region arguments of the checksum itself.
          for (auto& a : ck->args)
            if (a.op != AutoExpr::Op::This && a.op != AutoExpr::Op::Payload && uses_content(a, false)) simple = false;
          // Anything outside the checksum node reading content disqualifies it.
          std::function<bool(const AutoExpr&)> outside = [&](const AutoExpr& e) {
            if (&e == ck) return false;
            if (e.op == AutoExpr::Op::This || e.op == AutoExpr::Op::Payload) return true;
            if (e.op == AutoExpr::Op::Len) return false;
            for (auto& a : e.args) if (outside(a)) return true;
            return false;
          };
          if (outside(rule)) simple = false;
        }
        std::uint64_t stream = 0;
        auto region = [&](const AutoExpr& a, std::size_t at, std::uint32_t& b, std::uint32_t& e) {
          const LayerInst& la = layers_[at];
          if (a.op == AutoExpr::Op::This) { b = la.offset; e = la.offset + la.size; return true; }
          if (a.op == AutoExpr::Op::Payload) { b = la.offset + la.size; e = la.payload_end; return true; }
          // A field of bytes (an address) is read as its bytes in the packet.
          int fl = -1, fi = -1;
          if (a.op == AutoExpr::Op::Field) { fl = static_cast<int>(at); fi = static_cast<int>(a.index); }
          if (a.op == AutoExpr::Op::LowerField)
            for (std::size_t k = at; k-- > 0;)
              if (layers_[k].def->name == a.s) { fl = static_cast<int>(k); fi = layers_[k].def->field_index(a.s2); break; }
          if (fl < 0 || fi < 0 || layers_[fl].def->fields[fi].kind == FieldKind::UInt) return false;
          const FieldSlot& fs = layers_[fl].fields[fi];
          if (fs.bit_offset % 8) return false;
          b = fs.bit_offset / 8;
          e = b + fs.bit_size / 8;
          as_content.push_back(&a);
          return true;
        };
        if (simple) {
          Evaluator ev{layers_, buf_, [](std::size_t, std::size_t) {}, [](std::size_t) {}, nullptr};
          auto part = [&](const AutoExpr& a, std::size_t at) {
            std::uint32_t b, e;
            if (region(a, at, b, e)) {
              dep.content.push_back({b, e, static_cast<std::uint32_t>(stream)});
              stream += e - b;
            } else {
              stream += ev.eval(a, at, false).size();
            }
          };
          for (auto& a : ck->args) {
            if (a.op == AutoExpr::Op::Pseudo && pk != l) {
              ev.asker = l;
              for (auto& pp : layers_[pk].def->pseudo) part(pp, pk);
            } else {
              part(a, l);
            }
          }
          dep.incremental = true;
          if (rule.op == AutoExpr::Op::Checksum) dep.wrap = 1;
          else if (rule.op == AutoExpr::Op::Nonzero && rule.args[0].op == AutoExpr::Op::Checksum &&
                   rule.args[1].op == AutoExpr::Op::Int) {
            dep.wrap = 2;
            dep.alt = rule.args[1].i;
          }
        } else {
          // Conservatively: the layer and everything after it.
          as_content.clear();
          dep.content.push_back({li.offset, static_cast<std::uint32_t>(buf_.size()), 0});
        }
      }
      // The fields the rule reads by value: all it names, but those read as content.
      auto by_value = [&](const AutoExpr& root, std::size_t at) {
        std::vector<std::size_t> own;
        bool dummy = false;
        collect_fields(root, own, dummy, &as_content);
        for (auto x : own) dep.value_deps.push_back(field_base_[at] + x);
        lower_fields(root, at, dep.value_deps, &as_content);
      };
      by_value(rule, l);
      if (pk != l) {
        for (auto& part : layers_[pk].def->pseudo) by_value(part, pk);
        if (l > 0 && l - 1 != pk && layers_[l - 1].selector >= 0)
          dep.value_deps.push_back(field_base_[l - 1] + static_cast<std::size_t>(layers_[l - 1].selector));
      }
      deps->push_back(std::move(dep));
    }
  }
  // Which auto fields each field's change reaches.
  table->affected.resize(field_base_.empty() ? 0 : field_base_.back() + layers_.back().fields.size());
  for (std::size_t l = 0; l < layers_.size(); ++l)
    for (std::size_t f = 0; f < layers_[l].fields.size(); ++f) {
      std::size_t flat = field_base_[l] + f;
      const FieldSlot& s = layers_[l].fields[f];
      std::uint32_t b = s.bit_offset / 8, e = (s.bit_offset + s.bit_size + 7) / 8;
      for (std::size_t k = 0; k < deps->size(); ++k) {
        const AutoDep& dep = (*deps)[k];
        if (dep.flat == flat) continue;
        bool by_value = std::find(dep.value_deps.begin(), dep.value_deps.end(), flat) != dep.value_deps.end();
        bool by_content = false;
        for (auto& sg : dep.content)
          if (b < sg.end && e > sg.begin) by_content = true;
        if (by_value || by_content) table->affected[flat].push_back({static_cast<std::uint32_t>(k), by_value});
      }
    }
  // Reverse postorder of a depth-first walk from each field: each auto field
  // comes before those its change reaches (a cycle is cut where it closes).
  table->order.resize(table->affected.size());
  std::vector<std::uint8_t> mark(deps->size());
  std::vector<std::uint32_t> post;
  std::function<void(std::uint32_t)> visit = [&](std::uint32_t k) {
    mark[k] = 1;
    for (const DepTable::Hit& h : table->affected[(*deps)[k].flat])
      if (!mark[h.dep]) visit(h.dep);
    post.push_back(k);
  };
  for (std::size_t flat = 0; flat < table->affected.size(); ++flat) {
    if (table->affected[flat].empty()) continue;
    std::fill(mark.begin(), mark.end(), 0);
    post.clear();
    for (const DepTable::Hit& h : table->affected[flat])
      if (!mark[h.dep]) visit(h.dep);
    table->order[flat].assign(post.rbegin(), post.rend());
  }
  deps_ = std::move(table);
}

void Packet::on_changed(std::size_t flat, std::uint32_t b, std::uint32_t e, const std::uint8_t* old) {
  if (!deps_) build_deps();
  const DepTable& table = *deps_;  // not rebuilt while changes propagate
  const std::vector<std::uint32_t>& order = table.order[flat];
  if (order.empty()) return;
  // The changes so far: the field's, then each auto field's whose value
  // moved. Each auto field the change reaches is updated once, after every
  // auto field that feeds it (a change carried down a stack of nested
  // checksums is not repeated for each level above it).
  struct Change {
    std::size_t flat;
    std::uint32_t b, e;
    const std::uint8_t* old;
    std::uint8_t small[16];
    std::string big;  // an old value of more than 16 bytes
    bool reaches = false;  // reaches the auto field being updated
  };
  // On the stack for the usual few; a generator calls this per packet.
  Change inline_changes[8];
  std::vector<Change> heap;
  Change* changes = inline_changes;
  if (order.size() + 1 > std::size(inline_changes)) {
    heap.resize(order.size() + 1);
    changes = heap.data();
  }
  std::size_t n = 1;
  changes[0].flat = flat;
  changes[0].b = b;
  changes[0].e = e;
  changes[0].old = old;
  for (std::uint32_t k : order) {
    const AutoDep& dep = table.deps[k];
    bool hit = false, by_value = false;
    for (Change& c : std::span(changes, n)) {
      c.reaches = false;
      for (const DepTable::Hit& h : table.affected[c.flat])
        if (h.dep == k) {
          c.reaches = hit = true;
          by_value = by_value || h.by_value;
        }
    }
    if (!hit) continue;
    LayerInst& li = layers_[dep.layer];
    FieldSlot& s = li.fields[dep.field];
    const FieldDef& d = li.def->fields[dep.field];
    const std::uint32_t fb = s.bit_offset / 8, fe = (s.bit_offset + s.bit_size + 7) / 8;
    Change& next = changes[n];  // kept if the value moves
    next.flat = dep.flat;
    next.b = fb;
    next.e = fe;
    next.big.clear();
    if (fe - fb <= sizeof next.small) std::memcpy(next.small, buf_.data() + fb, fe - fb);
    else next.big.assign(reinterpret_cast<const char*>(buf_.data() + fb), fe - fb);
    next.old = next.big.empty() ? next.small : reinterpret_cast<const std::uint8_t*>(next.big.data());
    const std::uint64_t prev = s.value.num;
    const bool by_bytes = d.kind != FieldKind::UInt;  // an address computed by its rule
    std::string prev_bytes;
    if (by_bytes) prev_bytes = s.value.bytes;
    if (!by_value && dep.incremental) {
      std::uint32_t sum = sums_[dep.flat];
      for (const Change& c : std::span(changes, n)) {
        if (!c.reaches) continue;
        for (auto& sg : dep.content) {
          std::uint32_t ob = std::max(c.b, sg.begin), oe = std::min(c.e, sg.end);
          if (ob >= oe) continue;
          bool odd = ((sg.stream + (ob - sg.begin)) & 1) != 0;
          sum = ones_sum_update(sum, c.old + (ob - c.b), buf_.data() + ob, oe - ob, odd);
        }
      }
      sums_[dep.flat] = sum;
      Val r;
      if (dep.wrap == 1) {
        r.i = ones_checksum(sum);
      } else if (dep.wrap == 2) {
        r.i = ones_checksum(sum);
        if (r.i == 0) r.i = dep.alt;
      } else {
        Evaluator ev{layers_, buf_, [](std::size_t, std::size_t) {}, [](std::size_t) {}, &sums_[dep.flat]};
        r = ev.eval(*d.auto_rule, dep.layer, false);
      }
      if (r.i > d.max())
        throw ScriptError(pos_, fmt::format("{}.{} would be {}, but {} is {}", li.def->name, d.name, r.i, d.name,
                                            d.describe_type()));
      s.value.num = r.i;
      write_field(s, d);
    } else {
      evaluate_auto(dep.layer, dep.field);
    }
    if (by_bytes ? s.value.bytes != prev_bytes : s.value.num != prev) ++n;
  }
}

}  // namespace pkt
