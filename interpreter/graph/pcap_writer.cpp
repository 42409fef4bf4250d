// Writes packets to a pcap file through libpcap (pcap_open_dead + pcap_dump).
#include "pcap_writer.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace pkt {

namespace {
constexpr int kSnapLen = 262144;

// The pcap file header of libpcap's own format (native byte order, as
// pcap_dump writes it): magic, version 2.4, thiszone, sigfigs, snaplen, linktype.
struct FileHeader {
  std::uint32_t magic;
  std::uint16_t major, minor;
  std::int32_t thiszone;
  std::uint32_t sigfigs, snaplen, linktype;
};
static_assert(sizeof(FileHeader) == 24);
}  // namespace

// pcap_open_dead takes a DLT_ value and libpcap writes the matching LINKTYPE_
// value to the file (DLT_RAW is 12 or 14 depending on the platform, while
// LINKTYPE_RAW is always 101). libpcap keeps that table private, so both
// directions go through it: a header read back, a header written.
int linktype_to_dlt(int linktype) {
  FileHeader h{0xa1b2c3d4, 2, 4, 0, 0, kSnapLen, static_cast<std::uint32_t>(linktype)};
  std::FILE* f = fmemopen(&h, sizeof h, "rb");
  if (!f) return linktype;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_fopen_offline(f, err);  // closes f with p
  if (!p) {
    std::fclose(f);
    return linktype;
  }
  const int dlt = pcap_datalink(p);
  pcap_close(p);
  return dlt;
}

int dlt_to_linktype(int dlt) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  if (!f) return dlt;
  int linktype = dlt;
  if (pcap_t* p = pcap_open_dead(dlt, kSnapLen)) {
    if (pcap_dumper_t* d = pcap_dump_fopen(p, f)) {
      f = nullptr;  // the dumper owns it now
      pcap_dump_flush(d);
      FileHeader h;
      if (size >= sizeof h) {
        std::memcpy(&h, buf, sizeof h);
        linktype = static_cast<int>(h.linktype);
      }
      pcap_dump_close(d);
    }
    pcap_close(p);
  }
  if (f) std::fclose(f);
  std::free(buf);
  return linktype;
}

struct PcapWriter::Impl {
  pcap_t* pcap = nullptr;
  pcap_dumper_t* dumper = nullptr;
  ~Impl() {
    if (dumper) pcap_dump_close(dumper);
    if (pcap) pcap_close(pcap);
  }
};

PcapWriter::PcapWriter(const std::string& path, LinkType link, TsPrecision precision)
    : impl_(std::make_unique<Impl>()), link_(link), precision_(precision), path_(path) {
  impl_->pcap = pcap_open_dead_with_tstamp_precision(
      linktype_to_dlt(static_cast<int>(link)), kSnapLen,
      precision == TsPrecision::Nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
  if (!impl_->pcap) throw std::runtime_error("cannot write " + path + ": pcap_open_dead failed");
  impl_->dumper = pcap_dump_open(impl_->pcap, path.c_str());
  // libpcap's message already names the file: "PATH: reason".
  if (!impl_->dumper) throw std::runtime_error(std::string("cannot write ") + pcap_geterr(impl_->pcap));
}

PcapWriter::~PcapWriter() = default;

void PcapWriter::write(const std::uint8_t* data, std::size_t n) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  write(data, n, us / 1000000, us % 1000000);
}

void PcapWriter::write(const std::uint8_t* data, std::size_t n, std::int64_t sec, std::int64_t usec) {
  // A pcap record holds at most the snap length; cutting a packet short would be silent.
  if (n > kSnapLen)
    throw std::runtime_error("a packet of " + std::to_string(n) + " bytes is larger than a pcap record can hold (" +
                             std::to_string(kSnapLen) + " bytes)");
  // The file's fraction is in its own precision: microseconds become nanoseconds.
  const std::int64_t frac = precision_ == TsPrecision::Nano ? usec * 1000 : usec;
  dump(data, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n), sec, frac);
}

void PcapWriter::write_record(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec,
                              std::uint32_t nsec) {
  if (caplen > kSnapLen)
    throw std::runtime_error("a record of " + std::to_string(caplen) + " bytes is larger than a pcap record can hold (" +
                             std::to_string(kSnapLen) + " bytes)");
  dump(data, caplen, len, sec, precision_ == TsPrecision::Nano ? nsec : nsec / 1000);
}

// pcap_dump writes tv_usec as it is: in a nanosecond file it holds nanoseconds.
void PcapWriter::dump(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec,
                      std::int64_t frac) {
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<decltype(h.ts.tv_sec)>(sec);
  h.ts.tv_usec = static_cast<decltype(h.ts.tv_usec)>(frac);
  h.caplen = caplen;
  h.len = len;
  pcap_dump(reinterpret_cast<u_char*>(impl_->dumper), &h, data);
  ++count_;
}

void PcapWriter::flush() {
  if (pcap_dump_flush(impl_->dumper) != 0 || ferror(pcap_dump_file(impl_->dumper)))
    throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
}

}  // namespace pkt
