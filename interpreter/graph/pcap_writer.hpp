// Writes packets to a pcap file, whole records only: records are gathered in
// a buffer that holds only whole records and leave it in one write(2), so the
// file ends at a record boundary after an error, a signal or a kill (see
// "Output that survives faults" in docs/security.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pkt {

// A LINKTYPE_ value as stored in a pcap file; any other value may be cast to it.
enum class LinkType : int { Raw = 101 /* LINKTYPE_RAW: starts at IP */, Ethernet = 1 /* EN10MB */ };

// Units of the fraction of a second in the file's timestamps.
enum class TsPrecision { Micro, Nano };

// libpcap's own mapping between LINKTYPE_ values (files) and DLT_ values (its API).
int linktype_to_dlt(int linktype);
int dlt_to_linktype(int dlt);

// A pcap file that cannot be opened or written (a full disk, no permission):
// "cannot write PATH: reason", and how many packets the file keeps.
struct PcapWriteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class PcapWriter {
 public:
  // "-" is standard output. Writes the file header at once, so an empty
  // capture is a valid file and an unwritable path fails here. Throws
  // PcapWriteError naming the file.
  PcapWriter(const std::string& path, LinkType link, TsPrecision precision = TsPrecision::Micro);
  // Writes what is buffered and closes, dropping any error: call close() to see it.
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Timestamp defaults to now. Each write may flush the buffer, and throws
  // PcapWriteError when that fails (and on every later call).
  void write(const std::uint8_t* data, std::size_t n);
  void write(const std::uint8_t* data, std::size_t n, std::int64_t sec, std::int64_t usec);
  // A record as read from another capture: caplen bytes of a packet that was
  // len bytes on the wire. A micro-precision file keeps nsec / 1000.
  void write_record(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec,
                    std::uint32_t nsec);
  // Writes every buffered record; throws PcapWriteError.
  void flush();
  // For destructors and error paths: flush(), keeping a failure for the next
  // flush() or close() to throw. Never throws.
  void flush_quietly() noexcept;
  // flush() and close the file; throws PcapWriteError. Later calls do nothing.
  void close();
  LinkType link() const { return link_; }
  TsPrecision precision() const { return precision_; }
  const std::string& path() const { return path_; }
  // Records handed to write(); after a successful flush() all are in the file.
  std::uint64_t count() const { return count_; }
  // Records in the file now (a failed flush leaves the file at this many).
  std::uint64_t written() const { return written_; }

 private:
  void dump(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec, std::int64_t frac);
  void put(const void* data, std::size_t n);
  void fail(int err);
  struct Guard;
  std::unique_ptr<Guard> guard_;
  int fd_ = -1;
  bool own_fd_ = false;
  std::vector<std::uint8_t> buf_;   // whole records only
  std::uint64_t buffered_ = 0;      // records in buf_
  std::uint64_t offset_ = 0;        // bytes in the file: always a record boundary
  std::int64_t last_flush_ns_ = 0;  // a quiet capture still reaches the file every second
  std::string error_;               // the first failure, thrown again by every later call
  LinkType link_;
  TsPrecision precision_;
  std::string path_;
  std::uint64_t count_ = 0;
  std::uint64_t written_ = 0;
};

}  // namespace pkt
