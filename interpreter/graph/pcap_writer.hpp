// Writes packets to a pcap file through libpcap (pcap_open_dead + pcap_dump).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace pkt {

// A LINKTYPE_ value as stored in a pcap file; any other value may be cast to it.
enum class LinkType : int { Raw = 101 /* LINKTYPE_RAW: starts at IP */, Ethernet = 1 /* EN10MB */ };

// Units of the fraction of a second in the file's timestamps.
enum class TsPrecision { Micro, Nano };

// libpcap's own mapping between LINKTYPE_ values (files) and DLT_ values (its API).
int linktype_to_dlt(int linktype);
int dlt_to_linktype(int dlt);

class PcapWriter {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened.
  PcapWriter(const std::string& path, LinkType link, TsPrecision precision = TsPrecision::Micro);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Timestamp defaults to now.
  void write(const std::uint8_t* data, std::size_t n);
  void write(const std::uint8_t* data, std::size_t n, std::int64_t sec, std::int64_t usec);
  // A record as read from another capture: caplen bytes of a packet that was
  // len bytes on the wire. A micro-precision file keeps nsec / 1000.
  void write_record(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec,
                    std::uint32_t nsec);
  void flush();
  LinkType link() const { return link_; }
  TsPrecision precision() const { return precision_; }
  std::uint64_t count() const { return count_; }

 private:
  void dump(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec, std::int64_t frac);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  LinkType link_;
  TsPrecision precision_;
  std::string path_;
  std::uint64_t count_ = 0;
};

}  // namespace pkt
