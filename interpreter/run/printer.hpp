// How `pkt read` and `pkt sniff` print a dissected packet, in one of the
// formats summary, show, hexdump, hex, pkt, json or none; both use this one
// printer, so the two commands print a packet the same way.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "packet.hpp"

namespace pkt {

// Where the formatted packets go: stdout or -o FILE; write errors are errors.
class Output {
 public:
  explicit Output(const std::string& path);  // "" or "-": stdout
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  void put(const std::string& s) { std::fwrite(s.data(), 1, s.size(), f_); }
  void flush() { std::fflush(f_); }
  void close();  // throws std::runtime_error when a write failed

 private:
  std::FILE* f_ = stdout;
  std::string name_;
};

class Printer {
 public:
  // format: summary show hexdump hex pkt json none ("none" prints nothing).
  Printer(std::string format, const Registry& reg, Output& out);
  bool prints() const { return !none_; }
  // Packet n (1-based), captured at sec.nsec, len bytes on the wire.
  void packet(std::uint64_t n, std::int64_t sec, std::uint32_t nsec, std::uint32_t len, Packet& p);

 private:
  std::string format_;
  const Registry& reg_;
  Output& out_;
  bool none_;
};

}  // namespace pkt
