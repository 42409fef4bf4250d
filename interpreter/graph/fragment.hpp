// fragment(P, SIZE): splitting a packet's payload into fragments, as a
// `fragment LAYER [with HEADER] { ... }` declaration says (stdlib/20-ip.pkt
// declares ipv4 and ipv6). No layer is known here by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "packet.hpp"

namespace pkt {

// A compiled `fragment` declaration. The fields are the header's when one
// is given (inserted after the layer unless the packet already has it),
// else the layer's own.
struct FragmentRule {
  std::string layer;
  std::string header;      // empty: the layer carries the fields itself
  std::string offset;      // the fragment offset, in 8-byte units
  std::string more;        // the more-fragments field
  std::uint64_t more_mask = 1;  // its flag (more = FIELD.FLAG), or 1
  std::string id;          // an inserted header's identification: random per packet (or empty)
  std::string text;
  Pos pos;
};

// The fragments of one packet, each with at most `size` bytes (a multiple
// of 8) of the payload of the first layer that has a rule. Throws
// ScriptError at `pos`.
std::vector<Packet> fragment_packet(const Registry& reg, const Packet& p, std::uint64_t size, Pos pos);

}  // namespace pkt
