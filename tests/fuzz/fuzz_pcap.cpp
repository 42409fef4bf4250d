// libFuzzer target: the input as a pcap or pcapng file, read by PcapReader
// (through libpcap) and every record dissected. PcapError is the expected
// answer to a damaged file; anything else (a crash, a leak, UB) is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

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
      (void)render_summary(p);
    }
  } catch (const PcapError&) {
  }
  return 0;
}
