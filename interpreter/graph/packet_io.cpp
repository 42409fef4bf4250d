#include "packet_io.hpp"

#include <fmt/format.h>

namespace pkt {

int link_type_of(const Registry& reg, const Packet& p) {
  auto pc = reg.layer("pcap");
  if (!pc || pc->fields.empty()) return 147;
  if (p.layers().empty()) return static_cast<int>(pc->fields[0].default_value.num);
  if (const Binding* b = reg.binding("pcap", p.layers().front().def->name)) return static_cast<int>(b->value.num);
  return static_cast<int>(pc->fields[0].default_value.num);
}

std::uint64_t write_pcap(const std::string& path, const std::vector<std::shared_ptr<PacketSet>>& sets,
                         const Registry& reg, Pos pos) {
  if (sets.empty()) throw ScriptError(pos, "nothing to write");
  int link = link_type_of(reg, sets.front()->tmpl);
  for (auto& s : sets) {
    int l = link_type_of(reg, s->tmpl);
    if (l != link)
      throw ScriptError(pos, fmt::format("these packets start with {} and {}: a pcap file holds one link type ({} vs {})",
                                         sets.front()->tmpl.layers().front().def->name,
                                         s->tmpl.layers().front().def->name, link, l));
  }
  std::unique_ptr<PcapWriter> w;
  try {
    w = std::make_unique<PcapWriter>(path, static_cast<LinkType>(link));
  } catch (const std::exception& e) {
    throw ScriptError(pos, e.what());
  }
  std::uint64_t n = 0;
  try {
    for (auto& s : sets)
      n += s->for_each([&](const Packet& p) {
        w->write(p.bytes().data(), p.size());
        return true;
      });
    w->close();
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const ScriptError*>(&e)) throw;
    throw ScriptError(pos, e.what());
  }
  return n;
}

}  // namespace pkt
