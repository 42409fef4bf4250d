// fragment(P, SIZE) from `fragment` declarations: which layer is split,
// which fields say where a fragment sits, and an optional header inserted
// to carry them. The splitting itself knows no protocol.
#include "fragment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "diagnostic.hpp"

namespace pkt {

namespace {

// The index of a number field of `def`, or a ScriptError at `pos`.
std::size_t number_field(const LayerDef& def, const std::string& name, Pos pos) {
  int fi = def.field_index(name);
  if (fi < 0) {
    std::string hint = nearest_name(name, def.field_names());
    throw ScriptError(pos, fmt::format("{} has no field '{}'{}", def.name, name,
                                       hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
  }
  if (def.fields[fi].kind != FieldKind::UInt)
    throw ScriptError(pos, fmt::format("{}.{} is {}: a fragment field must be a number", def.name, name, def.fields[fi].type_name));
  return static_cast<std::size_t>(fi);
}

// Copies layer `l` of `p` (values and origins) onto the end of `out`.
void copy_layer(Packet& out, const Packet& p, std::size_t l) {
  const LayerInst& li = p.layers()[l];
  out.push_layer(li.def, li.pos);
  std::size_t at = out.layers().size() - 1;
  for (std::size_t f = 0; f < li.fields.size(); ++f)
    if (li.fields[f].origin != Origin::Default) out.set(at, f, li.fields[f].value, li.fields[f].origin, li.pos);
}

std::uint64_t random_u64() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

void Registry::add_fragment(const ast::Stmt& st) {
  const ast::FragmentDecl& d = *st.fragment;
  auto layer_def = layer(d.layer);
  if (!layer_def) {
    std::string hint = nearest_name(d.layer, layer_names());
    throw ScriptError(d.layer_pos, fmt::format("unknown layer '{}'{}", d.layer, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
  }
  std::shared_ptr<const LayerDef> carrier = layer_def;
  if (!d.header.empty()) {
    carrier = layer(d.header);
    if (!carrier) {
      std::string hint = nearest_name(d.header, layer_names());
      throw ScriptError(d.header_pos, fmt::format("unknown layer '{}'{}", d.header, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
    }
  }
  auto rule = std::make_shared<FragmentRule>();
  rule->layer = d.layer;
  rule->header = d.header;
  rule->text = d.text;
  rule->pos = st.pos;
  for (const auto& it : d.items) {
    std::string* slot = it.key == "offset" ? &rule->offset : it.key == "more" ? &rule->more : it.key == "id" ? &rule->id : nullptr;
    if (!slot) {
      std::string hint = nearest_name(it.key, {"offset", "more", "id"});
      throw ScriptError(it.pos, fmt::format("'{}' is not part of a fragment declaration; expected offset, more or id{}", it.key,
                                            hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    if (!slot->empty()) throw ScriptError(it.pos, fmt::format("'{}' is given twice", it.key));
    std::size_t fi = number_field(*carrier, it.field, it.field_pos);
    *slot = it.field;
    if (!it.flag.empty()) {
      if (it.key != "more") throw ScriptError(it.flag_pos, fmt::format("only 'more' names a flag ({}.FLAG)", it.field));
      const auto& flags = carrier->fields[fi].flags;
      auto f = std::find_if(flags.begin(), flags.end(), [&](auto& x) { return x.first == it.flag; });
      if (f == flags.end()) {
        std::vector<std::string> names;
        for (auto& x : flags) names.push_back(x.first);
        throw ScriptError(it.flag_pos, fmt::format("{}.{} has no flag '{}'{}", carrier->name, it.field, it.flag,
                                                   names.empty() ? "" : fmt::format("; its flags are {}", fmt::join(names, ", "))));
      }
      rule->more_mask = f->second;
    }
    if (it.key == "id" && d.header.empty())
      throw ScriptError(it.pos, "'id' is for an inserted header (fragment LAYER with HEADER { ... }): it gets a random value");
  }
  if (rule->offset.empty()) throw ScriptError(st.pos, "a fragment declaration needs 'offset = FIELD' (the offset in 8-byte units)");
  if (rule->more.empty()) throw ScriptError(st.pos, "a fragment declaration needs 'more = FIELD' or 'more = FIELD.FLAG'");
  fragments_[d.layer] = std::move(rule);
  ++generation_;
}

const FragmentRule* Registry::fragment_of(const std::string& name) const {
  auto it = fragments_.find(name);
  return it == fragments_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Registry::fragment_layers() const {
  std::vector<std::string> out;
  for (auto& [n, r] : fragments_) out.push_back(n);
  return out;
}

std::vector<Packet> fragment_packet(const Registry& reg, const Packet& p, std::uint64_t size, Pos pos) {
  if (size == 0 || size % 8)
    throw ScriptError(pos, fmt::format("fragment size {} is not a positive multiple of 8 (fragment offsets count 8-byte units)", size));
  const auto& L = p.layers();
  std::size_t k = 0;
  const FragmentRule* rule = nullptr;
  for (; k < L.size() && !rule; ++k) rule = reg.fragment_of(L[k].def->name);
  if (!rule)
    throw ScriptError(pos, fmt::format("fragment(): the packet has no layer that fragments (declared for {})",
                                       fmt::join(reg.fragment_layers(), ", ")));
  --k;
  auto raw = reg.layer("raw");
  if (!raw || raw->fields.empty() || raw->fields[0].kind != FieldKind::Bytes)
    throw ScriptError(pos, "fragments need the stdlib layer 'raw { load : bytes }'");
  // The layers every fragment repeats, and the one whose fields say where it sits.
  std::size_t keep = k + 1;  // layers [0, keep) are repeated
  int existing = -1;         // the packet's own header, when it has one
  if (!rule->header.empty())
    for (std::size_t h = k + 1; h < L.size(); ++h)
      if (L[h].def->name == rule->header) { existing = static_cast<int>(h); keep = h; break; }
  const std::size_t data_layer = existing >= 0 ? static_cast<std::size_t>(existing) : k;
  const auto& buf = p.bytes();
  const std::uint32_t db = L[data_layer].offset + L[data_layer].size, de = std::max(db, L[data_layer].payload_end);
  const std::string data(reinterpret_cast<const char*>(buf.data()) + db, de - db);
  const std::uint64_t n = data.empty() ? 1 : (data.size() + size - 1) / size;
  const std::uint64_t id = random_u64();

  std::vector<Packet> out;
  for (std::uint64_t i = 0; i < n; ++i) {
    Packet f;
    for (std::size_t l = 0; l < keep; ++l) copy_layer(f, p, l);
    std::size_t carrier = k;
    if (!rule->header.empty()) {
      Packet hdr;
      if (existing >= 0) {
        copy_layer(hdr, p, static_cast<std::size_t>(existing));
      } else {
        auto hdef = reg.layer(rule->header);
        if (!hdef) throw ScriptError(pos, fmt::format("fragment(): layer '{}' is no longer declared", rule->header));
        hdr.push_layer(hdef, pos);
        // The header takes over the choice of the next layer: it gets the
        // value that chose it, and the layer below is bound to the header.
        int sel = L[k].selector;
        if (sel >= 0) {
          std::string upper = k + 1 < L.size() ? L[k + 1].def->name : "";
          const Binding* b = upper.empty() ? nullptr : reg.binding(rule->header, upper);
          int hf = b ? static_cast<int>(b->field) : hdef->field_index(L[k].def->fields[sel].name);
          if (hf >= 0) hdr.set(0, static_cast<std::size_t>(hf), L[k].fields[sel].value, Origin::Bound, pos);
          f.set(k, static_cast<std::size_t>(sel), L[k].def->fields[sel].default_value, Origin::Default, pos);
        }
        if (!rule->id.empty()) {
          const FieldDef& idf = hdef->fields[static_cast<std::size_t>(hdef->field_index(rule->id))];
          hdr.set(0, static_cast<std::size_t>(hdef->field_index(rule->id)), id & idf.max(), Origin::User, pos);
        }
      }
      f.stack(hdr, reg);
      carrier = f.layers().size() - 1;
    }
    const LayerDef& cdef = *f.layers()[carrier].def;
    const std::size_t off = static_cast<std::size_t>(cdef.field_index(rule->offset));
    const std::size_t more = static_cast<std::size_t>(cdef.field_index(rule->more));
    const std::uint64_t base = f.layers()[carrier].fields[off].value.num;
    const FieldDef& offd = cdef.fields[off];
    if (base + i * size / 8 > offd.max())
      throw ScriptError(pos, fmt::format("fragment {} would start at {} bytes, past what {}.{} ({}) can say", i + 1,
                                         (base + i * size / 8) * 8, cdef.name, offd.name, offd.describe_type()));
    f.set(carrier, off, base + i * size / 8, Origin::User, pos);
    if (i + 1 < n) f.set(carrier, more, f.layers()[carrier].fields[more].value.num | rule->more_mask, Origin::User, pos);
    Packet load;
    load.push_layer(raw, pos);
    FieldValue v;
    v.bytes = data.substr(static_cast<std::size_t>(i * size), static_cast<std::size_t>(size));
    load.set(0, 0, std::move(v), Origin::User, pos);
    f.stack(load, reg);
    f.set_pos(p.pos().src ? p.pos() : pos);
    f.finalize();
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace pkt
