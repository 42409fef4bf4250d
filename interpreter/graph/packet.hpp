// The packet graph: a stack of layer instances whose field values record
// where they came from (user > bound > default, or computed by an auto rule).
// finalize() evaluates innermost layer first, checksums last; set() changes
// one field and recomputes only what depends on it (RFC 1624 for checksums).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layer_def.hpp"

namespace pkt {

// Wire: read from bytes and different from what the rule would compute (a
// read value equal to it is Auto). Wire wins like User. Route: computed by
// a rule that asked the kernel (route_source); like Auto otherwise. A read
// value of such a field stays Wire: reading never asks the kernel.
enum class Origin : std::uint8_t { Default, Bound, User, Auto, Wire, Route };
const char* origin_name(Origin o);
// Set by the user or read from the wire: wins over an auto rule.
inline bool is_given(Origin o) { return o == Origin::User || o == Origin::Wire; }
// Computed by the field's rule.
inline bool is_computed(Origin o) { return o == Origin::Auto || o == Origin::Route; }

struct FieldSlot {
  FieldValue value;
  Origin origin = Origin::Default;
  std::uint32_t bit_offset = 0;  // from the start of the packet
  std::uint32_t bit_size = 0;
  bool present = true;  // false when the field's `if` is false: it takes no bytes
};

struct LayerInst {
  std::shared_ptr<const LayerDef> def;
  std::vector<FieldSlot> fields;
  std::uint32_t offset = 0;  // bytes from the start of the packet
  std::uint32_t size = 0;    // bytes
  std::uint32_t payload_end = 0;  // where its payload ends (before trailers, see below)
  Pos pos;                   // where the layer was written, for errors about it
  int selector = -1;         // the field that a binding set to choose the layer above, or -1
  const LayerDef* slots_def = nullptr;  // reading: the definition whose fields the slots hold
  // Bytes after the payload that a `payload size` rule left out (Ethernet
  // padding after an IPv4 packet). Trailers follow all layers, innermost first.
  std::string trailer;
};

class Packet {
 public:
  Packet() = default;

  // Appends a layer with its defaults; `pos` is used for errors about it.
  void push_layer(std::shared_ptr<const LayerDef> def, Pos pos = {});
  // Stacks `upper` on top: appends its layers and applies bindings between
  // the two layers that meet (a bound value never replaces a user value).
  void stack(const Packet& upper, const class Registry& reg);
  // Sets a field before or after finalize. Range-checked: throws ScriptError
  // at `pos` naming the field and its range. After finalize, recomputes only
  // what depends on the field.
  void set(std::size_t layer, std::size_t field, FieldValue v, Origin origin = Origin::User, Pos pos = {});
  void set(std::size_t layer, std::size_t field, std::uint64_t v, Origin origin = Origin::User, Pos pos = {});

  // Full evaluation: layout, values, then auto rules innermost first.
  // Throws ScriptError when a computed value does not fit its field
  // (e.g. an IPv4 total length over 65535).
  void finalize();
  bool finalized() const { return finalized_; }
  // Bumped by every new layout: a FastPlan is valid only for the layout it was made on.
  std::uint64_t layout_version() const { return layout_version_; }

  const std::vector<std::uint8_t>& bytes() const { return buf_; }
  std::size_t size() const { return buf_.size(); }
  const std::vector<LayerInst>& layers() const { return layers_; }
  int layer_index(const std::string& name) const;  // first layer with that name, or -1
  // Notes from reading: why the rest became raw, a length larger than the bytes.
  const std::vector<std::string>& notes() const { return notes_; }
  void add_note(std::string n) { notes_.push_back(std::move(n)); }
  // Sets a layer's trailer (a new layout).
  void set_trailer(std::size_t layer, std::string bytes);
  // After reading: a Wire field equal to what its rule computes becomes Auto.
  void resolve_wire_origins();
  // A read-rule value (size, if, when) over field values of layer l.
  std::uint64_t eval_read_rule(const AutoExpr& e, std::size_t l) const;
  const Pos& pos() const { return pos_; }
  void set_pos(Pos p) { pos_ = p; }

  // What an auto field's rule computes, whatever the field holds now (for
  // `show` beside a user's deliberately wrong checksum). Needs finalize().
  FieldValue computed_value(std::size_t layer, std::size_t field) const;

  // A precomputed update for the generator's hot loop: a byte-aligned number
  // field whose change reaches only checksums (updated per RFC 1624) that
  // nothing else depends on. valid is false when set() must be used.
  struct FastPlan {
    bool valid = false;
    std::size_t layer = 0, field = 0;
    std::uint32_t byte = 0, nbytes = 0;
    bool as_bytes = false;  // the field holds bytes (an address), set from a big-endian number
    struct Sum { std::size_t layer, field, flat; std::uint32_t byte, seg_begin, stream; int wrap; std::uint64_t alt; };
    std::vector<Sum> sums;
  };
  FastPlan plan(std::size_t layer, std::size_t field);
  void apply(const FastPlan& plan, std::uint64_t v);

  // Flat index of a field for dependency tables.
  std::size_t flat_index(std::size_t layer, std::size_t field) const { return field_base_[layer] + field; }

 private:

  void layout();
  void write_field(const FieldSlot& slot, const FieldDef& def);
  void evaluate_auto(std::size_t layer, std::size_t field);
  void on_changed(std::size_t flat, std::uint32_t byte_begin, std::uint32_t byte_end, const std::uint8_t* old_bytes);
  void build_deps();
  // The fields of layers below l a rule names as LAYER.FIELD, but for the nodes in `skip` and below them.
  void lower_fields(const AutoExpr& e, std::size_t l, std::vector<std::size_t>& out,
                    const std::vector<const AutoExpr*>* skip = nullptr) const;

  friend class Dissector;
  void check_sizes() const;

  std::vector<LayerInst> layers_;
  std::vector<std::string> notes_;
  std::vector<std::size_t> field_base_;
  std::vector<std::uint8_t> buf_;
  Pos pos_;
  bool finalized_ = false;
  std::uint64_t layout_version_ = 0;
  std::shared_ptr<const struct DepTable> deps_;  // shared by copies with the same layout
  std::vector<std::uint32_t> sums_;  // cached checksum sums, by flat field index
  std::vector<std::uint8_t> state_;  // per flat field: 0 todo, 1 computing, 2 done (finalize only)
};

}  // namespace pkt
