// Live capture: libpcap opens, filters and reads (TPACKET_V3 rings on
// Linux); this file turns its error codes into messages that say what to do
// and waits in slices so that Ctrl-C is seen within 50 ms.
#include "capture.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>

#include "pcap_writer.hpp"
#include "privilege.hpp"
#include "send.hpp"

namespace pkt {

namespace {

constexpr int kBufferBytes = 4 << 20;               // the kernel ring: 4 MiB (tcpdump's default is 2 MiB)
constexpr std::uint64_t kSliceNs = 50'000'000;      // the longest Ctrl-C goes unnoticed while waiting

std::string privilege_help() {
  return "capturing needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode): run as root, or grant them once with "
         "`sudo setcap cap_net_raw,cap_net_admin+ep $(command -v pkt)`";
}

std::string interfaces_text() {
  auto names = capture_interfaces();
  if (names.empty()) return "libpcap lists no interfaces";
  return fmt::format("interfaces: {}", fmt::join(names, ", "));
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// Captures opened before a drop, free to be taken, by interface.
struct Preopened {
  std::mutex m;
  std::multimap<std::string, pcap_t*> free;
};
// Never destroyed: a Capture alive at exit may still give its handle back,
// and the handles stay reachable (not leaks) until the process ends.
Preopened& preopened() {
  static Preopened& p = *new Preopened;
  return p;
}

pcap_t* take_preopened(const std::string& iface) {
  Preopened& p = preopened();
  std::lock_guard<std::mutex> g(p.m);
  auto it = p.free.find(iface);
  if (it == p.free.end()) return nullptr;
  pcap_t* pc = it->second;
  p.free.erase(it);
  return pc;
}

// A filter that accepts nothing: what a pre-opened capture holds while no
// Capture uses it, so its ring stays empty.
void set_idle_filter(pcap_t* pc) {
  bpf_insn reject = BPF_STMT(BPF_RET | BPF_K, 0);
  bpf_program prog{1, &reject};
  pcap_setfilter(pc, &prog);
  // What came in before the filter is read and dropped.
  for (int i = 0; i < 1024 && pcap_dispatch(pc, -1, [](u_char*, const pcap_pkthdr*, const u_char*) {}, nullptr) > 0; ++i) {
  }
}

}  // namespace

std::vector<std::string> capture_interfaces() {
  std::vector<std::string> out;
  pcap_if_t* all = nullptr;
  char err[PCAP_ERRBUF_SIZE] = "";
  if (pcap_findalldevs(&all, err) != 0) return out;
  for (pcap_if_t* d = all; d; d = d->next) out.emplace_back(d->name);
  pcap_freealldevs(all);
  return out;
}

std::uint64_t parse_duration(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e9;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ns") scale = 1;
  if (used == 0 || scale == 0 || !(v >= 0) || !std::isfinite(v) || v * scale > 1.8e19)
    throw std::invalid_argument(fmt::format("'{}' is not a duration (e.g. 2s, 500ms, 1.5)", text));
  return static_cast<std::uint64_t>(std::llround(v * scale));
}

struct Capture::Impl {
  pcap_t* pcap = nullptr;
  std::string iface;
  int linktype = 0;
  int fd = -1;
  bool preopened = false;  // taken from preopen_capture: given back, not closed
  Stats base;              // a pre-opened capture's counts when it was taken
  ~Impl() {
    if (!pcap) return;
    if (!preopened) {
      pcap_close(pcap);
      return;
    }
    set_idle_filter(pcap);
    Preopened& p = ::pkt::preopened();
    std::lock_guard<std::mutex> g(p.m);
    p.free.emplace(iface, pcap);
  }
};

namespace {

// Creates and activates a capture as `cfg` says; throws CaptureError.
pcap_t* activate(const CaptureConfig& cfg) {
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_t* pc = pcap_create(cfg.iface.c_str(), err);
  if (!pc) throw CaptureError(fmt::format("cannot capture on {}: {}", cfg.iface, err));
  const bool any = cfg.iface == "any";
  pcap_set_snaplen(pc, cfg.snaplen);
  if (!any) pcap_set_promisc(pc, cfg.promisc ? 1 : 0);  // "any" has no promiscuous mode
  pcap_set_immediate_mode(pc, cfg.immediate ? 1 : 0);
  pcap_set_timeout(pc, kBlockTimeoutMs);
  pcap_set_buffer_size(pc, kBufferBytes);
  pcap_set_tstamp_precision(pc, PCAP_TSTAMP_PRECISION_NANO);
  const int rc = pcap_activate(pc);
  if (rc < 0) {
    const std::string why = pcap_geterr(pc);
    pcap_close(pc);
    if ((rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED) && net::privileges_dropped())
      throw CaptureError(net::late_socket_error("a capture on " + cfg.iface, cfg.iface));
    switch (rc) {
      case PCAP_ERROR_NO_SUCH_DEVICE:
        throw CaptureError(fmt::format("cannot capture on {}: no such interface; {}", cfg.iface, interfaces_text()));
      case PCAP_ERROR_PERM_DENIED:
        throw CaptureError(fmt::format("cannot capture on {}: permission denied ({}); {}", cfg.iface, why,
                                       privilege_help()));
      case PCAP_ERROR_PROMISC_PERM_DENIED:
        throw CaptureError(fmt::format("cannot capture on {} in promiscuous mode: permission denied; promiscuous mode "
                                       "needs CAP_NET_ADMIN (or use --no-promisc); {}",
                                       cfg.iface, privilege_help()));
      case PCAP_ERROR_IFACE_NOT_UP:
        throw CaptureError(fmt::format("cannot capture on {}: the interface is down (ip link set {} up)", cfg.iface,
                                       cfg.iface));
      default:
        throw CaptureError(fmt::format("cannot capture on {}: {}", cfg.iface, why.empty() ? pcap_statustostr(rc) : why));
    }
  }
  // Like tcpdump: on "any", the cooked header v2, which names the interface.
  if (any) {
    int* dlts = nullptr;
    const int n = pcap_list_datalinks(pc, &dlts);
    for (int k = 0; k < n; ++k)
      if (dlts[k] == DLT_LINUX_SLL2) pcap_set_datalink(pc, DLT_LINUX_SLL2);
    if (n >= 0) pcap_free_datalinks(dlts);
  }
  return pc;
}

}  // namespace

void preopen_capture(const std::string& iface, bool promisc) {
  CaptureConfig cfg;
  cfg.iface = iface;
  cfg.promisc = promisc;
  pcap_t* pc = activate(cfg);
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_setnonblock(pc, 1, err);
  set_idle_filter(pc);
  Preopened& p = preopened();
  std::lock_guard<std::mutex> g(p.m);
  p.free.emplace(iface, pc);
}

Capture::Capture(const CaptureConfig& cfg) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.iface = cfg.iface;
  if (cfg.iface.empty()) throw CaptureError(fmt::format("no interface given; {}", interfaces_text()));
  if (cfg.snaplen <= 0) throw CaptureError(fmt::format("snaplen {} must be positive", cfg.snaplen));
  char err[PCAP_ERRBUF_SIZE] = "";
  im.pcap = take_preopened(cfg.iface);
  if (im.pcap) {
    im.preopened = true;
    im.base = stats();
  } else {
    im.pcap = activate(cfg);
  }
  im.linktype = dlt_to_linktype(pcap_datalink(im.pcap));
  if (!cfg.filter.empty() || im.preopened) {  // a pre-opened capture's idle filter goes
    bpf_program prog{};
    if (pcap_compile(im.pcap, &prog, cfg.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      throw CaptureError(fmt::format("bad filter '{}': {}", cfg.filter, pcap_geterr(im.pcap)));
    const int frc = pcap_setfilter(im.pcap, &prog);
    pcap_freecode(&prog);
    if (frc != 0) throw CaptureError(fmt::format("cannot set filter '{}': {}", cfg.filter, pcap_geterr(im.pcap)));
  }
  if (pcap_setnonblock(im.pcap, 1, err) != 0) throw CaptureError(fmt::format("cannot capture on {}: {}", cfg.iface, err));
  im.fd = pcap_get_selectable_fd(im.pcap);
  if (im.fd < 0) throw CaptureError(fmt::format("cannot capture on {}: no selectable descriptor", cfg.iface));
}

Capture::~Capture() = default;

int Capture::linktype() const { return impl_->linktype; }
const std::string& Capture::iface() const { return impl_->iface; }

namespace {
struct DispatchState {
  pcap_t* pcap;
  const std::function<bool(const CapturedPacket&)>* fn;
  std::size_t delivered = 0;
  bool stop = false;
  std::exception_ptr error;  // thrown by fn: carried across libpcap's C frames, rethrown after
};

extern "C" void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  auto* st = reinterpret_cast<DispatchState*>(user);
  if (st->stop) return;
  // In nanosecond mode tv_usec holds nanoseconds.
  CapturedPacket p{bytes, h->caplen, h->len, static_cast<std::int64_t>(h->ts.tv_sec),
                   static_cast<std::uint32_t>(h->ts.tv_usec)};
  ++st->delivered;
  bool more = false;
  try {
    more = (*st->fn)(p);
  } catch (...) {
    st->error = std::current_exception();
  }
  if (!more) {
    st->stop = true;
    pcap_breakloop(st->pcap);
  }
}
}  // namespace

std::size_t Capture::dispatch(std::uint64_t wait_ns, const std::function<bool(const CapturedPacket&)>& fn) {
  Impl& im = *impl_;
  DispatchState st{im.pcap, &fn, 0, false, nullptr};
  const std::uint64_t deadline = wait_ns ? now_ns() + wait_ns : 0;
  for (;;) {
    // Non-blocking: everything in the ring's ready block(s), or nothing.
    const int rc = pcap_dispatch(im.pcap, -1, on_packet, reinterpret_cast<u_char*>(&st));
    if (st.error) std::rethrow_exception(st.error);
    if (rc == PCAP_ERROR)
      throw CaptureError(fmt::format("capture on {} failed: {}", im.iface, pcap_geterr(im.pcap)));
    if (st.delivered || st.stop || interrupted()) return st.delivered;
    const std::uint64_t t = now_ns();
    if (!wait_ns || t >= deadline) return 0;
    const std::uint64_t slice = std::min(deadline - t, kSliceNs);
    pollfd pfd{im.fd, POLLIN, 0};
    const int ms = static_cast<int>((slice + 999'999) / 1'000'000);
    if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
      throw CaptureError(fmt::format("capture on {} failed: poll: {}", im.iface, std::strerror(errno)));
    if (interrupted()) return 0;
  }
}

Capture::Stats Capture::stats() {
  pcap_stat s{};
  Stats out;
  if (pcap_stats(impl_->pcap, &s) != 0) return out;
  out.received = s.ps_recv - impl_->base.received;
  out.dropped = s.ps_drop - impl_->base.dropped;
  out.if_dropped = s.ps_ifdrop - impl_->base.if_dropped;
  return out;
}

}  // namespace pkt
