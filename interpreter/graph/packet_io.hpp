// Writing packet sets to pcap files, with the link type each packet's first
// layer declares through the stdlib's `pcap.linktype` bindings.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "packet_set.hpp"
#include "pcap_writer.hpp"

namespace pkt {

// The pcap link type of a packet: the `pcap.linktype` bound to its first layer.
int link_type_of(const Registry& reg, const Packet& p);

// Writes every packet of every set, in order. All must share one link type.
// Returns the number of packets written. Throws ScriptError at `pos`.
std::uint64_t write_pcap(const std::string& path, const std::vector<std::shared_ptr<PacketSet>>& sets,
                         const Registry& reg, Pos pos);

}  // namespace pkt
