#include "session.hpp"

#include "dissect.hpp"
#include "pcap_reader.hpp"

#include <algorithm>

#include <arpa/inet.h>
#include <fmt/format.h>

#include "coerce.hpp"
#include "confine.hpp"
#include "fragment.hpp"
#include "parse.hpp"

namespace pkt {

using K = ast::Expr::Kind;

struct Session::Impl {
  Session& s;
  NameResolver resolver;
  explicit Impl(Session& self) : s(self) {
    resolver = [this](const std::string& n) -> ast::ExprPtr {
      auto it = s.names_.find(n);
      if (it == s.names_.end()) return s.external.value ? s.external.value(n) : nullptr;
      if (it->second.kind == NameEntry::Kind::Packet) return nullptr;
      return it->second.expr;
    };
  }
  CoerceEnv env() { return CoerceEnv{&s.reg_, &resolver, s.base_dir_, s.confine_}; }

  [[noreturn]] void unknown(const std::string& n, Pos pos, const char* what) {
    std::vector<std::string> names;
    for (auto& [k, v] : s.names_) names.push_back(k);
    throw ScriptError(pos, fmt::format("unknown {} '{}'{}", what, n, s.reg_.layer_hint(n, names)));
  }

  // A list or range in a field becomes a generator dimension.
  Dim generator(const LayerDef& def, std::size_t fi, const ast::Expr& e, std::size_t layer) {
    const FieldDef& f = def.fields[fi];
    Dim d;
    d.layer = layer;
    d.field = fi;
    d.pos = e.pos;
    if (e.kind == K::List) {
      if (e.items.empty()) throw ScriptError(e.pos, fmt::format("an empty list gives no packets; expected values for {}", f.name));
      for (auto& it : e.items) d.values.push_back(coerce_field(def, f, *it, env()));
      return d;
    }
    const ast::Expr& lo = *e.items.at(0);
    const ast::Expr& hi = *e.items.at(1);
    if (f.kind == FieldKind::UInt && f.is_signed) {
      // Two's complement is not in order (-1 is 0xff): the range becomes its values.
      FieldValue a = coerce_field(def, f, lo, env()), b = coerce_field(def, f, hi, env());
      auto as_signed = [&](std::uint64_t x) {
        return f.bits < 64 && (x >> (f.bits - 1)) & 1 ? static_cast<std::int64_t>(x | ~f.max()) : static_cast<std::int64_t>(x);
      };
      std::int64_t x = as_signed(a.num), y = as_signed(b.num);
      if (x > y) throw ScriptError(e.pos, fmt::format("empty range {}..{}: the first value must not exceed the last", x, y));
      if (static_cast<std::uint64_t>(y) - static_cast<std::uint64_t>(x) >= (1u << 20))
        throw ScriptError(e.pos, fmt::format("a range over the signed field {} is at most 1,048,576 values", f.name));
      for (std::int64_t v = x;; ++v) {
        FieldValue fv;
        fv.num = static_cast<std::uint64_t>(v) & f.max();
        d.values.push_back(fv);
        if (v == y) break;
      }
      return d;
    }
    if (f.kind == FieldKind::UInt) {
      FieldValue a = coerce_field(def, f, lo, env()), b = coerce_field(def, f, hi, env());
      if (a.num > b.num) throw ScriptError(e.pos, fmt::format("empty range {}..{}: the first value must not exceed the last", a.num, b.num));
      d.is_range = true;
      d.lo = a.num;
      d.hi = b.num;
      if (d.lo == 0 && d.hi == ~0ULL) throw ScriptError(e.pos, "a range of 2^64 values is too large");
      return d;
    }
    if (f.kind == FieldKind::IPv4) {
      FieldValue a = coerce_field(def, f, lo, env()), b = coerce_field(def, f, hi, env());
      std::uint32_t x, y;
      std::memcpy(&x, a.bytes.data(), 4);
      std::memcpy(&y, b.bytes.data(), 4);
      x = ntohl(x);
      y = ntohl(y);
      if (x > y) throw ScriptError(e.pos, "empty address range: the first address must not exceed the last");
      d.is_range = true;
      d.ipv4 = true;
      d.lo = x;
      d.hi = y;
      return d;
    }
    throw ScriptError(e.pos, fmt::format("a range needs a number or IPv4 field; {} is {}", f.name, f.type_name));
  }

  bool is_generator(const LayerDef& def, const FieldDef& f, const ast::Expr& e, int depth = 0) {
    if (e.kind == K::Range) return true;
    if (e.kind == K::List) {
      if (f.kind == FieldKind::Array || f.type().lua_form() == LuaForm::TextList) return false;
      if (f.kind == FieldKind::Bytes && s.reg_.has_options(def.name, f.name)) return false;
      return true;
    }
    return false;
  }

  // Follows a param/let name to its expression. An external name's
  // expression (a Lua global) is made on each lookup: kept alive here, as
  // long as this evaluation, for the reference returned.
  std::vector<ast::ExprPtr> resolved;
  const ast::Expr& deref(const ast::Expr& e, int depth = 0) {
    if (e.kind == K::Name && depth < 32)
      if (auto x = resolver(e.s)) {
        resolved.push_back(x);
        return deref(*x, depth + 1);
      }
    return e;
  }

  PacketSet layer_call(const ast::Expr& e) {
    auto def = s.reg_.layer(e.s);
    if (!def) unknown(e.s, e.pos, "layer");
    PacketSet ps;
    ps.tmpl.push_layer(def, e.pos);
    std::vector<std::string> seen;
    for (auto& a : e.args) {
      if (!a.name.empty() && std::find(seen.begin(), seen.end(), a.name) != seen.end())
        throw ScriptError(a.pos, fmt::format("field '{}' of {} is given twice", a.name, def->name));
      seen.push_back(a.name);
      if (a.name.empty())
        throw ScriptError(a.pos, fmt::format("expected field=value in {}(...); {} fields are {}", def->name, def->name,
                                             fmt::join(def->field_names(), ", ")));
      int fi = def->field_index(a.name);
      if (fi < 0 && a.name == "trailer") {
        // Bytes after the layer's payload (Ethernet padding): what reading keeps.
        ps.tmpl.set_trailer(0, coerce_field(*def, FieldDef::of("trailer", "bytes"), *a.value, env()).bytes);
        continue;
      }
      if (fi < 0) {
        std::string hint = nearest_name(a.name, def->field_names());
        throw ScriptError(a.pos, fmt::format("unknown field '{}' of {}{}", a.name, def->name,
                                             hint.empty() ? fmt::format("; fields are {}", fmt::join(def->field_names(), ", "))
                                                          : fmt::format("; did you mean '{}'?", hint)));
      }
      const FieldDef& f = def->fields[fi];
      const ast::Expr& v = deref(*a.value);
      if (is_generator(*def, f, v)) {
        Dim d = generator(*def, fi, v, 0);
        ps.tmpl.set(0, fi, d.at(0), Origin::User, a.pos);
        ps.dims.push_back(std::move(d));
      } else {
        ps.tmpl.set(0, fi, coerce_field(*def, f, *a.value, env()), Origin::User, a.value->pos);
      }
    }
    return ps;
  }

  PacketSet raw(const ast::Expr& e) {
    auto def = s.reg_.layer("raw");
    if (!def || def->fields.empty() || def->fields[0].kind != FieldKind::Bytes)
      throw ScriptError(e.pos, "a payload needs the stdlib layer 'raw { load : bytes }'");
    PacketSet ps;
    ps.tmpl.push_layer(def, e.pos);
    if (e.kind == K::List) {
      Dim d = generator(*def, 0, e, 0);
      ps.tmpl.set(0, 0, d.at(0), Origin::User, e.pos);
      ps.dims.push_back(std::move(d));
    } else {
      ps.tmpl.set(0, 0, coerce_field(*def, def->fields[0], e, env()), Origin::User, e.pos);
    }
    return ps;
  }

  // read("capture.pcap") is its packets in order; read("capture.pcap", 3) the third.
  PacketSet read_capture(const ast::Expr& e) {
    if (e.args.empty() || e.args.size() > 2 || !e.args[0].name.empty())
      throw ScriptError(e.pos, "read() takes a \"file\" and, optionally, a packet number: read(\"x.pcap\", 3)");
    LayerDef none;
    none.name = "read()";
    std::string path = coerce_field(none, FieldDef::of("path", "bytes"), *e.args[0].value, env()).bytes;
    std::uint64_t want = 0;
    if (e.args.size() == 2) {
      want = coerce_field(none, FieldDef::of("number", "u64"), *e.args[1].value, env()).num;
      if (want == 0) throw ScriptError(e.args[1].pos, "packets are numbered from 1");
    }
    std::string full = !path.empty() && path[0] != '/' && path != "-" ? s.base_dir_ + "/" + path : path;
    if (!s.confine_.empty())
      if (std::string why = path == "-" ? "standard input is not a file in the script's directory" : confine_path(s.confine_, full);
          !why.empty())
        throw ScriptError(e.args[0].pos, fmt::format("read(\"{}\") refused: {} (--sandbox reads files only there)", path, why));
    std::vector<Packet> packets;
    try {
      PcapReader in(full);
      Dissector dis(s.reg_);
      auto first = dis.first_for_linktype(static_cast<std::uint32_t>(in.linktype()));
      if (first.empty())  // nothing bound to it, and no raw layer to fall back on
        throw ScriptError(e.pos, fmt::format("{}: no layer is bound to its link type {}", full, in.linktype()));
      PcapRecord r;
      while (in.next(r)) {
        if (want && r.number != want) continue;
        Packet p = dis.dissect(r.data, r.caplen, first);
        p.resolve_wire_origins();
        p.set_pos(e.pos);
        packets.push_back(std::move(p));
        if (want) break;
      }
    } catch (const PcapError& err) {
      throw ScriptError(e.args[0].pos, err.what());
    }
    if (want && packets.empty())
      throw ScriptError(e.args[1].pos, fmt::format("{} has no packet {}", full, want));
    if (packets.empty()) throw ScriptError(e.pos, fmt::format("{} holds no packets", full));
    PacketSet ps;
    ps.tmpl = packets.front();
    if (packets.size() > 1) ps.list = std::make_shared<const std::vector<Packet>>(std::move(packets));
    return ps;
  }

  // dissect(hex"...") reads one packet from bytes (IPv4 or IPv6 by its
  // version); dissect(hex"...", eth) starts at the layer given.
  PacketSet dissect_bytes(const ast::Expr& e) {
    if (e.args.empty() || e.args.size() > 2 || !e.args[0].name.empty())
      throw ScriptError(e.pos, "dissect() takes bytes and, optionally, the first layer: dissect(hex\"45...\", ipv4)");
    LayerDef none;
    none.name = "dissect()";
    std::string data = coerce_field(none, FieldDef::of("bytes", "bytes"), *e.args[0].value, env()).bytes;
    Dissector dis(s.reg_);
    std::vector<ReadBind> first;
    if (e.args.size() == 2) {
      const ast::Expr& l = *e.args[1].value;
      auto def = l.kind == K::Name ? s.reg_.layer(l.s) : nullptr;
      if (!def) unknown(l.kind == K::Name ? l.s : "?", l.pos, "layer");
      first = Dissector::first_is(def);
    } else {
      first = dis.first_for_linktype(101);  // LINKTYPE_RAW: IPv4 or IPv6
    }
    if (data.empty()) throw ScriptError(e.args[0].pos, "dissect() needs at least one byte");
    PacketSet ps;
    ps.tmpl = dis.dissect(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), first);
    ps.tmpl.resolve_wire_origins();
    ps.tmpl.set_pos(e.pos);
    return ps;
  }

  // fragment(P, SIZE): every packet of P split as the `fragment`
  // declarations say, in order; a list of packets.
  PacketSet fragment_call(const ast::Expr& e, int depth) {
    if (e.args.size() != 2 || !e.args[0].name.empty() || !e.args[1].name.empty())
      throw ScriptError(e.pos, "fragment() takes a packet and a size in bytes: fragment(p, 1480)");
    PacketSet in = eval(*e.args[0].value, depth + 1);
    if (in.tmpl.layers().empty()) throw ScriptError(e.args[0].pos, "fragment() needs a packet");
    LayerDef none;
    none.name = "fragment()";
    std::uint64_t size = coerce_field(none, FieldDef::of("size", "u32"), *e.args[1].value, env()).num;
    in.tmpl.finalize();
    std::vector<Packet> out;
    in.for_each([&](const Packet& p) {
      for (Packet& f : fragment_packet(s.reg_, p, size, e.args[1].pos)) out.push_back(std::move(f));
      return true;
    });
    PacketSet ps;
    ps.tmpl = out.front();
    if (out.size() > 1) ps.list = std::make_shared<const std::vector<Packet>>(std::move(out));
    return ps;
  }

  PacketSet eval(const ast::Expr& e, int depth) {
    if (depth > 64) throw ScriptError(e.pos, "names refer to each other too deeply");
    switch (e.kind) {
      case K::Stack: {
        PacketSet out;
        for (auto& it : e.items) {
          PacketSet part = eval(*it, depth + 1);
          std::size_t base = out.tmpl.layers().size();
          out.tmpl.stack(part.tmpl, s.reg_);
          for (auto d : part.dims) {
            d.layer += base;
            out.dims.push_back(std::move(d));
          }
        }
        out.tmpl.set_pos(e.pos);
        return out;
      }
      case K::Call:
        if (!s.reg_.layer(e.s) && e.s == "sniff") {
          if (!s.external.sniff) throw ScriptError(e.pos, "sniff() captures live packets: only `pkt run` and the REPL run it");
          return s.external.sniff(e);
        }
        reject_word_args(e);
        if (!s.reg_.layer(e.s) && e.s == "read") return read_capture(e);
        if (!s.reg_.layer(e.s) && e.s == "dissect") return dissect_bytes(e);
        if (!s.reg_.layer(e.s) && e.s == "fragment") return fragment_call(e, depth);
        return layer_call(e);
      case K::Name: {
        auto it = s.names_.find(e.s);
        if (it != s.names_.end()) {
          if (it->second.kind == NameEntry::Kind::Packet) {
            PacketSet copy = *it->second.packet;
            return copy;
          }
          return eval(*it->second.expr, depth + 1);
        }
        if (s.reg_.layer(e.s)) return layer_call(e);
        if (s.external.packet)
          if (auto ps = s.external.packet(e.s)) return *ps;
        if (s.external.value)
          if (auto x = s.external.value(e.s)) return eval(*x, depth + 1);
        unknown(e.s, e.pos, "name");
      }
      case K::String: case K::Bytes: case K::File: case K::Repeat: case K::List: return raw(e);
      default:
        throw ScriptError(e.pos, "expected a packet: layers such as ipv4(...) / tcp(...), a packet name, or a payload");
    }
  }
};

Session::Session(Registry reg) : reg_(std::move(reg)) {}

void Session::set_override(const std::string& name, const std::string& text) {
  overrides_[name] = text;
  override_used_[name] = false;
}

std::vector<std::string> Session::unused_overrides() const {
  std::vector<std::string> out;
  for (auto& [n, used] : override_used_)
    if (!used) out.push_back(n);
  return out;
}

const NameEntry* Session::lookup(const std::string& name) const {
  auto it = names_.find(name);
  return it == names_.end() ? nullptr : &it->second;
}

std::shared_ptr<PacketSet> Session::packets(const ast::Expr& e) {
  Impl impl(*this);
  auto ps = std::make_shared<PacketSet>(impl.eval(e, 0));
  if (ps->tmpl.layers().empty()) throw ScriptError(e.pos, "expected at least one layer");
  if (!ps->tmpl.pos().src) ps->tmpl.set_pos(e.pos);
  ps->count();  // checks for overflow
  ps->tmpl.finalize();
  return ps;
}

FieldValue Session::field_value(const LayerDef& layer, const FieldDef& f, const ast::Expr& e) {
  Impl impl(*this);
  return coerce_field(layer, f, e, impl.env());
}

bool Session::declare(const ast::Stmt& st) {
  using SK = ast::Stmt::Kind;
  auto define_name = [&](NameEntry entry) {
    auto it = names_.find(st.name);
    if (it != names_.end() && !allow_redefine)
      throw ScriptError(st.name_pos, fmt::format("'{}' is already defined at line {}", st.name, it->second.pos.line));
    if (it == names_.end()) order_.push_back(st.name);
    entry.pos = st.name_pos;
    names_[st.name] = std::move(entry);
  };
  switch (st.kind) {
    case SK::Param: {
      NameEntry e;
      e.kind = NameEntry::Kind::Param;
      e.expr = st.value;
      auto ov = overrides_.find(st.name);
      if (ov != overrides_.end()) {
        override_used_[st.name] = true;
        if (st.value && st.value->kind == K::String) {
          auto x = std::make_shared<ast::Expr>();
          x->kind = K::String;
          x->s = ov->second;
          x->pos = Pos{Source::make("-D " + st.name, ov->second), 0, 1, 1};
          e.expr = x;
        } else {
          e.expr = parse_expression(Source::make("-D " + st.name, ov->second));
        }
      }
      define_name(std::move(e));
      return true;
    }
    case SK::Let: {
      NameEntry e;
      e.kind = NameEntry::Kind::Let;
      e.expr = st.value;
      define_name(std::move(e));
      return true;
    }
    case SK::Packet: {
      NameEntry e;
      e.kind = NameEntry::Kind::Packet;
      e.expr = st.value;
      e.packet = packets(*st.value);
      define_name(std::move(e));
      return true;
    }
    case SK::Layer: reg_.define(*st.layer); return true;
    case SK::Bind: reg_.bind(st); return true;
    case SK::Reply: reg_.add_reply(st); return true;
    case SK::Fragment: reg_.add_fragment(st); return true;
    default: return false;
  }
}

}  // namespace pkt
