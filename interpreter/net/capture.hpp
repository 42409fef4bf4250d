// TEMPORARY stand-in (replaced by the sniff branch's capture): live capture with libpcap.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

struct pcap;
namespace pkt {

struct CaptureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CaptureConfig {
  std::string iface;
  std::string filter;
  bool promisc = true;
  int snaplen = 262144;
};

struct CapturedPacket {
  const std::uint8_t* data;
  std::uint32_t caplen, len;
  std::int64_t sec;
  std::uint32_t nsec;
};

class Capture {
 public:
  explicit Capture(const CaptureConfig&);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  int linktype() const;
  const std::string& iface() const { return iface_; }
  std::size_t dispatch(std::uint64_t wait_ns, const std::function<bool(const CapturedPacket&)>& fn);
  struct Stats {
    std::uint64_t received = 0, dropped = 0, if_dropped = 0;
  };
  Stats stats();

 private:
  ::pcap* p_ = nullptr;
  std::string iface_;
  int fd_ = -1;
};

}  // namespace pkt
