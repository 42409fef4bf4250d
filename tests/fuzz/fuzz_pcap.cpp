// libFuzzer target: the input as a pcap or pcapng file, read by PcapReader
// (through libpcap) and every record dissected, into one reused packet as
// `pkt read` does and into a fresh one: the two must read the same. PcapError
// is the expected answer to a damaged file; anything else (a crash, a leak,
// UB, a reused packet that reads differently) is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dissect.hpp"
#include "pcap_reader.hpp"
#include "render.hpp"

using namespace pkt;

namespace {

struct Fixture {
  Registry reg = Registry::with_stdlib();
  Dissector dis{reg};
  // PcapReader takes a path: the input goes to an in-memory file, reopened by name.
  int fd = memfd_create("fuzz_pcap", 0);
  std::string path = "/proc/self/fd/" + std::to_string(fd);
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (fixture().fd < 0) {
    std::perror("fuzz_pcap: memfd_create");
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& fx = fixture();
  if (ftruncate(fx.fd, 0) != 0 || pwrite(fx.fd, data, size, 0) != static_cast<ssize_t>(size)) {
    std::perror("fuzz_pcap: writing the memfd");
    std::abort();
  }
  try {
    PcapReader in(fx.path);
    std::vector<ReadBind> first = fx.dis.first_for_linktype(static_cast<std::uint32_t>(in.linktype()));
    if (first.empty()) first = Dissector::first_is(fx.reg.layer("raw"));
    PcapRecord r;
    Packet p;
    while (in.next(r)) {
      fx.dis.dissect(r.data, r.caplen, first, p);
      p.resolve_wire_origins();
      Packet fresh = fx.dis.dissect(r.data, r.caplen, first);
      fresh.resolve_wire_origins();
      const std::string a = render_show(p, false, &fx.reg), b = render_show(fresh, false, &fx.reg);
      const std::string ta = render_pkt(p, &fx.reg), tb = render_pkt(fresh, &fx.reg);
      if (a != b || ta != tb) {
        std::fprintf(stderr, "fuzz_pcap: record %llu reads differently into a reused packet\n%s\n%s\nreused:\n%s\nfresh:\n%s",
                     static_cast<unsigned long long>(r.number), ta.c_str(), tb.c_str(), a.c_str(), b.c_str());
        std::abort();
      }
      (void)render_summary(p);
    }
  } catch (const PcapError&) {
  }
  return 0;
}
