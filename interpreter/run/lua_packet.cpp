// Packet userdata, layer proxies and layer constructors (see lua_packet.hpp).
#include "lua_packet.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include "coerce.hpp"
#include "parse.hpp"
#include "render.hpp"

namespace pkt::lua {

namespace {

constexpr const char* kPacketMT = "pkt.packet";
constexpr const char* kLayerMT = "pkt.layer";
constexpr const char* kResetMT = "pkt.reset";

using SetPtr = std::shared_ptr<PacketSet>;

struct LayerRef {
  SetPtr set;
  std::size_t layer = 0;
};

template <typename T>
T* new_udata(lua_State* L, const char* mt, T value) {
  void* mem = lua_newuserdatauv(L, sizeof(T), 0);
  T* p = new (mem) T(std::move(value));
  luaL_setmetatable(L, mt);
  return p;
}

template <typename T>
int gc(lua_State* L) {
  if (void* p = lua_touserdata(L, 1)) static_cast<T*>(p)->~T();
  return 0;
}

LayerRef& check_layer(lua_State* L, int idx) {
  void* p = luaL_testudata(L, idx, kLayerMT);
  if (!p) luaL_typeerror(L, idx, "layer");
  return *static_cast<LayerRef*>(p);
}

// How a reset value reads, and its key in the registry.
const char* reset_name(Reset r) { return r == Reset::Auto ? "pkt.auto" : "pkt.default"; }

int reset_tostring(lua_State* L) {
  lua_pushstring(L, reset_name(*static_cast<Reset*>(luaL_checkudata(L, 1, kResetMT))));
  return 1;
}

void push_layer_ref(lua_State* L, SetPtr set, std::size_t layer) {
  new_udata(L, kLayerMT, LayerRef{std::move(set), layer});
}

Packet& finalized(PacketSet& s) {
  if (!s.tmpl.finalized()) s.tmpl.finalize();
  return s.tmpl;
}

std::string lua_string(lua_State* L, int idx) {
  std::size_t n = 0;
  const char* p = lua_tolstring(L, idx, &n);
  return std::string(p, n);
}

// ---- field values ------------------------------------------------------

// A field value as Lua sees it: the field type says which of four forms.
void push_field(lua_State* L, const FieldDef& f, const FieldValue& v) {
  switch (f.type().lua_form()) {
    case LuaForm::Integer:
      if (f.is_signed && f.bits < 64 && (v.num >> (f.bits - 1)) & 1)
        lua_pushinteger(L, static_cast<lua_Integer>(v.num | ~f.max()));  // sign-extended
      else
        lua_pushinteger(L, static_cast<lua_Integer>(v.num));
      return;
    case LuaForm::Text: {
      std::string t = format_value(f, v);
      lua_pushlstring(L, t.data(), t.size());
      return;
    }
    case LuaForm::Bytes: lua_pushlstring(L, v.bytes.data(), v.bytes.size()); return;
    case LuaForm::TextList: {
      std::vector<std::string> texts = f.type().texts(f, v);
      lua_createtable(L, static_cast<int>(texts.size()), 0);
      for (std::size_t i = 0; i < texts.size(); ++i) {
        lua_pushlstring(L, texts[i].data(), texts[i].size());
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
      }
      return;
    }
    case LuaForm::IntegerList: {
      std::size_t w = std::max(1u, f.bits / 8);
      std::size_t n = v.bytes.size() / w;
      lua_createtable(L, static_cast<int>(n), 0);
      for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t x = 0;
        for (std::size_t j = 0; j < w; ++j) x = (x << 8) | static_cast<unsigned char>(v.bytes[i * w + j]);
        lua_pushinteger(L, static_cast<lua_Integer>(x));
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
      }
      return;
    }
  }
  lua_pushnil(L);
}

std::string expected_word(const Registry& reg, const LayerDef& def, const FieldDef& f) {
  if (f.kind == FieldKind::Bytes && reg.has_options(def.name, f.name))
    return "a string of options in the DSL, e.g. \"[mss(1460), nop]\"";
  switch (f.type().lua_form()) {
    case LuaForm::Integer:
      if (f.is_signed) return "an integer";
      return f.flags.empty() ? (f.enums.empty() ? "an integer" : "an integer or an enum name")
                             : "an integer or flag names such as \"SYN|ACK\"";
    case LuaForm::Text: return "a string: " + f.type().expected(f);
    case LuaForm::Bytes: return "a string (bytes) or a packet";
    case LuaForm::IntegerList: return "an integer or a table of integers";
    case LuaForm::TextList: return "a string or a table of strings: " + f.type().expected(f);
  }
  return "a value";
}

std::string array_bytes(const FieldDef& f, lua_Integer n) {
  unsigned bits = f.bits ? f.bits : 8;
  std::uint64_t max = bits >= 64 ? ~0ULL : ((1ULL << bits) - 1);
  if (n < 0 || static_cast<std::uint64_t>(n) > max)
    throw std::runtime_error(fmt::format("{}={} is out of range: {} is {}", f.name, n, f.name, f.describe_type()));
  std::string out;
  for (int b = static_cast<int>(bits) - 8; b >= 0; b -= 8) out.push_back(static_cast<char>(static_cast<std::uint64_t>(n) >> b));
  return out;
}

lua_Integer integer_of(lua_State* L, int idx, const FieldDef& f) {
  int isnum = 0;
  lua_Integer n = lua_tointegerx(L, idx, &isnum);
  if (!isnum)
    throw std::runtime_error(fmt::format("{}={} is not an integer: {} is {}", f.name, lua_tonumber(L, idx), f.name,
                                         f.describe_type()));
  return n;
}

// A field value written in the DSL, compiled against the session (tcp options).
FieldValue dsl_value(Session& s, const LayerDef& def, const FieldDef& f, const std::string& text) {
  ast::ExprPtr e = parse_expression(Source::make(fmt::format("<{}.{}>", def.name, f.name), text));
  return s.field_value(def, f, *e);
}

// One Lua value (not a generator) as a concrete value of field f.
FieldValue to_field(lua_State* L, int idx, Session& s, const LayerDef& def, const FieldDef& f) {
  const Registry& reg = s.registry();
  const LuaForm form = f.type().lua_form();
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER: {
      lua_Integer n = integer_of(L, idx, f);
      if (form == LuaForm::IntegerList) {
        FieldValue v;
        v.bytes = array_bytes(f, n);
        return v;
      }
      return coerce_number(def, f, static_cast<std::uint64_t>(n), n < 0, Pos{});
    }
    case LUA_TSTRING: {
      std::string text = lua_string(L, idx);
      if (f.kind == FieldKind::Bytes && reg.has_options(def.name, f.name)) return dsl_value(s, def, f, text);
      if (form == LuaForm::IntegerList) return dsl_value(s, def, f, text);
      if (form == LuaForm::TextList) return f.type().from_texts(def, f, {text}, Pos{});
      return coerce_text(def, f, text, Pos{});
    }
    case LUA_TTABLE:
      if (form == LuaForm::TextList) {
        std::vector<std::string> texts;
        lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, idx));
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_rawgeti(L, idx, i);
          if (lua_type(L, -1) != LUA_TSTRING)
            throw std::runtime_error(fmt::format("{}.{}[{}] is a {}; expected a string", def.name, f.name, i,
                                                 luaL_typename(L, -1)));
          texts.push_back(lua_string(L, -1));
          lua_pop(L, 1);
        }
        return f.type().from_texts(def, f, texts, Pos{});
      }
      if (form == LuaForm::IntegerList) {
        FieldValue v;
        lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, idx));
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_rawgeti(L, idx, i);
          if (lua_type(L, -1) != LUA_TNUMBER)
            throw std::runtime_error(fmt::format("{}.{}[{}] is a {}; expected an integer", def.name, f.name, i,
                                                 luaL_typename(L, -1)));
          v.bytes += array_bytes(f, integer_of(L, -1, f));
          lua_pop(L, 1);
        }
        return v;
      }
      break;
    case LUA_TUSERDATA:
      if (form == LuaForm::Bytes)
        if (SetPtr* p = test_packet(L, idx)) {
          const Packet& pk = finalized(**p);
          FieldValue v;
          v.bytes.assign(pk.bytes().begin(), pk.bytes().end());
          return v;
        }
      break;
    default: break;
  }
  throw std::runtime_error(fmt::format("cannot set {}.{} to a {}: {} is {}; expected {}", def.name, f.name,
                                       luaL_typename(L, idx), f.name, f.type_name, expected_word(reg, def, f)));
}

// nil is never a field value: a nil from a typo (ports[3]) must not reset a
// field silently. Resetting is spelled pkt.default or pkt.auto.
[[noreturn]] void nil_field(const LayerDef& def, const FieldDef& f, const std::string& where = "") {
  throw std::runtime_error(fmt::format("cannot set {}.{}{} to nil (use pkt.default to reset a field to its default, "
                                       "or pkt.auto to let its rule compute it)",
                                       def.name, f.name, where));
}

// Sets field fi of layer `layer` in the set from the Lua value at idx:
// pkt.default restores the default (or the bound value), pkt.auto hands the
// field to its auto rule, a sequence makes the field a generator, anything
// else but nil is one value. Writing a generator field replaces its
// generator. Goes through Packet::set, so after finalize only what depends
// on the field is recomputed.
void assign(lua_State* L, int idx, Session& s, PacketSet& set, std::size_t layer, std::size_t fi) {
  idx = lua_absindex(L, idx);
  Packet& t = set.tmpl;
  std::shared_ptr<const LayerDef> defp = t.layers().at(layer).def;
  const LayerDef& def = *defp;
  const FieldDef& f = def.fields.at(fi);
  const Registry& reg = s.registry();
  bool options = f.kind == FieldKind::Bytes && reg.has_options(def.name, f.name);

  FieldValue v;
  Origin origin = Origin::User;
  std::vector<Dim> dims;
  for (auto& d : set.dims)
    if (d.layer != layer || d.field != fi) dims.push_back(d);
  int type = lua_type(L, idx);
  Reset reset = test_reset(L, idx);
  if (type == LUA_TNIL) nil_field(def, f);
  if (reset == Reset::Auto) {
    if (!f.auto_rule)
      throw std::runtime_error(fmt::format("{}.{} has no auto rule: use pkt.default to reset it to its default",
                                           def.name, f.name));
    v = f.default_value;
    origin = Origin::Auto;  // even where a binding would set it
  } else if (reset == Reset::Default) {
    v = f.default_value;
    origin = Origin::Default;
    if (layer + 1 < t.layers().size())
      if (const Binding* b = reg.binding(def.name, t.layers()[layer + 1].def->name, fi)) {
        v = b->value;
        origin = Origin::Bound;
      }
  } else if (type == LUA_TTABLE && f.kind != FieldKind::Array && f.type().lua_form() != LuaForm::TextList && !options) {
    Dim d;
    d.layer = layer;
    d.field = fi;
    lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, idx));
    if (n == 0)
      throw std::runtime_error(fmt::format("an empty table gives no packets; expected a sequence of values for {}.{}",
                                           def.name, f.name));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, idx, i);
      if (lua_isnil(L, -1)) nil_field(def, f, fmt::format(" (element {} of the sequence)", i));
      if (Reset r = test_reset(L, -1); r != Reset::None)
        throw std::runtime_error(fmt::format("{} is not a value for one packet of a set: assign it to {}.{} itself",
                                             reset_name(r), def.name, f.name));
      d.values.push_back(to_field(L, -1, s, def, f));
      lua_pop(L, 1);
    }
    v = d.values.front();
    dims.push_back(std::move(d));
  } else {
    v = to_field(L, idx, s, def, f);
  }
  {
    PacketSet probe;
    probe.dims = dims;
    probe.count();  // throws when the product overflows
  }
  bool refinalize = origin != Origin::User && f.auto_rule && t.finalized();
  if (set.list) {
    // A capture: the write applies to every packet that has this layer.
    if (!dims.empty())
      throw std::runtime_error(fmt::format("the packets of a capture cannot range {}.{}: give one value, or edit "
                                           "packets one by one (for q in cap:each() do ... end)", def.name, f.name));
    auto edited = std::make_shared<std::vector<Packet>>(*set.list);
    for (Packet& q : *edited) {
      int ql = q.layer_index(def.name);
      if (ql < 0) continue;
      int qf = q.layers()[ql].def->field_index(f.name);
      if (qf < 0) continue;
      q.set(static_cast<std::size_t>(ql), static_cast<std::size_t>(qf), v, origin, Pos{});
      if (refinalize) q.finalize();
    }
    set.list = std::move(edited);
  }
  t.set(layer, fi, std::move(v), origin, Pos{});
  if (refinalize) t.finalize();  // an auto field given back to its rule
  set.dims = std::move(dims);
}

[[noreturn]] void unknown_field(const LayerDef& def, const std::string& name) {
  std::vector<std::string> names = def.field_names();
  std::string hint = nearest_name(name, names);
  throw std::runtime_error(fmt::format("{} has no field '{}'{}", def.name, name,
                                       hint.empty() ? fmt::format("; its fields are {}", fmt::join(names, ", "))
                                                    : fmt::format("; did you mean '{}'?", hint)));
}

std::size_t field_of(lua_State* L, int idx, const LayerDef& def) {
  if (lua_type(L, idx) != LUA_TSTRING)
    throw std::runtime_error(fmt::format("a field of {} is named by a string, not a {}", def.name, luaL_typename(L, idx)));
  std::string key = lua_string(L, idx);
  int fi = def.field_index(key);
  if (fi < 0) unknown_field(def, key);
  return static_cast<std::size_t>(fi);
}

// ---- summaries ---------------------------------------------------------

// `udp(sport=1000, dport=[1, 2], ...)`: every field of one layer.
std::string layer_text(const PacketSet& set, std::size_t l) {
  const LayerInst& li = set.tmpl.layers()[l];
  const LayerDef& def = *li.def;
  std::vector<std::string> parts;
  for (std::size_t f = 0; f < li.fields.size(); ++f) {
    const FieldDef& fd = def.fields[f];
    auto dim = std::find_if(set.dims.begin(), set.dims.end(), [&](const Dim& d) { return d.layer == l && d.field == f; });
    if (dim != set.dims.end()) parts.push_back(fmt::format("{}={}", fd.name, format_dim(fd, *dim, 4)));
    else
      parts.push_back(fmt::format("{}={}", fd.name, format_value(fd, li.fields[f].value)));
  }
  return fmt::format("{}({})", def.name, fmt::join(parts, ", "));
}

// ---- packet methods ----------------------------------------------------

SetPtr payload_set(Session& s, const std::string& bytes) {
  auto def = s.registry().layer("raw");
  if (!def || def->fields.empty() || def->fields[0].kind != FieldKind::Bytes)
    throw std::runtime_error("a payload needs the stdlib layer 'raw { load : bytes }'");
  auto ps = std::make_shared<PacketSet>();
  ps->tmpl.push_layer(def);
  FieldValue v;
  v.bytes = bytes;
  ps->tmpl.set(0, 0, std::move(v), Origin::User);
  ps->tmpl.finalize();
  return ps;
}

SetPtr stack_operand(lua_State* L, int idx, Session& s) {
  if (SetPtr* p = test_packet(L, idx)) return *p;
  if (lua_type(L, idx) == LUA_TSTRING) return payload_set(s, lua_string(L, idx));
  throw std::runtime_error(fmt::format("cannot stack a {}: expected a packet (e.g. udp{{dport = 9}}) or a string payload",
                                       luaL_typename(L, idx)));
}

int p_div(lua_State* L) {
  Session& s = *context(L).session;
  SetPtr a = stack_operand(L, 1, s);
  SetPtr b = stack_operand(L, 2, s);
  auto out = std::make_shared<PacketSet>(*a);
  std::size_t base = out->tmpl.layers().size();
  out->tmpl.stack(b->tmpl, s.registry());
  for (Dim d : b->dims) {
    d.layer += base;
    out->dims.push_back(std::move(d));
  }
  out->count();
  out->tmpl.finalize();
  push_packet(L, std::move(out));
  return 1;
}

int p_len(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(finalized(*check_packet(L, 1)).size()));
  return 1;
}

int p_tostring(lua_State* L) {
  const SetPtr& sp = check_packet(L, 1);
  const Packet& p = finalized(*sp);
  // The one printer of DSL text (also :save and `pkt read --format pkt`).
  std::uint64_t n = sp->count();
  std::string text = fmt::format("{} ({})", render_pkt(*sp, &context(L).session->registry(), 4),
                                 n == 1 ? fmt::format("{} bytes", p.size())
                                        : fmt::format("{} packets, the first {} bytes", n, p.size()));
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int p_bytes(lua_State* L) {
  const Packet& p = finalized(*check_packet(L, 1));
  lua_pushlstring(L, reinterpret_cast<const char*>(p.bytes().data()), p.size());
  return 1;
}

int p_hex(lua_State* L) {
  std::string t = render_hex(finalized(*check_packet(L, 1)));
  lua_pushlstring(L, t.data(), t.size());
  return 1;
}

// p:json(): the packet as the JSON object of `pkt read --format json`
// ({"len": N, "layers": [...]}); a set of several packets gives an array of
// them, each with its "n".
int p_json(lua_State* L) {
  const SetPtr& sp = check_packet(L, 1);
  const Registry* reg = &context(L).session->registry();
  const std::uint64_t n = sp->count();
  std::uint64_t k = 0;
  std::string out = n > 1 ? "[" : "";
  sp->for_each([&](const Packet& p) {
    if (k) out += ", ";
    ++k;
    out += render_json(p, reg, n > 1 ? fmt::format("\"n\": {}, \"len\": {}", k, p.size()) : fmt::format("\"len\": {}", p.size()));
    return true;
  });
  if (n > 1) out += "]";
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

template <bool Show>
int p_print(lua_State* L) {
  const SetPtr& sp = check_packet(L, 1);
  bool color = context(L).color;
  std::uint64_t n = sp->count(), k = 0;
  sp->for_each([&](const Packet& p) {
    if (n > 1) fmt::print("# packet {} of {}\n", ++k, n);
    fmt::print("{}", Show ? render_show(p, color, &context(L).session->registry()) : render_hexdump(p));
    return true;
  });
  return 0;
}

int p_clone(lua_State* L) {
  push_packet(L, std::make_shared<PacketSet>(*check_packet(L, 1)));
  return 1;
}

int p_count(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_packet(L, 1)->count()));
  return 1;
}

int p_each_next(lua_State* L) {
  SetPtr* sp = test_packet(L, lua_upvalueindex(1));
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
  if (!sp || static_cast<std::uint64_t>(i) >= (*sp)->count()) {
    lua_pushnil(L);
    return 1;
  }
  auto one = std::make_shared<PacketSet>();
  one->tmpl = (*sp)->at(static_cast<std::uint64_t>(i));
  lua_pushinteger(L, i + 1);
  lua_replace(L, lua_upvalueindex(2));
  push_packet(L, std::move(one));
  return 1;
}

// for q in p:each() do ... end: iterates a snapshot of the set.
int p_each(lua_State* L) {
  auto snap = std::make_shared<PacketSet>(*check_packet(L, 1));
  snap->count();
  push_packet(L, std::move(snap));
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, guarded<p_each_next>, 2);
  return 1;
}

// p:has("tcp"): whether the packet has that layer.
int p_has(lua_State* L) {
  const Packet& p = check_packet(L, 1)->tmpl;
  std::string name = luaL_checkstring(L, 2);
  lua_pushboolean(L, p.layer_index(name) >= 0);
  return 1;
}

int p_layers(lua_State* L) {
  const Packet& p = check_packet(L, 1)->tmpl;
  lua_createtable(L, static_cast<int>(p.layers().size()), 0);
  for (std::size_t i = 0; i < p.layers().size(); ++i) {
    lua_pushstring(L, p.layers()[i].def->name.c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

std::vector<std::string> method_names(lua_State* L, int methods) {
  std::vector<std::string> out;
  lua_pushnil(L);
  while (lua_next(L, methods)) {
    if (lua_type(L, -2) == LUA_TSTRING) out.push_back(lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  return out;
}

// p[i] or p.NAME: the layer proxy (nil for an index out of range).
bool push_layer_by_key(lua_State* L, const SetPtr& sp, int key) {
  const Packet& p = sp->tmpl;
  if (lua_type(L, key) == LUA_TNUMBER) {
    lua_Integer i = lua_tointeger(L, key);
    if (i < 1 || static_cast<std::size_t>(i) > p.layers().size()) lua_pushnil(L);
    else push_layer_ref(L, sp, static_cast<std::size_t>(i - 1));
    return true;
  }
  if (lua_type(L, key) != LUA_TSTRING) return false;
  int li = p.layer_index(lua_tostring(L, key));
  if (li < 0) return false;
  push_layer_ref(L, sp, static_cast<std::size_t>(li));
  return true;
}

std::string layer_list(const Packet& p) {
  std::vector<std::string> names;
  for (auto& l : p.layers()) names.push_back(l.def->name);
  return fmt::format("{}", fmt::join(names, ", "));
}

int p_layer(lua_State* L) {
  const SetPtr& sp = check_packet(L, 1);
  luaL_checkany(L, 2);
  if (push_layer_by_key(L, sp, 2)) return 1;
  throw std::runtime_error(fmt::format("the packet has no layer {}; its layers are {}", luaL_tolstring(L, 2, nullptr),
                                       layer_list(sp->tmpl)));
}

// __index: methods (upvalue 1), then layers by name or position.
int p_index(lua_State* L) {
  const SetPtr& sp = check_packet(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
  }
  if (push_layer_by_key(L, sp, 2)) return 1;
  if (lua_type(L, 2) != LUA_TSTRING)
    throw std::runtime_error(fmt::format("a packet is indexed by a layer name or position, not a {}", luaL_typename(L, 2)));
  std::string key = lua_tostring(L, 2);
  // A layer this packet does not have (a reply without tcp): nil, so `if p.tcp then` works.
  if (context(L).session->registry().layer(key)) {
    lua_pushnil(L);
    return 1;
  }
  std::vector<std::string> cands;
  for (auto& l : sp->tmpl.layers()) cands.push_back(l.def->name);
  for (auto& m : method_names(L, lua_upvalueindex(1))) cands.push_back(m);
  std::string hint = nearest_name(key, cands);
  throw std::runtime_error(fmt::format("the packet has no layer or method '{}'{}; its layers are {}", key,
                                       hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                       layer_list(sp->tmpl)));
}

int p_newindex(lua_State* L) {
  check_packet(L, 1);
  throw std::runtime_error(fmt::format("cannot assign to packet.{}: set a layer's fields instead (p.udp.dport = 9)",
                                       luaL_tolstring(L, 2, nullptr)));
}

// ---- layer proxies -----------------------------------------------------

int l_index(lua_State* L) {
  LayerRef& r = check_layer(L, 1);
  const Packet& p = finalized(*r.set);
  const LayerInst& li = p.layers().at(r.layer);
  std::size_t fi = field_of(L, 2, *li.def);
  push_field(L, li.def->fields[fi], li.fields[fi].value);
  return 1;
}

int l_newindex(lua_State* L) {
  LayerRef& r = check_layer(L, 1);
  SetPtr keep = r.set;
  std::size_t fi = field_of(L, 2, *keep->tmpl.layers().at(r.layer).def);
  assign(L, 3, *context(L).session, *keep, r.layer, fi);
  return 0;
}

int l_tostring(lua_State* L) {
  LayerRef& r = check_layer(L, 1);
  finalized(*r.set);
  std::string t = layer_text(*r.set, r.layer);
  lua_pushlstring(L, t.data(), t.size());
  return 1;
}

int l_pairs_next(lua_State* L) {
  LayerRef& r = check_layer(L, 1);
  const Packet& p = finalized(*r.set);
  const LayerInst& li = p.layers().at(r.layer);
  std::size_t next = 0;
  if (!lua_isnil(L, 2)) next = field_of(L, 2, *li.def) + 1;
  if (next >= li.fields.size()) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushstring(L, li.def->fields[next].name.c_str());
  push_field(L, li.def->fields[next], li.fields[next].value);
  return 2;
}

// for name, value in pairs(p.udp): the fields in order.
int l_pairs(lua_State* L) {
  check_layer(L, 1);
  lua_pushcfunction(L, guarded<l_pairs_next>);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// ---- constructors ------------------------------------------------------

// ipv4{dst = "127.0.0.1", ttl = 3}: upvalue 1 the layer name, upvalue 2
// how many leading arguments to skip (1 when called as __call).
int layer_ctor(lua_State* L) {
  std::string name = lua_tostring(L, lua_upvalueindex(1));
  int arg = 1 + static_cast<int>(lua_tointeger(L, lua_upvalueindex(2)));
  Session& s = *context(L).session;
  auto def = s.registry().layer(name);
  if (!def) throw std::runtime_error(fmt::format("layer '{}' is not defined", name));
  auto ps = std::make_shared<PacketSet>();
  ps->tmpl.push_layer(def);
  int type = lua_type(L, arg);
  if (type == LUA_TTABLE) {
    std::vector<std::size_t> given;
    lua_pushnil(L);
    while (lua_next(L, arg)) {
      if (lua_type(L, -2) != LUA_TSTRING)
        throw std::runtime_error(fmt::format("expected field = value in {}{{...}}; {} fields are {}", name, name,
                                             fmt::join(def->field_names(), ", ")));
      given.push_back(field_of(L, -2, *def));
      lua_pop(L, 1);
    }
    // Field order, not table order: generators nest in reading order.
    std::sort(given.begin(), given.end());
    for (std::size_t fi : given) {
      lua_getfield(L, arg, def->fields[fi].name.c_str());
      assign(L, -1, s, *ps, 0, fi);
      lua_pop(L, 1);
    }
  } else if (type != LUA_TNONE && type != LUA_TNIL) {
    throw std::runtime_error(fmt::format("{} takes a table of field = value, e.g. {}{{{} = ...}}; got a {}", name, name,
                                         def->fields.empty() ? "field" : def->fields.front().name,
                                         luaL_typename(L, arg)));
  }
  ps->count();
  ps->tmpl.finalize();
  push_packet(L, std::move(ps));
  return 1;
}

}  // namespace

// ---- exported ------------------------------------------------------------

std::shared_ptr<PacketSet>* test_packet(lua_State* L, int idx) {
  return static_cast<SetPtr*>(luaL_testudata(L, idx, kPacketMT));
}

const std::shared_ptr<PacketSet>& check_packet(lua_State* L, int idx) {
  SetPtr* p = test_packet(L, idx);
  if (!p) luaL_typeerror(L, idx, "packet");
  return *p;
}

void push_packet(lua_State* L, std::shared_ptr<PacketSet> set) { new_udata(L, kPacketMT, std::move(set)); }

Reset test_reset(lua_State* L, int idx) {
  auto* r = static_cast<Reset*>(luaL_testudata(L, idx, kResetMT));
  return r ? *r : Reset::None;
}

void push_reset(lua_State* L, Reset r) {
  lua_getfield(L, LUA_REGISTRYINDEX, reset_name(r));
}

void push_layer_constructor(lua_State* L, const std::string& name, bool method) {
  lua_pushlstring(L, name.data(), name.size());
  lua_pushinteger(L, method ? 1 : 0);
  lua_pushcclosure(L, guarded<layer_ctor>, 2);
}

void open_packet_lib(lua_State* L) {
  static const luaL_Reg methods[] = {
      {"bytes", guarded<p_bytes>},   {"hex", guarded<p_hex>},         {"show", guarded<p_print<true>>},
      {"hexdump", guarded<p_print<false>>}, {"clone", guarded<p_clone>}, {"count", guarded<p_count>},
      {"each", guarded<p_each>},     {"layers", guarded<p_layers>},   {"layer", guarded<p_layer>},
      {"has", guarded<p_has>},       {"json", guarded<p_json>},
      {nullptr, nullptr}};
  luaL_newmetatable(L, kPacketMT);
  luaL_newlib(L, methods);
  lua_pushcclosure(L, guarded<p_index>, 1);
  lua_setfield(L, -2, "__index");
  static const luaL_Reg meta[] = {{"__newindex", guarded<p_newindex>}, {"__len", guarded<p_len>},
                                  {"__tostring", guarded<p_tostring>}, {"__div", guarded<p_div>},
                                  {"__gc", gc<SetPtr>},                {nullptr, nullptr}};
  luaL_setfuncs(L, meta, 0);
  lua_pushliteral(L, "packet");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "packet");  // getmetatable(p) gives this, not the table: __gc stays out of reach
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);

  luaL_newmetatable(L, kLayerMT);
  static const luaL_Reg lmeta[] = {{"__index", guarded<l_index>},       {"__newindex", guarded<l_newindex>},
                                   {"__tostring", guarded<l_tostring>}, {"__pairs", guarded<l_pairs>},
                                   {"__gc", gc<LayerRef>},              {nullptr, nullptr}};
  luaL_setfuncs(L, lmeta, 0);
  lua_pushliteral(L, "layer");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "layer");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);

  // The two reset values, one userdata each, kept in the registry.
  luaL_newmetatable(L, kResetMT);
  lua_pushcfunction(L, guarded<reset_tostring>);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "reset");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  for (Reset r : {Reset::Default, Reset::Auto}) {
    new_udata(L, kResetMT, r);
    lua_setfield(L, LUA_REGISTRYINDEX, reset_name(r));
  }
}

bool push_expr_value(lua_State* L, Session& s, const ast::Expr& e, int depth) {
  using K = ast::Expr::Kind;
  if (depth > 32) return false;
  switch (e.kind) {
    case K::Int: lua_pushinteger(L, static_cast<lua_Integer>(e.i)); return true;
    case K::NegInt: lua_pushinteger(L, -static_cast<lua_Integer>(e.i)); return true;
    case K::Duration: lua_pushnumber(L, static_cast<lua_Number>(e.i) / 1e9); return true;
    case K::String: case K::Bytes: lua_pushlstring(L, e.s.data(), e.s.size()); return true;
    case K::IPv4: case K::IPv6: case K::MAC: {
      FieldDef f;
      f.kind = e.kind == K::IPv4 ? FieldKind::IPv4 : e.kind == K::IPv6 ? FieldKind::IPv6 : FieldKind::MAC;
      f.bits = e.kind == K::IPv4 ? 32 : e.kind == K::IPv6 ? 128 : 48;
      FieldValue v;
      v.bytes = e.s;
      std::string t = format_value(f, v);
      lua_pushlstring(L, t.data(), t.size());
      return true;
    }
    case K::File: case K::Repeat: {
      auto def = s.registry().layer("raw");
      if (!def || def->fields.empty() || def->fields[0].kind != FieldKind::Bytes) return false;
      try {
        FieldValue v = s.field_value(*def, def->fields[0], e);
        lua_pushlstring(L, v.bytes.data(), v.bytes.size());
        return true;
      } catch (const ScriptError&) {
        return false;
      }
    }
    case K::Name: {
      if (const NameEntry* ne = s.lookup(e.s)) {
        if (ne->kind == NameEntry::Kind::Packet) {
          push_packet(L, ne->packet);
          return true;
        }
        return ne->expr && push_expr_value(L, s, *ne->expr, depth + 1);
      }
      lua_pushlstring(L, e.s.data(), e.s.size());  // an enum or flag name: usable as a field value
      return true;
    }
    case K::Or: {
      std::string text;
      for (auto& it : e.items) {
        if (it->kind == K::Name) text += (text.empty() ? "" : "|") + it->s;
        else if (it->kind == K::Int) text += (text.empty() ? "" : "|") + std::to_string(it->i);
        else return false;
      }
      lua_pushlstring(L, text.data(), text.size());
      return true;
    }
    case K::List: {
      lua_createtable(L, static_cast<int>(e.items.size()), 0);
      lua_Integer k = 0;
      for (auto& it : e.items)
        if (push_expr_value(L, s, *it, depth + 1)) lua_rawseti(L, -2, ++k);
      return true;
    }
    case K::Call: case K::Stack:
      try {
        push_packet(L, s.packets(e));
        return true;
      } catch (const ScriptError&) {
        return false;
      }
    default: return false;
  }
}

}  // namespace pkt::lua
