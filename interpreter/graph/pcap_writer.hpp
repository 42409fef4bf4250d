// Writes packets to a pcap file through libpcap (pcap_open_dead + pcap_dump).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace pkt {

enum class LinkType : int { Raw = 101 /* LINKTYPE_RAW: starts at IP */, Ethernet = 1 /* EN10MB */ };

class PcapWriter {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened.
  PcapWriter(const std::string& path, LinkType link);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Timestamp defaults to now.
  void write(const std::uint8_t* data, std::size_t n);
  void write(const std::uint8_t* data, std::size_t n, std::int64_t sec, std::int64_t usec);
  void flush();
  LinkType link() const { return link_; }
  std::uint64_t count() const { return count_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  LinkType link_;
  std::string path_;
  std::uint64_t count_ = 0;
};

}  // namespace pkt
