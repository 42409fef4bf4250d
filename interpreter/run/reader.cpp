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
#include "printer.hpp"
#include "render.hpp"

namespace pkt {

void load_declarations(Session& session, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  ast::Script script = parse_script(Source::make(path, ss.str()));
  for (auto& st : script.stmts)
    if (st.kind == ast::Stmt::Kind::Layer || st.kind == ast::Stmt::Kind::Bind || st.kind == ast::Stmt::Kind::Reply ||
        st.kind == ast::Stmt::Kind::Fragment)
      session.declare(st);
}

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
    Printer pr(a.format, reg, out);
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
    w.close();
    return 0;
  }
  Output out(a.output);
  Printer pr(a.format, reg, out);
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
