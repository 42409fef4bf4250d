// Reads packet records from a pcap or pcapng file through libpcap, with
// nanosecond timestamps and an optional BPF filter.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace pkt {

// A file that cannot be opened or read, a damaged record, or a bad filter.
// The message names the file (and the record, when there is one).
struct PcapError : std::runtime_error {
  PcapError(std::string file, std::uint64_t record, const std::string& message)
      : std::runtime_error(message), file(std::move(file)), record(record) {}
  std::string file;      // as named in the message: the path, or "standard input"
  std::uint64_t record;  // 1-based record number; 0 when the error is not about one record
};

// One packet record. `data` points into the reader's buffer and is valid
// until the next call to next().
struct PcapRecord {
  std::uint64_t number = 0;  // 1-based among all packet records of the file, filtered or not
  std::int64_t sec = 0;
  std::uint32_t nsec = 0;
  std::uint32_t caplen = 0;  // bytes at data
  std::uint32_t len = 0;     // bytes on the wire (libpcap, like tshark, accepts len < caplen)
  const std::uint8_t* data = nullptr;
};

// Non-copyable; a moved-from reader may only be destroyed or assigned to.
class PcapReader {
 public:
  // path "-" reads standard input. An empty filter passes every record.
  explicit PcapReader(const std::string& path, const std::string& bpf_filter = "");
  ~PcapReader();
  PcapReader(PcapReader&&) noexcept;
  PcapReader& operator=(PcapReader&&) noexcept;
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  // The file's LINKTYPE_ value (1 Ethernet, 101 raw IP), as PcapWriter takes it.
  int linktype() const;
  // Next record passing the filter; false at the end of the file. Throws
  // PcapError naming the file and the record number on a damaged record.
  bool next(PcapRecord& r);
  // Packet records read so far, including those the filter dropped.
  std::uint64_t records_read() const;
  const std::string& name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pkt
