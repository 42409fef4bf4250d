#include "sniffer.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <chrono>

#include "pcap_writer.hpp"
#include "printer.hpp"
#include "reader.hpp"
#include "send.hpp"
#include "session.hpp"

namespace pkt {

namespace {

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

constexpr std::uint64_t kWaitNs = 1'000'000'000;  // without a timeout, one wait; Ctrl-C still ends it within 50 ms

}  // namespace

Sniffer::Sniffer(const Registry& reg, const SniffOptions& opts) : opts_(opts), cap_(opts.capture), dis_(reg) {
  first_ = dis_.first_for_linktype(static_cast<std::uint32_t>(cap_.linktype()));
  if (first_.empty())
    throw std::runtime_error(fmt::format("{}: no layer is bound to its link type {} (bind pcap.linktype = {} -> LAYER)",
                                         cap_.iface(), cap_.linktype(), cap_.linktype()));
}

SniffResult Sniffer::run(const PacketFn& fn, bool dissect, const std::function<void()>& after_batch) {
  SniffResult res;
  const std::uint64_t limit = opts_.count ? opts_.count : ~std::uint64_t(0);
  const std::uint64_t deadline = opts_.timeout_ns ? now_ns() + opts_.timeout_ns : 0;
  Packet p;
  bool stop = false;
  auto on_packet = [&](const CapturedPacket& rec) {
    ++res.captured;
    if (dissect) dis_.dissect(rec.data, rec.caplen, first_, p);
    if (!fn(res.captured, rec, p) || res.captured >= limit) stop = true;
    return !stop;
  };
  while (!stop && !interrupted()) {
    std::uint64_t wait = kWaitNs;
    if (deadline) {
      const std::uint64_t t = now_ns();
      if (t >= deadline) break;
      wait = std::min(wait, deadline - t);
    }
    if (cap_.dispatch(wait, on_packet) && after_batch) after_batch();
  }
  res.interrupted = interrupted() && !stop;
  res.stats = cap_.stats();
  return res;
}

std::string sniff_report(const SniffResult& r) {
  std::string out = fmt::format("{} packet{} captured\n", r.captured, r.captured == 1 ? "" : "s");
  if (r.stats.dropped)
    out += fmt::format("{} packet{} dropped by kernel\n", r.stats.dropped, r.stats.dropped == 1 ? "" : "s");
  return out;
}

std::string default_sniff_interface() {
  pcap_if_t* all = nullptr;
  char err[PCAP_ERRBUF_SIZE] = "";
  std::string pick = "lo";
  if (pcap_findalldevs(&all, err) != 0) return pick;
  for (pcap_if_t* d = all; d; d = d->next) {
    const std::string name = d->name;
    const bpf_u_int32 f = d->flags;
    if ((f & PCAP_IF_LOOPBACK) || !(f & PCAP_IF_UP) || !(f & PCAP_IF_RUNNING)) continue;
    // Pseudo-devices: no addresses of their own ("any", nflog, nfqueue, dbus, usbmon, bluetooth).
    if (name == "any" || !d->addresses) continue;
    pick = name;
    break;
  }
  pcap_freealldevs(all);
  return pick;
}

void sniff_call_args(const ast::Expr& call, std::string& iface, ast::ExprPtr& filter, ast::ExprPtr& count,
                     ast::ExprPtr& timeout) {
  using K = ast::Expr::Kind;
  for (auto& a : call.args) {
    if (!a.word || a.name == "interval") {
      const std::string hint = a.name.empty() ? "" : nearest_name(a.name, {"on", "filter", "count", "timeout"});
      throw ScriptError(a.pos, fmt::format("sniff(): {}; options are words before their values: "
                                           "sniff(on lo, filter \"udp\", count 3, timeout 2s)",
                                           a.name.empty() ? "expected an option word (on, filter, count, timeout) before the value"
                                                          : fmt::format("'{}' is not an option{}", a.name,
                                                                        hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint))));
    }
    ast::ExprPtr* slot = a.name == "filter" ? &filter : a.name == "count" ? &count : a.name == "timeout" ? &timeout : nullptr;
    if (slot) {
      if (*slot) throw ScriptError(a.pos, fmt::format("'{}' is given twice", a.name));
      *slot = a.value;
    } else {  // on
      if (!iface.empty()) throw ScriptError(a.pos, "'on' is given twice");
      if (a.value->kind != K::Name && a.value->kind != K::String)
        throw ScriptError(a.value->pos, "expected an interface after 'on' (e.g. lo or \"eth0\")");
      iface = a.value->s;
    }
  }
}

int run_sniff(const SniffArgs& a) {
  install_interrupt_handler();
  Session session(Registry::with_stdlib());
  for (auto& s : a.scripts) load_declarations(session, s);
  const Registry& reg = session.registry();

  SniffOptions o;
  o.capture.iface = a.iface.empty() ? default_sniff_interface() : a.iface;
  for (auto& w : a.filter) o.capture.filter += (o.capture.filter.empty() ? "" : " ") + w;
  o.capture.promisc = !a.no_promisc;
  o.count = a.count;
  if (!a.timeout.empty()) {
    try {
      o.timeout_ns = parse_duration(a.timeout);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("--timeout: {}", e.what()));
    }
  }
  const std::string format = !a.format.empty() ? a.format : a.write.empty() ? "summary" : "none";
  if (a.write == "-") {  // the capture on standard output, as `tcpdump -w -`
    if (isatty(1)) throw std::runtime_error("-w - writes binary data; give -w FILE.pcap or redirect stdout");
    if (format != "none") throw std::runtime_error(fmt::format("-w - and --format {} would both write to standard output", format));
  }
  // Each packet at once only where someone watches them arrive; else blocks (see CaptureConfig::immediate).
  o.capture.immediate = format != "none" && isatty(1);

  Sniffer sn(reg, o);
  // As tcpdump -Z: the capture is open, the rest (and -w's file) runs as the user.
  net::drop_privileges(a.drop);
  Capture& cap = sn.capture();
  const char* lt_name = pcap_datalink_val_to_name(linktype_to_dlt(cap.linktype()));
  fmt::print(stderr, "listening on {}, link type {} ({}), snapshot length {} bytes\n", cap.iface(),
             lt_name ? lt_name : "?", cap.linktype(), o.capture.snaplen);
  std::fflush(stderr);

  std::unique_ptr<PcapWriter> w;
  if (!a.write.empty()) {
    try {
      w = std::make_unique<PcapWriter>(a.write, static_cast<LinkType>(cap.linktype()), TsPrecision::Nano);
    } catch (const PcapWriteError& e) {
      const int err = errno;
      throw PcapWriteError(e.what() + net::file_after_drop_hint(err));
    }
  }
  Output out("");
  Printer pr(format, reg, out);
  const bool print = pr.prints();
  const bool dissect = print || !w;  // -w alone stores bytes; --format none alone still dissects every packet
  SniffResult r = sn.run(
      [&](std::uint64_t n, const CapturedPacket& rec, Packet& p) {
        if (w) w->write_record(rec.data, rec.caplen, rec.len, rec.sec, rec.nsec);
        if (print) pr.packet(n, rec.sec, rec.nsec, rec.len, p);
        return true;
      },
      dissect, [&] { if (print) out.flush(); });
  if (w) w->close();
  out.close();
  fmt::print(stderr, "{}", sniff_report(r));
  return 0;
}

}  // namespace pkt
