// Text renderings of packets: show (layers, fields, origins), hexdump
// (like tcpdump -X), hex (one line of lowercase hex).
#pragma once

#include <cstdint>
#include <cstddef>
#include <string>

#include "packet_set.hpp"

namespace pkt {

class Registry;

// `reg` (optional) lets lists of options print as [mss(1460), nop].
std::string render_show(const Packet& p, bool color = false, const Registry* reg = nullptr);
// DSL text that rebuilds the packet: `ipv4(dst=1.2.3.4) / tcp(dport=80) / "hi"`.
// Fields a rule computes, defaults and bound values are left out; what the
// user or the wire set is written. Generators print as ranges or lists, cut
// after `max_values` values.
std::string render_pkt(const PacketSet& set, const Registry* reg, std::size_t max_values = SIZE_MAX);
std::string render_pkt(const Packet& p, const Registry* reg);
// One JSON object: {"layers": [{"layer": "ipv4", "fields": {...}}, ...]}
// without the enclosing braces' n/time/len, which the caller adds.
std::string render_json_layers(const Packet& p, const Registry* reg, std::size_t from = 0);  // from: the first layer
// The one JSON object of a packet (docs/reading.md#json), on one line, no
// newline: `head` holds the keys before "layers", without a trailing comma
// ("\"n\": 1, \"len\": 54"; empty for none).
std::string render_json(const Packet& p, const Registry* reg, const std::string& head, std::size_t from = 0);
// A JSON string literal, quotes included; bytes outside printable ASCII are
// \u00XX (bytes as read), or with keep_utf8 those above 0x7f stay as they
// are (text known to be UTF-8, such as a declaration's doc string).
std::string json_string(const std::string& s, bool keep_utf8 = false);
// A capture time as the JSON number of the schema: seconds with 9 decimals.
std::string json_time(std::int64_t sec, std::uint32_t nsec);
// tcpdump-like one line: each layer's `summary`, or its name.
std::string render_summary(const Packet& p, std::size_t from = 0);  // from: the first layer to show
std::string render_hex(const Packet& p);
// tcpdump -X style: "\t0x0000:  4500 0034 ...  E..4...."
std::string hexdump(const std::uint8_t* data, std::size_t n);
inline std::string render_hexdump(const Packet& p) { return hexdump(p.bytes().data(), p.size()); }
// A field's value as written in a script (decimal, address, hex"..", enum or flag names).
std::string format_value(const FieldDef& f, const FieldValue& v);
// A generator as written in a script: `lo..hi` (numbers or IPv4 addresses)
// or `[a, b, ...]`, a list cut after `max_values` values with a count.
std::string format_dim(const FieldDef& f, const Dim& d, std::size_t max_values = SIZE_MAX);

}  // namespace pkt
