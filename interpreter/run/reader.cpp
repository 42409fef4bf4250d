#include "reader.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "dissect.hpp"
#include "encodings.hpp"
#include "parse.hpp"
#include "pcap_reader.hpp"
#include "pcap_writer.hpp"
#include "render.hpp"

namespace pkt {

void load_declarations(Session& session, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  ast::Script script = parse_script(Source::make(path, ss.str()));
  for (auto& st : script.stmts)
    if (st.kind == ast::Stmt::Kind::Layer || st.kind == ast::Stmt::Kind::Bind || st.kind == ast::Stmt::Kind::Reply)
      session.declare(st);
}

namespace {

// Where the formatted packets go: stdout or -o FILE; write errors are errors.
struct Output {
  std::FILE* f = stdout;
  std::string name;
  explicit Output(const std::string& path) {
    if (!path.empty() && path != "-") {
      f = std::fopen(path.c_str(), "wb");
      if (!f) throw std::runtime_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
      name = path;
    }
  }
  void put(const std::string& s) { std::fwrite(s.data(), 1, s.size(), f); }
  void close() {
    bool failed = std::fflush(f) != 0 || std::ferror(f);
    if (f != stdout && std::fclose(f) != 0) failed = true;
    f = nullptr;
    if (failed) throw std::runtime_error(fmt::format("cannot write {}: {}", name.empty() ? "the output" : name, std::strerror(errno)));
  }
  ~Output() {
    if (f && f != stdout) std::fclose(f);
  }
};

std::string time_text(std::int64_t sec, std::uint32_t nsec) { return fmt::format("{}.{:09d}", sec, nsec); }

class Printer {
 public:
  Printer(const ReadArgs& a, const Registry& reg, Output& out) : a_(a), reg_(reg), out_(out), none_(a.format == "none") {}

  void packet(std::uint64_t n, std::int64_t sec, std::uint32_t nsec, std::uint32_t len, Packet& p) {
    if (none_) return;  // dissected, not printed
    const std::string& f = a_.format;
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
      out_.put(fmt::format("{{\"n\": {}, \"time\": {}, \"len\": {}, {}}}\n", n, time_text(sec, nsec), len,
                           render_json_layers(p, &reg_)));
    }
  }

 private:
  const ReadArgs& a_;
  const Registry& reg_;
  Output& out_;
  bool none_;
};

}  // namespace

int run_read(const ReadArgs& a) {
  Session session(Registry::with_stdlib());
  for (auto& s : a.scripts) load_declarations(session, s);
  const Registry& reg = session.registry();
  Dissector dis(reg);
  std::vector<ReadBind> first;
  if (!a.first.empty()) {
    auto def = reg.layer(a.first);
    if (!def) {
      std::string hint = nearest_name(a.first, reg.layer_names());
      throw std::runtime_error(fmt::format("--first {}: unknown layer{}; `pkt layers` lists them", a.first,
                                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    first = Dissector::first_is(def);
  }
  Packet p;
  if (!a.hex.empty()) {
    std::string digits;
    for (char c : a.hex)
      if (!isspace(static_cast<unsigned char>(c)) && c != ':') digits += c;
    std::size_t bad = digits.size();
    auto decoded = hex_decode(digits, &bad);
    if (!decoded) {
      if (bad < digits.size() && !isxdigit(static_cast<unsigned char>(digits[bad])))
        throw std::runtime_error(fmt::format("--hex: '{}' is not a hex digit", digits[bad]));
      throw std::runtime_error("--hex: an odd number of hex digits");
    }
    const std::string& bytes = *decoded;
    if (first.empty()) first = dis.first_for_linktype(static_cast<std::uint32_t>(LinkType::Raw));
    if (a.format == "pcap") throw std::runtime_error("--format pcap needs a capture to read (not --hex)");
    Output out(a.output);
    dis.dissect(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), first, p);
    Printer pr(a, reg, out);
    pr.packet(1, 0, 0, static_cast<std::uint32_t>(bytes.size()), p);
    if (a.format == "none") out.put("1 packet\n");
    out.close();
    return 0;
  }
  PcapReader in(a.file, a.filter);
  if (first.empty()) first = dis.first_for_linktype(static_cast<std::uint32_t>(in.linktype()));
  if (first.empty())  // nothing bound to it, and no raw layer to fall back on
    throw std::runtime_error(fmt::format("{}: no layer is bound to its link type {} (bind pcap.linktype = {} -> LAYER)",
                                         in.name(), in.linktype(), in.linktype()));
  PcapRecord r;
  std::uint64_t n = 0;
  if (a.format == "pcap") {
    std::string path = a.output.empty() ? "-" : a.output;
    if (path == "-" && isatty(1)) throw std::runtime_error("--format pcap writes binary data; give -o FILE or redirect stdout");
    PcapWriter w(path, static_cast<LinkType>(in.linktype()), TsPrecision::Nano);
    while ((a.count == 0 || n < a.count) && in.next(r)) {
      ++n;
      w.write_record(r.data, r.caplen, r.len, r.sec, r.nsec);
    }
    w.flush();
    return 0;
  }
  Output out(a.output);
  Printer pr(a, reg, out);
  const bool print = a.format != "none";
  const std::uint64_t limit = a.count ? a.count : ~std::uint64_t(0);
  while (n < limit && in.next(r)) {
    ++n;
    dis.dissect(r.data, r.caplen, first, p);
    if (print) pr.packet(r.number, r.sec, r.nsec, r.len, p);
  }
  if (a.format == "none") out.put(fmt::format("{} packet{}\n", n, n == 1 ? "" : "s"));
  out.close();
  return 0;
}

}  // namespace pkt
