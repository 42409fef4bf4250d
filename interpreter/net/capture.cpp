// TEMPORARY stand-in (replaced by the sniff branch's capture).
#include "capture.hpp"

#include <pcap/pcap.h>
#include <poll.h>

#include <fmt/format.h>

#include "send.hpp"

namespace pkt {

Capture::Capture(const CaptureConfig& c) : iface_(c.iface.empty() ? "any" : c.iface) {
  char err[PCAP_ERRBUF_SIZE] = {};
  p_ = pcap_create(iface_.c_str(), err);
  if (!p_) throw CaptureError(err);
  pcap_set_immediate_mode(p_, 1);
  pcap_set_promisc(p_, c.promisc);
  pcap_set_snaplen(p_, c.snaplen);
  pcap_set_tstamp_precision(p_, PCAP_TSTAMP_PRECISION_NANO);
  if (pcap_activate(p_) < 0) {
    std::string m = pcap_geterr(p_);
    pcap_close(p_);
    throw CaptureError(m);
  }
  if (!c.filter.empty()) {
    bpf_program prog{};
    if (pcap_compile(p_, &prog, c.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p_, &prog) < 0) {
      std::string m = pcap_geterr(p_);
      pcap_close(p_);
      throw CaptureError(fmt::format("filter '{}': {}", c.filter, m));
    }
    pcap_freecode(&prog);
  }
  pcap_setnonblock(p_, 1, err);
  fd_ = pcap_get_selectable_fd(p_);
}

Capture::~Capture() {
  if (p_) pcap_close(p_);
}

int Capture::linktype() const { return pcap_datalink(p_); }

std::size_t Capture::dispatch(std::uint64_t wait_ns, const std::function<bool(const CapturedPacket&)>& fn) {
  struct Ctx {
    const std::function<bool(const CapturedPacket&)>* fn;
    std::size_t n = 0;
    pcap_t* p;
  } ctx{&fn, 0, p_};
  auto cb = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* c = reinterpret_cast<Ctx*>(user);
    ++c->n;
    CapturedPacket cp{bytes, h->caplen, h->len, h->ts.tv_sec, static_cast<std::uint32_t>(h->ts.tv_usec)};
    if (!(*c->fn)(cp)) pcap_breakloop(c->p);
  };
  int got = pcap_dispatch(p_, -1, cb, reinterpret_cast<u_char*>(&ctx));
  if (got == 0 && wait_ns > 0 && !interrupted()) {
    pollfd pfd{fd_, POLLIN, 0};
    poll(&pfd, 1, static_cast<int>(std::min<std::uint64_t>(wait_ns / 1000000 + 1, 50)));
    pcap_dispatch(p_, -1, cb, reinterpret_cast<u_char*>(&ctx));
  }
  return ctx.n;
}

Capture::Stats Capture::stats() {
  pcap_stat s{};
  Stats out;
  if (pcap_stats(p_, &s) == 0) {
    out.received = s.ps_recv;
    out.dropped = s.ps_drop;
    out.if_dropped = s.ps_ifdrop;
  }
  return out;
}

}  // namespace pkt
