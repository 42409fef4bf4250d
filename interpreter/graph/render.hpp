// Text renderings of packets: show (layers, fields, origins), hexdump
// (like tcpdump -X), hex (one line of lowercase hex).
#pragma once

#include <cstdint>
#include <cstddef>
#include <string>

#include "packet_set.hpp"

namespace pkt {

std::string render_show(const Packet& p, bool color = false);
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
