#include "printer.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "render.hpp"

namespace pkt {

Output::Output(const std::string& path) {
  if (!path.empty() && path != "-") {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) throw std::runtime_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    name_ = path;
  }
}

void Output::close() {
  bool failed = std::fflush(f_) != 0 || std::ferror(f_);
  if (f_ != stdout && std::fclose(f_) != 0) failed = true;
  f_ = nullptr;
  if (failed)
    throw std::runtime_error(fmt::format("cannot write {}: {}", name_.empty() ? "the output" : name_, std::strerror(errno)));
}

Output::~Output() {
  if (f_ && f_ != stdout) std::fclose(f_);
}

namespace {
std::string time_text(std::int64_t sec, std::uint32_t nsec) { return fmt::format("{}.{:09d}", sec, nsec); }
}  // namespace

Printer::Printer(std::string format, const Registry& reg, Output& out)
    : format_(std::move(format)), reg_(reg), out_(out), none_(format_ == "none") {}

void Printer::packet(std::uint64_t n, std::int64_t sec, std::uint32_t nsec, std::uint32_t len, Packet& p) {
  if (none_) return;  // dissected, not printed
  const std::string& f = format_;
  if (f == "hex") {
    out_.put(render_hex(p) + "\n");
    return;
  }
  if (f == "hexdump") {
    out_.put(fmt::format("# packet {} ({} bytes)\n{}", n, p.size(), render_hexdump(p)));
    return;
  }
  if (f == "summary") {
    out_.put(fmt::format("{} {} {}\n", n, time_text(sec, nsec).substr(0, std::to_string(sec).size() + 7), render_summary(p)));
    return;
  }
  p.resolve_wire_origins();
  if (f == "show") {
    out_.put(fmt::format("# packet {} at {}, {} bytes{}\n{}", n, time_text(sec, nsec), p.size(),
                         len > p.size() ? fmt::format(" ({} on the wire)", len) : "", render_show(p, false, &reg_)));
  } else if (f == "pkt") {
    out_.put(fmt::format("packet p{} = {}\n", n, render_pkt(p, &reg_)));
  } else if (f == "json") {
    out_.put(render_json(p, &reg_, fmt::format("\"n\": {}, \"time\": {}, \"len\": {}", n, json_time(sec, nsec), len)) + "\n");
  }
}

}  // namespace pkt
