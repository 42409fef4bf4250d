// PcapReader: pcap and pcapng through libpcap, nanosecond timestamps, BPF
// filters, and a PcapError naming the file and record for every damaged input.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/pcap_reader.hpp"
#include "graph/pcap_writer.hpp"

using pkt::LinkType;
using pkt::PcapError;
using pkt::PcapReader;
using pkt::PcapRecord;
using pkt::PcapWriter;
using pkt::TsPrecision;
using Bytes = std::vector<std::uint8_t>;

namespace {

const std::string kData = PKT_TEST_DATA;

struct TempFile {
  std::string path;
  TempFile() {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/pkt_test_pcap_reader_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const int fd = mkstemp(buf.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    path = buf.data();
  }
  explicit TempFile(const Bytes& content) : TempFile() {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(content.data()),
                                               static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() { std::remove(path.c_str()); }
};

Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Little-endian pcap pieces, as python's struct.pack('<...') would make them.
void put(Bytes& b, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put32(Bytes& b, std::uint32_t v) { put(b, v, 4); }
Bytes file_header(std::uint32_t magic = 0xa1b23c4d, std::uint32_t linktype = 1) {
  Bytes b;
  put32(b, magic);
  put(b, 2, 2);  // version 2.4
  put(b, 4, 2);
  put32(b, 0);                      // thiszone
  put32(b, 0);                      // sigfigs
  put32(b, 262144);                 // snaplen
  put32(b, linktype);
  return b;
}
void add_record(Bytes& b, const Bytes& data, std::uint32_t sec = 1, std::uint32_t frac = 2,
                std::uint32_t caplen = 0xffffffff /* data's size */) {
  put32(b, sec);
  put32(b, frac);
  put32(b, caplen == 0xffffffff ? static_cast<std::uint32_t>(data.size()) : caplen);
  put32(b, static_cast<std::uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
}

const Bytes kPayload(60, 0x5a);

// Three good records, as a base for damage.
Bytes three_records() {
  Bytes b = file_header();
  for (int i = 0; i < 3; ++i) add_record(b, kPayload);
  return b;
}

std::vector<PcapRecord> read_all(PcapReader& r, std::vector<Bytes>* data = nullptr) {
  std::vector<PcapRecord> out;
  PcapRecord rec;
  while (r.next(rec)) {
    out.push_back(rec);
    if (data) data->emplace_back(rec.data, rec.data + rec.caplen);
  }
  return out;
}

// Reads the whole file expecting a PcapError; returns it.
PcapError read_error(const std::string& path, const std::string& filter = "") {
  try {
    PcapReader r(path, filter);
    read_all(r);
  } catch (const PcapError& e) {
    return e;
  }
  FAIL("no PcapError for " << path);
  throw std::logic_error("unreachable");
}

// The two packets of tests/data/tcp_udp.pcap{,ng} (see tests/data/README.md).
const Bytes kTcp = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
                    0x00, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x66, 0xb9, 0x0a, 0x00, 0x00, 0x01,
                    0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                    0x00, 0xa0, 0x02, 0x20, 0x00, 0x77, 0x6c, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02,
                    0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
const Bytes kUdp = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
                    0x00, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x66, 0xcc, 0x0a, 0x00, 0x00, 0x01,
                    0x0a, 0x00, 0x00, 0x02, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x0a, 0x6e, 0x50, 0x68, 0x69};

}  // namespace

TEST_CASE("pcap reader: what PcapWriter wrote reads back", "[pcap_reader]") {
  const Bytes big(1500, 0xa5);
  for (LinkType lt : {LinkType::Raw, LinkType::Ethernet}) {
    TempFile f;
    {
      PcapWriter w(f.path, lt);
      w.write(kPayload.data(), kPayload.size(), 1700000000, 123456);
      w.write(big.data(), big.size(), 1700000001, 999999);
      w.flush();
    }
    PcapReader r(f.path);
    CHECK(r.linktype() == static_cast<int>(lt));  // LINKTYPE_ values: 101, 1
    std::vector<Bytes> data;
    const auto recs = read_all(r, &data);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].number == 1);
    CHECK(recs[0].sec == 1700000000);
    CHECK(recs[0].nsec == 123456000);
    CHECK(recs[0].caplen == kPayload.size());
    CHECK(recs[0].len == kPayload.size());
    CHECK(data[0] == kPayload);
    CHECK(recs[1].number == 2);
    CHECK(recs[1].sec == 1700000001);
    CHECK(recs[1].nsec == 999999000);
    CHECK(data[1] == big);
    CHECK(r.records_read() == 2);
  }
}

TEST_CASE("pcap reader: records re-written with nanoseconds, lengths and link type kept", "[pcap_reader]") {
  // 113 is LINKTYPE_LINUX_SLL: neither Raw nor Ethernet, kept as a number.
  for (int linktype : {1, 101, 113}) {
    TempFile f;
    {
      PcapWriter w(f.path, static_cast<LinkType>(linktype), TsPrecision::Nano);
      CHECK(w.precision() == TsPrecision::Nano);
      w.write_record(kPayload.data(), 20, 1514, 1700000000, 123456789);  // a snapped record
      w.write_record(kPayload.data(), 60, 60, 0, 999999999);
      w.write(kPayload.data(), 10, 5, 7);  // the micro API, scaled
    }
    PcapReader r(f.path);
    CHECK(r.linktype() == linktype);
    std::vector<Bytes> data;
    const auto recs = read_all(r, &data);
    REQUIRE(recs.size() == 3);
    CHECK(recs[0].caplen == 20);
    CHECK(recs[0].len == 1514);
    CHECK(data[0] == Bytes(kPayload.begin(), kPayload.begin() + 20));
    CHECK(recs[0].sec == 1700000000);
    CHECK(recs[0].nsec == 123456789);
    CHECK(recs[1].sec == 0);
    CHECK(recs[1].nsec == 999999999);
    CHECK(recs[2].sec == 5);
    CHECK(recs[2].nsec == 7000);
  }
}

TEST_CASE("pcap reader: a micro-precision writer keeps whole microseconds", "[pcap_reader]") {
  TempFile f;
  {
    PcapWriter w(f.path, LinkType::Ethernet);
    w.write_record(kPayload.data(), 60, 60, 3, 123456789);
  }
  PcapReader r(f.path);
  PcapRecord rec;
  REQUIRE(r.next(rec));
  CHECK(rec.nsec == 123456000);
}

TEST_CASE("pcap reader: link type numbers go through libpcap's table", "[pcap_reader]") {
  CHECK(pkt::linktype_to_dlt(101) == DLT_RAW);
  CHECK(pkt::dlt_to_linktype(DLT_RAW) == 101);
  CHECK(pkt::linktype_to_dlt(1) == DLT_EN10MB);
  CHECK(pkt::dlt_to_linktype(DLT_EN10MB) == 1);
  CHECK(pkt::dlt_to_linktype(pkt::linktype_to_dlt(276)) == 276);  // LINUX_SLL2
}

TEST_CASE("pcap reader: pcapng and pcap fixtures read the same", "[pcap_reader]") {
  for (const char* file : {"tcp_udp.pcap", "tcp_udp.pcapng"}) {
    INFO(file);
    PcapReader r(kData + "/" + file);
    CHECK(r.linktype() == 1);
    std::vector<Bytes> data;
    const auto recs = read_all(r, &data);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].number == 1);
    CHECK(recs[0].sec == 1700000000);
    CHECK(recs[0].nsec == 123456789);
    CHECK(data[0] == kTcp);
    CHECK(recs[1].number == 2);
    CHECK(recs[1].sec == 1700000001);
    CHECK(recs[1].nsec == 999999999);
    CHECK(recs[1].len == kUdp.size());
    CHECK(data[1] == kUdp);
  }
}

TEST_CASE("pcap reader: a BPF filter passes records, keeping their numbers", "[pcap_reader]") {
  for (const char* file : {"tcp_udp.pcap", "tcp_udp.pcapng"}) {
    INFO(file);
    const std::string path = kData + "/" + file;
    {
      PcapReader r(path, "tcp");
      const auto recs = read_all(r);
      REQUIRE(recs.size() == 1);
      CHECK(recs[0].number == 1);
      CHECK(r.records_read() == 2);
    }
    {
      PcapReader r(path, "udp port 53");
      const auto recs = read_all(r);
      REQUIRE(recs.size() == 1);
      CHECK(recs[0].number == 2);
    }
    {
      PcapReader r(path, "icmp");
      CHECK(read_all(r).empty());
      CHECK(r.records_read() == 2);
    }
    {
      PcapReader r(path, "");
      CHECK(read_all(r).size() == 2);
    }
  }
}

TEST_CASE("pcap reader: '-' reads standard input", "[pcap_reader]") {
  const int saved = dup(STDIN_FILENO);
  REQUIRE(saved >= 0);
  const int fd = open((kData + "/tcp_udp.pcapng").c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(dup2(fd, STDIN_FILENO) == STDIN_FILENO);
  close(fd);
  std::vector<PcapRecord> recs;
  int linktype = -1;
  std::string name;
  {
    PcapReader r("-");
    linktype = r.linktype();
    name = r.name();
    recs = read_all(r);
  }
  dup2(saved, STDIN_FILENO);
  close(saved);
  std::clearerr(stdin);
  CHECK(name == "standard input");
  CHECK(linktype == 1);
  CHECK(recs.size() == 2);
}

TEST_CASE("pcap reader: a moved reader goes on where it was", "[pcap_reader]") {
  PcapReader a(kData + "/tcp_udp.pcap");
  PcapRecord rec;
  REQUIRE(a.next(rec));
  PcapReader b = std::move(a);
  REQUIRE(b.next(rec));
  CHECK(rec.number == 2);
  CHECK_FALSE(b.next(rec));
}

TEST_CASE("pcap reader: bad files give a PcapError naming the file", "[pcap_reader]") {
  SECTION("missing") {
    const auto e = read_error("/nonexistent-dir-pkt/x.pcap");
    CHECK(std::string(e.what()) == "cannot read /nonexistent-dir-pkt/x.pcap: No such file or directory");
    CHECK(e.file == "/nonexistent-dir-pkt/x.pcap");
    CHECK(e.record == 0);
  }
  SECTION("a directory") {
    const auto e = read_error("/");
    CHECK(std::string(e.what()) == "cannot read /: error reading dump file: Is a directory");
  }
  SECTION("empty") {
    TempFile f(Bytes{});
    CHECK(std::string(read_error(f.path).what()) == "'" + f.path + "' is empty, not a pcap or pcapng file");
  }
  SECTION("bad magic") {
    const std::string text = "hello, this is no capture\n";
    TempFile f(Bytes(text.begin(), text.end()));
    CHECK(std::string(read_error(f.path).what()) == "'" + f.path + "' is not a pcap or pcapng file (bad magic 0x68656c6c)");
  }
  SECTION("shorter than a magic number") {
    TempFile f(Bytes{0xd4, 0xc3});
    CHECK(std::string(read_error(f.path).what()) == "'" + f.path + "' is not a pcap or pcapng file (2 bytes long)");
  }
  SECTION("truncated file header") {
    Bytes b = file_header();
    b.resize(10);
    TempFile f(b);
    CHECK(std::string(read_error(f.path).what()) ==
          "cannot read " + f.path + ": truncated dump file; tried to read 24 file header bytes, only got 6");
  }
  SECTION("a header and no records is an empty capture") {
    TempFile f(file_header());
    PcapReader r(f.path);
    CHECK(read_all(r).empty());
  }
}

TEST_CASE("pcap reader: damaged records give a PcapError naming the record", "[pcap_reader]") {
  Bytes b = three_records();
  std::string expect;
  // Records 1 and 2 come out before the error.
  auto third_fails = [](const Bytes& b, const std::string& expect) {
    TempFile f(b);
    PcapReader r(f.path);
    PcapRecord rec;
    REQUIRE(r.next(rec));
    REQUIRE(r.next(rec));
    try {
      r.next(rec);
      FAIL("no PcapError");
    } catch (const PcapError& e) {
      CHECK(std::string(e.what()) == f.path + expect);
      CHECK(e.file == f.path);
      CHECK(e.record == 3);
    }
  };
  SECTION("record 3 cut inside its data") {
    b.resize(b.size() - 36);
    expect = ": record 3 is truncated (truncated dump file; tried to read 60 captured bytes, only got 24)";
    third_fails(b, expect);
  }
  SECTION("record 3 cut inside its header") {
    b.resize(b.size() - 60 - 6);
    expect = ": record 3 is truncated (truncated dump file; tried to read 16 header bytes, only got 10)";
    third_fails(b, expect);
  }
  SECTION("record 3 claims 4 GiB") {
    b = file_header();
    add_record(b, kPayload);
    add_record(b, kPayload);
    add_record(b, kPayload, 1, 2, 0xfffffffe);
    expect = ": record 3 is damaged (invalid packet capture length 4294967294, bigger than snaplen of 262144)";
    third_fails(b, expect);
  }
  SECTION("record 3 has a nanosecond fraction of a whole second") {
    b = file_header();
    add_record(b, kPayload);
    add_record(b, kPayload);
    add_record(b, kPayload, 1, 1000000000);
    expect = ": record 3 is damaged (timestamp fraction 1000000000 ns is not in 0..999999999)";
    third_fails(b, expect);
  }
  SECTION("record 3 has a microsecond fraction of a whole second") {
    b = file_header(0xa1b2c3d4);
    add_record(b, kPayload);
    add_record(b, kPayload);
    add_record(b, kPayload, 1, 4000000);
    expect = ": record 3 is damaged (timestamp fraction 4000000000 ns is not in 0..999999999)";
    third_fails(b, expect);
  }
  SECTION("record 3 has a fraction with the top bit set") {
    b = file_header();
    add_record(b, kPayload);
    add_record(b, kPayload);
    add_record(b, kPayload, 1, 0xffffffff);
    expect = ": record 3 is damaged (timestamp fraction -1 ns is not in 0..999999999)";
    third_fails(b, expect);
  }
}

TEST_CASE("pcap reader: the record number counts records the filter dropped", "[pcap_reader]") {
  Bytes b = three_records();
  b.resize(b.size() - 36);
  TempFile f(b);
  const auto e = read_error(f.path, "tcp");
  CHECK(e.record == 3);
}

TEST_CASE("pcap reader: a truncated pcapng names the record", "[pcap_reader]") {
  Bytes b = slurp(kData + "/tcp_udp.pcapng");
  // The last block is record 2's Enhanced Packet Block: cut its end off.
  b.resize(b.size() - 10);
  TempFile f(b);
  const auto e = read_error(f.path);
  CHECK(e.record == 2);
  CHECK(std::string(e.what()).starts_with(f.path + ": record 2 is truncated (truncated pcapng dump file; "));
}

TEST_CASE("pcap reader: a bad filter names the filter and the link type", "[pcap_reader]") {
  const std::string path = kData + "/tcp_udp.pcap";
  auto e = read_error(path, "tcp prt 80");
  CHECK(std::string(e.what()) == path + ": bad filter 'tcp prt 80' for link type EN10MB: can't parse filter expression: syntax error");
  CHECK(e.record == 0);

  TempFile raw(file_header(0xa1b23c4d, 101));
  e = read_error(raw.path, "ether host 02:00:00:00:00:01");
  CHECK(std::string(e.what()).starts_with(raw.path + ": bad filter 'ether host 02:00:00:00:00:01' for link type RAW: "));
}
