// PcapWriter: files written through libpcap read back through libpcap.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/pcap_writer.hpp"

using pkt::LinkType;
using pkt::PcapWriter;

namespace {

struct TempFile {
  std::string path;
  TempFile() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/pkt_test_pcap_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const int fd = mkstemp(buf.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    path = buf.data();
  }
  ~TempFile() { std::remove(path.c_str()); }
};

struct Record {
  std::vector<std::uint8_t> bytes;
  std::uint32_t len;
  long sec, usec;
};

// The LINKTYPE_ value stored in the file header (bytes 20..23, file byte order
// given by the magic number).
std::uint32_t file_linktype(const std::string& path) {
  unsigned char h[24] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  const std::size_t got = std::fread(h, 1, sizeof h, f);
  std::fclose(f);
  REQUIRE(got == sizeof h);
  const bool little = h[0] == 0xd4 && h[1] == 0xc3 && h[2] == 0xb2 && h[3] == 0xa1;  // usec, little-endian
  const bool big = h[0] == 0xa1 && h[1] == 0xb2 && h[2] == 0xc3 && h[3] == 0xd4;
  REQUIRE((little || big));
  return little ? (std::uint32_t{h[20]} | std::uint32_t{h[21]} << 8 | std::uint32_t{h[22]} << 16 | std::uint32_t{h[23]} << 24)
                : (std::uint32_t{h[23]} | std::uint32_t{h[22]} << 8 | std::uint32_t{h[21]} << 16 | std::uint32_t{h[20]} << 24);
}

std::vector<Record> read_all(const std::string& path, int& linktype) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  REQUIRE(p != nullptr);
  linktype = pcap_datalink(p);
  std::vector<Record> out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1)
    out.push_back({std::vector<std::uint8_t>(data, data + h->caplen), h->len, static_cast<long>(h->ts.tv_sec),
                   static_cast<long>(h->ts.tv_usec)});
  pcap_close(p);
  return out;
}

// A minimal IPv4/UDP datagram and the same behind an Ethernet header.
const std::vector<std::uint8_t> kIp = {0x45, 0x00, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xf7, 0x7c,
                                       0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x30, 0x39, 0x00, 0x35,
                                       0x00, 0x09, 0x00, 0x00, 0x21};
const std::vector<std::uint8_t> kEthHdr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00};

}  // namespace

TEST_CASE("pcap: two packets, both link types", "[pcap]") {
  std::vector<std::uint8_t> eth = kEthHdr;
  eth.insert(eth.end(), kIp.begin(), kIp.end());
  const std::vector<std::uint8_t> big(1500, 0xa5);

  for (LinkType lt : {LinkType::Raw, LinkType::Ethernet}) {
    const auto& first = lt == LinkType::Raw ? kIp : eth;
    TempFile f;
    {
      PcapWriter w(f.path, lt);
      CHECK(w.link() == lt);
      CHECK(w.count() == 0);
      w.write(first.data(), first.size(), 1700000000, 123456);
      w.write(big.data(), big.size());
      CHECK(w.count() == 2);
      w.flush();
    }
    int linktype = -1;
    const auto recs = read_all(f.path, linktype);
    // libpcap reports DLT_ values; the file holds LINKTYPE_ values (101, 1).
    CHECK(linktype == (lt == LinkType::Raw ? DLT_RAW : DLT_EN10MB));
    CHECK(file_linktype(f.path) == static_cast<std::uint32_t>(lt));
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].len == first.size());
    CHECK(recs[0].bytes == first);
    CHECK(recs[0].sec == 1700000000);
    CHECK(recs[0].usec == 123456);
    CHECK(recs[1].len == big.size());
    CHECK(recs[1].bytes == big);
    CHECK(recs[1].sec > 1700000000);  // "now"
  }
}

TEST_CASE("pcap: flush makes packets visible before close", "[pcap]") {
  TempFile f;
  PcapWriter w(f.path, LinkType::Raw);
  w.write(kIp.data(), kIp.size(), 1, 2);
  w.flush();
  int linktype = -1;
  const auto recs = read_all(f.path, linktype);
  CHECK(linktype == DLT_RAW);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].bytes == kIp);
}

TEST_CASE("pcap: an unwritable path throws naming the file", "[pcap]") {
  const std::string path = "/nonexistent-dir-pkt/x.pcap";
  try {
    PcapWriter w(path, LinkType::Raw);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    CHECK(msg.rfind("cannot write " + path + ": ", 0) == 0);
    CHECK(msg.size() > ("cannot write " + path + ": ").size());
  }
}

// A torn write at a SIGKILL: the process dies with half a record after the
// last whole one (here appended by hand, as a write(2) stopped between two
// pages would leave it). The writer's guard process cuts the file back to
// the last whole record once the writer is gone.
TEST_CASE("pcap: after a SIGKILL the guard cuts a torn record off", "[pcap]") {
  TempFile f;
  const std::size_t whole = 24 + 2 * (16 + kIp.size());
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    PcapWriter w(f.path, LinkType::Raw);
    w.write(kIp.data(), kIp.size(), 1, 2);
    w.write(kIp.data(), kIp.size(), 3, 4);
    w.flush();
    const int fd = open(f.path.c_str(), O_WRONLY | O_APPEND);
    const unsigned char half[7] = {1, 0, 0, 0, 0, 0, 0};
    if (fd < 0 || write(fd, half, sizeof half) != static_cast<ssize_t>(sizeof half)) _exit(3);
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  // The guard runs once the writer is gone: give it up to 2 s.
  struct stat st {};
  for (int i = 0; i < 400; ++i) {
    REQUIRE(stat(f.path.c_str(), &st) == 0);
    if (static_cast<std::size_t>(st.st_size) == whole) break;
    usleep(5000);
  }
  CHECK(static_cast<std::size_t>(st.st_size) == whole);
  int linktype = -1;
  const auto recs = read_all(f.path, linktype);
  REQUIRE(recs.size() == 2);
  CHECK(recs[1].bytes == kIp);
}

TEST_CASE("pcap: a full disk is an error naming the file when it is opened", "[pcap]") {
  try {
    PcapWriter w("/dev/full", LinkType::Raw);
    FAIL("no exception at open");
  } catch (const pkt::PcapWriteError& e) {
    CHECK(std::string(e.what()) == "cannot write /dev/full: No space left on device");
  }
}
