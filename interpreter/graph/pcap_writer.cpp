// Writes packets to a pcap file through libpcap (pcap_open_dead + pcap_dump).
#include "pcap_writer.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace pkt {

namespace {
constexpr int kSnapLen = 262144;

// pcap_open_dead takes a DLT_ value; libpcap writes the matching LINKTYPE_
// value to the file (DLT_RAW is 12 or 14 depending on the platform, while
// LINKTYPE_RAW is always 101).
int to_dlt(LinkType link) {
  switch (link) {
    case LinkType::Raw: return DLT_RAW;
    case LinkType::Ethernet: return DLT_EN10MB;
  }
  return static_cast<int>(link);
}
}  // namespace

struct PcapWriter::Impl {
  pcap_t* pcap = nullptr;
  pcap_dumper_t* dumper = nullptr;
  ~Impl() {
    if (dumper) pcap_dump_close(dumper);
    if (pcap) pcap_close(pcap);
  }
};

PcapWriter::PcapWriter(const std::string& path, LinkType link)
    : impl_(std::make_unique<Impl>()), link_(link), path_(path) {
  impl_->pcap = pcap_open_dead_with_tstamp_precision(to_dlt(link), kSnapLen, PCAP_TSTAMP_PRECISION_MICRO);
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
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<decltype(h.ts.tv_sec)>(sec);
  h.ts.tv_usec = static_cast<decltype(h.ts.tv_usec)>(usec);
  h.len = static_cast<bpf_u_int32>(n);
  // A pcap record holds at most the snap length; cutting a packet short would be silent.
  if (n > kSnapLen)
    throw std::runtime_error("a packet of " + std::to_string(n) + " bytes is larger than a pcap record can hold (" +
                             std::to_string(kSnapLen) + " bytes)");
  h.caplen = static_cast<bpf_u_int32>(n);
  pcap_dump(reinterpret_cast<u_char*>(impl_->dumper), &h, data);
  ++count_;
}

void PcapWriter::flush() {
  if (pcap_dump_flush(impl_->dumper) != 0 || ferror(pcap_dump_file(impl_->dumper)))
    throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
}

}  // namespace pkt
