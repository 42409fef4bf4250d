// Reading: bytes to layers, driven only by the declarations. The first
// layer comes from a pcap link type (`bind pcap.linktype = N -> L`) or is
// given; each next one from the bindings used backwards (`bind L.F = V -> U`
// read as "F == V means U follows"). Fields read keep the origin Wire; what
// does not fit becomes `raw`, with a note saying why. Never reads past the
// buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "packet.hpp"

namespace pkt {

class Dissector {
 public:
  explicit Dissector(const Registry& reg) : reg_(reg) {}

  // The layers bound to a pcap link type, in the order to try; raw (with a
  // note) when none is, empty when there is no raw layer either.
  std::vector<ReadBind> first_for_linktype(std::uint32_t linktype) const;
  static std::vector<ReadBind> first_is(std::shared_ptr<const LayerDef> layer);

  // Dissects into `out`, reusing its storage (the fast path for captures).
  // `out` is finalized; call out.resolve_wire_origins() before showing it.
  void dissect(const std::uint8_t* data, std::size_t n, const std::vector<ReadBind>& first, Packet& out);
  Packet dissect(const std::uint8_t* data, std::size_t n, const std::vector<ReadBind>& first);
  // Reads data[pos, end) as one layer `def` (an option record): `out` holds
  // just that layer, finalized. False, with `why`, when it does not fit.
  bool read_one(std::shared_ptr<const LayerDef> def, const std::uint8_t* data, std::uint32_t pos, std::uint32_t end,
                Packet& out, std::string& why);

 private:
  // Reads one layer at `pos`, bounded by `end`, as layer `idx` of out.
  // Returns false (with `why`) when it does not fit.
  bool read_layer(const LayerDef& def, const std::uint8_t* data, std::uint32_t pos, std::uint32_t end, std::size_t idx,
                  Packet& out, std::string& why);
  // Reads field f's list of options from data[start, stop), element by
  // element, up to `want` elements (a count; ~0 for none), through the
  // option named `until` (if not empty), or (neither) to `stop`. Sets `end`
  // and `got`; false with `why` when an element is none of the options or
  // the list runs short. `msg`/`msg_len`: the message names point into.
  bool read_list(const LayerDef& def, std::size_t f, const std::uint8_t* data, std::uint32_t start, std::uint32_t stop,
                 std::uint64_t want, const std::uint8_t* msg, std::uint32_t msg_len, std::uint32_t& end,
                 std::uint64_t& got, std::string& why);
  // The bindings from one layer, indexed for reading: per field, by value.
  struct NextTable {
    std::shared_ptr<const std::vector<ReadBind>> binds;  // owns what the pointers point at
    struct Entry {
      std::uint64_t value;
      const ReadBind* bind;
    };
    std::vector<std::pair<std::size_t, std::vector<Entry>>> by_field;  // number fields, entries sorted
    std::vector<const ReadBind*> other;                                  // fields bound to bytes (addresses)
    std::vector<const ReadBind*> always;                                 // `bind LOWER -> UPPER`: tried last
  };
  void refresh();
  const NextTable& next_of(const LayerDef* def);

  const Registry& reg_;
  // The message that compression pointers of names refer to (the layer
  // being read, or the host of a list of records), while one is read.
  const std::uint8_t* msg_ = nullptr;
  std::uint32_t msg_len_ = 0;
  std::uint64_t generation_ = ~0ULL;
  std::vector<std::pair<const LayerDef*, std::unique_ptr<NextTable>>> next_;
  std::shared_ptr<const LayerDef> raw_;
  std::vector<const ReadBind*> cands_;
};

// Follows a name (labels, compression pointers) that starts at `pos` of a
// message: each pointer must point before the labels it ends, at most 64
// pointers, 255 bytes in all. False, with `why`, when it cannot be followed.
// With `labels`, they receive the labels in order (views into msg).
bool follow_name(const std::uint8_t* msg, std::uint32_t len, std::uint32_t pos, std::string& why,
                 std::vector<std::string_view>* labels = nullptr);

// One element of a list of declared options, read from a field's bytes:
// the option (null for bytes no option declaration matched) and where it is.
struct OptionElem {
  std::shared_ptr<const LayerDef> def;
  std::uint32_t offset = 0, size = 0;
};
// The option that reads at data[pos, n) (tagged ones match by their first
// field); size 0 when none does.
OptionElem match_option(const std::vector<std::shared_ptr<const LayerDef>>& opts, const std::uint8_t* data,
                        std::uint32_t pos, std::uint32_t n, Dissector& dis, Packet& p, std::string* why = nullptr);
// Splits an options field (starting `at` bytes into its layer) into its
// options. Trailing padding that the field's alignment adds back is left out.
std::vector<OptionElem> read_options(const Registry& reg, const LayerDef& layer, const FieldDef& field,
                                     const std::string& bytes, std::uint32_t at);
// The option read at elem as a one-layer packet (finalized, origins resolved).
Packet option_packet(const Registry& reg, const OptionElem& elem, const std::string& bytes);

}  // namespace pkt
