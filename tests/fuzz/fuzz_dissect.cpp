// libFuzzer target: untrusted bytes through the whole reading path. The
// first byte picks the first layer: a pcap link type bound in the stdlib, or
// a layer by name (PKT_FUZZ_CHOICES=1 prints the table). The rest is
// dissected, shown in every format, and rebuilt from its `pkt` text, which
// must give the same bytes: a read -> rebuild mismatch aborts. It is also
// dissected into a packet that held another reading of the same bytes (the
// first byte / the number of choices picks that one), as the capture loop
// reuses storage: the result must not change. It is also matched, as a
// reply, against a few probes by the stdlib's reply rules.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dissect.hpp"
#include "encodings.hpp"
#include "packet_set.hpp"
#include "parse.hpp"
#include "render.hpp"
#include "reply.hpp"
#include "session.hpp"

using namespace pkt;

namespace {

struct Choice {
  std::string name;  // "linktype 1" or a layer name
  std::vector<ReadBind> first;
};

// Built once: the stdlib, a dissector over it and the table of first layers.
struct Fixture {
  Registry reg = Registry::with_stdlib();
  Dissector dis{reg};
  std::vector<Choice> choices;
  std::vector<Packet> probes;  // what the bytes are matched against as replies (sr)

  Fixture() {
    Session s(reg);
    for (const char* e : {"ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(id=7, seq=1)",
                          "ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=40000, dport=80, seq=1000)",
                          "ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=40000, dport=53) / \"q\"",
                          "ipv6(src=fd00::1, dst=fd00::2) / icmpv6(id=7, seq=1)",
                          "eth() / arp(spa=10.0.0.1, tpa=10.0.0.2)"})
      probes.push_back(s.packets(*parse_expression(Source::make("<probe>", e)))->tmpl);
    std::vector<std::uint64_t> linktypes;
    for (const ReadBind& b : *reg.reads_from("pcap")) linktypes.push_back(b.value.num);
    std::sort(linktypes.begin(), linktypes.end());
    linktypes.erase(std::unique(linktypes.begin(), linktypes.end()), linktypes.end());
    for (std::uint64_t lt : linktypes)
      choices.push_back({"linktype " + std::to_string(lt), dis.first_for_linktype(static_cast<std::uint32_t>(lt))});
    for (const std::string& name : reg.layer_names()) choices.push_back({name, Dissector::first_is(reg.layer(name))});
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::string hex_of(const std::vector<std::uint8_t>& b) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

[[noreturn]] void mismatch(const char* what, const Choice& c, const std::string& text, const std::string& detail) {
  std::fprintf(stderr, "fuzz_dissect: %s\n  first: %s\n  pkt text: %s\n%s\n", what, c.name.c_str(), text.c_str(),
               detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Fixture& fx = fixture();
  if (const char* e = std::getenv("PKT_FUZZ_CHOICES"); e && *e) {
    // The selector table, for tests/fuzz/make_corpus.py: "BYTE NAME" lines.
    for (std::size_t i = 0; i < fx.choices.size(); ++i) std::printf("%zu %s\n", i, fx.choices[i].name.c_str());
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Fixture& fx = fixture();
  const std::size_t n = fx.choices.size();
  const Choice& choice = fx.choices[data[0] % n];
  const Choice& before = fx.choices[data[0] / n % n];
  const Registry& reg = fx.reg;

  Packet p = fx.dis.dissect(data + 1, size - 1, choice.first);
  p.resolve_wire_origins();
  const std::string show = render_show(p, false, &reg);
  (void)render_show(p, true, &reg);
  (void)render_json_layers(p, &reg);
  (void)render_summary(p);
  (void)render_hexdump(p);
  const std::string text = render_pkt(p, &reg);
  for (const Packet& probe : fx.probes) (void)answers(reg, probe, p);  // bytes from the wire through the reply rules

  Packet reused = fx.dis.dissect(data + 1, size - 1, before.first);
  fx.dis.dissect(data + 1, size - 1, choice.first, reused);
  reused.resolve_wire_origins();
  if (const std::string again = render_show(reused, false, &reg); again != show)
    mismatch("a reused packet reads differently", choice, text,
             "  after: " + before.name + "\n  fresh:\n" + show + "  reused:\n" + again);
  if (const std::string again = render_pkt(reused, &reg); again != text)
    mismatch("a reused packet reads differently", choice, text, "  after: " + before.name + "\n  reused: " + again);

  // Rebuild from the text: the same bytes, or reading and writing disagree.
  Source src{"<fuzz>", text};  // outlives every Pos into it (not Source::make: that one is never freed)
  try {
    Session s(reg);
    std::shared_ptr<PacketSet> set = s.packets(*parse_expression(&src));
    if (!set->is_single()) mismatch("the pkt text describes more than one packet", choice, text, "");
    if (set->tmpl.bytes() != p.bytes())
      mismatch("rebuilt bytes differ from the bytes read", choice, text,
               "  read:    " + hex_of(p.bytes()) + "\n  rebuilt: " + hex_of(set->tmpl.bytes()));
  } catch (const ScriptError& e) {
    mismatch("the pkt text does not rebuild", choice, text, format_error(e));
  }
  return 0;
}
