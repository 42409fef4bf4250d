// Sender: checks a whole packet set (link type, interface, lengths, scope)
// before the first packet leaves, then sends it through the raw path its
// link type selects, in batches, from one or more pinned threads, paced by
// the rate or the interval and teeing to --pcap.
#include "send.hpp"

#include <net/if_arp.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "destination.hpp"
#include "packet_io.hpp"
#include "pcap_tee.hpp"
#include "pcap_writer.hpp"
#include "privilege.hpp"
#include "render.hpp"
#include "socket_raw.hpp"

namespace pkt {

namespace {

constexpr int kLinkRaw = static_cast<int>(LinkType::Raw);
constexpr int kLinkEthernet = static_cast<int>(LinkType::Ethernet);

std::string link_name(int link) {
  switch (link) {
    case kLinkRaw: return "LINKTYPE_RAW (101)";
    case kLinkEthernet: return "EN10MB (1)";
    default: return fmt::format("link type {}", link);
  }
}

std::string first_layer(const Packet& p) {
  return p.layers().empty() || !p.layers().front().def ? std::string("(empty)") : p.layers().front().def->name;
}

// One's-complement sum over an IPv4 header; 0xffff when its checksum is right.
std::uint16_t header_sum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

// Fields of a packet's first layer that the kernel fills in when they are
// zero: those whose rule asks the route (route_source), as raw IPv4's source.
std::vector<std::size_t> kernel_filled_fields(const Packet& p) {
  std::vector<std::size_t> out;
  if (p.layers().empty()) return out;
  const LayerDef& def = *p.layers()[0].def;
  for (std::size_t f = 0; f < def.fields.size(); ++f)
    if (def.fields[f].asks_route && def.fields[f].fixed_size() && def.fields[f].kind != FieldKind::UInt)
      out.push_back(f);
  return out;
}

// Linux fills in a zero source of a raw IPv4 packet with its route's choice
// (raw_send_hdrinc), after the layers above were built over zeros. When the
// user set such a field to zeros, its layer is left as built (the kernel
// rewrites it), but the computed values of the layers above (the TCP or UDP
// checksum over the pseudo-header) are those over the kernel's choice: the
// route_source answer. Returns false when nothing needs it (or no route).
bool fill_for_kernel(const Packet& p, const std::vector<std::size_t>& fields, std::vector<std::uint8_t>& out,
                     std::string* warning) {
  if (p.layers().empty()) return false;
  for (std::size_t f : fields) {
    if (f >= p.layers()[0].fields.size() || !p.layers()[0].def->fields[f].asks_route) continue;  // a capture's other layers
    const FieldSlot& s = p.layers()[0].fields[f];
    if (s.origin != Origin::User || !s.present || s.value.bytes.find_first_not_of('\0') != std::string::npos) continue;
    Packet routed = p;
    routed.set(0, f, s.value, Origin::Auto);  // handed back to its rule: the route's source
    const FieldValue chosen = routed.layers()[0].fields[f].value;
    if (chosen.bytes.find_first_not_of('\0') == std::string::npos) return false;  // no route: the send says so
    Packet sent = routed;
    for (std::size_t l = 1; l < p.layers().size(); ++l)
      for (std::size_t k = 0; k < p.layers()[l].fields.size(); ++k)
        if (is_computed(routed.layers()[l].fields[k].origin) &&
            !(routed.layers()[l].fields[k].value == p.layers()[l].fields[k].value))
          sent.set(l, k, routed.layers()[l].fields[k].value, Origin::User);
    sent.set(0, f, s.value, Origin::User);
    out.assign(sent.bytes().begin(), sent.bytes().end());
    if (warning) {
      const LayerDef& def = *p.layers()[0].def;
      const FieldDef& d = def.fields[f];
      std::string dst;
      if (const AutoExpr& arg = d.auto_rule->args.empty() ? *d.auto_rule : d.auto_rule->args[0];
          arg.op == AutoExpr::Op::Field)
        dst = format_value(def.fields[arg.index], p.layers()[0].fields[arg.index].value);
      *warning = fmt::format("{}={}: the kernel fills in the source of a raw IPv4 packet; checksums use {}, its choice"
                             "{} (to keep {} on the wire, send from eth on an interface)",
                             d.name, format_value(d, s.value), format_value(d, chosen),
                             dst.empty() ? std::string() : " for " + dst, format_value(d, s.value));
    }
    return true;
  }
  return false;
}

// What Linux changes in a raw IPv4 header it sends with IP_HDRINCL (see
// raw_send_hdrinc): the total length, the header checksum, a zero source.
std::string ipv4_kernel_rewrites(const std::uint8_t* p, std::size_t n, bool source_filled) {
  std::vector<std::string> what;
  std::size_t ihl = (p[0] & 0x0f) * 4u;
  std::size_t tot = static_cast<std::size_t>(p[2] << 8 | p[3]);
  if (tot != n) what.push_back(fmt::format("sets the total length to {} (the packet says {})", n, tot));
  if (tot != n || header_sum(p, ihl) != 0xffff) what.push_back("recomputes the header checksum");
  if (!p[12] && !p[13] && !p[14] && !p[15] && !source_filled)
    what.push_back("replaces the source 0.0.0.0 with the route's address");
  if (what.empty()) return "";
  std::string list = what[0];
  for (std::size_t i = 1; i < what.size(); ++i) list += (i + 1 == what.size() ? " and " : ", ") + what[i];
  return fmt::format("for raw IPv4 packets the kernel {}; --pcap records the packets as built. To send the bytes "
                     "unchanged, build them on eth() and send them on an interface",
                     list);
}

// Does any packet of the set need fill_for_kernel? Only when a field the
// kernel fills is given as zeros by the user: in the template, or by a
// generator over it (a list of packets is looked at packet by packet).
bool may_need_kernel_fill(const PacketSet& set, const std::vector<std::size_t>& fields) {
  if (fields.empty()) return false;
  if (set.list) return true;
  const Packet& t = set.tmpl;
  if (t.layers().empty()) return false;
  for (std::size_t f : fields) {
    if (f >= t.layers()[0].fields.size()) continue;
    const FieldSlot& s = t.layers()[0].fields[f];
    if (s.origin == Origin::User && s.present && s.value.bytes.find_first_not_of('\0') == std::string::npos) return true;
    for (const Dim& d : set.dims)
      if (d.layer == 0 && d.field == f) return true;
  }
  return false;
}

// The cores this process may run on (its affinity mask, so `taskset` is
// respected), in order.
std::vector<int> allowed_cpus() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);  // best effort: an unpinned thread still sends
}

void wall_clock(std::int64_t& sec, std::int64_t& usec) {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  sec = t.tv_sec;
  usec = t.tv_nsec / 1000;
}

}  // namespace

struct Sender::Impl {
  net::RawSockets raw;
  std::unique_ptr<PcapWriter> pcap;
  std::int64_t virtual_us = 0;  // --dry-run: the timestamp of the last packet written
  bool warned_ipv4 = false;
  bool warned_source = false;
};

namespace {

// What every sender thread of one send shares, read-only while they run.
struct SendPlan {
  const PacketSet* set = nullptr;
  std::uint64_t per_round = 0;
  bool ether = false, dry = false, need_fill = false;
  const std::vector<std::size_t>* filled = nullptr;
  const SendOptions* opts = nullptr;
  net::InterfaceInfo ifinfo;
  Rate rate;
  unsigned threads = 1;
  PcapTee* tee = nullptr;        // not with dry (written directly, with virtual timestamps)
  PcapWriter* pcap = nullptr;    // dry only
  std::int64_t t0_us = 0;        // dry: the first packet's timestamp
  Progress* progress = nullptr;
  std::atomic<bool>* stop = nullptr;  // set by a failing thread: the others stop too
};

// One sender thread's share: the packets of global indices [begin, end) in
// generator order (index i is packet i % per_round of the set).
struct Share {
  std::uint64_t begin = 0, end = 0;
  int cpu = -1;                   // pinned to it when >= 0
  net::RawSockets* raw = nullptr;
  std::uint64_t sent = 0, bytes = 0;
  bool interrupted = false;
  // A failed packet: its global index, size, where it went and why.
  bool failed = false;
  std::uint64_t failed_index = 0;
  std::size_t failed_size = 0;
  std::string failed_where, failed_reason;
  std::exception_ptr error;       // anything else thrown
  double virtual_ns = 0;          // dry: the next packet's time after t0_us, on the rate's schedule
  std::int64_t virtual_us = 0;    // dry: the last packet's timestamp
};

constexpr std::size_t kBatch = 64;

// Sends a share in batches of kBatch packets built ahead, as the pacer admits them.
void send_share(const SendPlan& pl, Share& sh) {
  if (sh.cpu >= 0) pin_to(sh.cpu);
  const SendOptions& o = *pl.opts;
  PacketCursor cur(*pl.set, sh.begin % pl.per_round);
  PacketBatch batch;
  std::vector<std::uint8_t> fixed;
  Pacer pacer(pl.rate, 1.0 / pl.threads);
  std::uint64_t left = sh.end - sh.begin;
  while (left) {
    if (interrupted()) {
      sh.interrupted = true;
      return;
    }
    if (pl.stop->load(std::memory_order_relaxed)) return;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, kBatch));
    batch.clear();
    if (pl.need_fill) {
      for (std::size_t i = 0; i < n; ++i, cur.advance()) {
        const Packet& p = cur.packet();
        const std::uint8_t* b = p.bytes().data();
        if (p.size() >= 20 && (b[0] >> 4) == 4 && fill_for_kernel(p, *pl.filled, fixed, nullptr))
          batch.push(fixed.data(), fixed.size());
        else
          batch.push(b, p.size());
      }
    } else {
      cur.fill(batch, n);
    }
    const std::uint8_t* const* ptrs = batch.ptrs();
    const std::size_t* lens = batch.lens();
    for (std::size_t i = 0; i < n;) {
      // Runs of one path: Ethernet frames, or raw IP packets of one family.
      std::size_t k = n - i;
      const int v = ptrs[i][0] >> 4;
      if (!pl.ether && !pl.dry) {
        std::size_t run = 1;
        while (run < k && (ptrs[i + run][0] >> 4) == v) ++run;
        k = run;
      }
      if (!pl.dry && pacer.limited()) {
        k = pacer.admit(lens + i, k);
        if (k == 0) {
          sh.interrupted = true;
          return;
        }
      }
      std::size_t ok = 0;
      int err = 0;
      std::size_t written = 0;
      std::string where;
      if (pl.dry) {
        ok = k;
        // The pcap's timestamps follow the schedule the rate would have kept.
        for (std::size_t j = 0; j < k; ++j) {
          const std::int64_t ts = pl.t0_us + static_cast<std::int64_t>(sh.virtual_ns / 1000);
          const Rate& r = pl.rate;
          sh.virtual_ns += r.pps > 0   ? 1e9 / r.pps
                           : r.bps > 0 ? static_cast<double>(lens[i + j]) * 8e9 / r.bps
                                       : static_cast<double>(o.interval_ns);
          sh.virtual_us = ts;
          if (pl.pcap) pl.pcap->write(ptrs[i + j], lens[i + j], ts / 1000000, ts % 1000000);
        }
      } else if (pl.ether) {
        net::BatchResult r = sh.raw->send_frames(ptrs + i, lens + i, k, pl.ifinfo.index);
        ok = r.sent;
        err = r.err;
        where = "on " + o.iface;
      } else {
        net::IpBatchResult r = v == 4 ? sh.raw->send_ipv4_batch(ptrs + i, lens + i, k, o.iface)
                                      : sh.raw->send_ipv6_batch(ptrs + i, lens + i, k, o.iface, pl.ifinfo.index);
        ok = r.sent;
        err = r.err;
        written = r.written;
        if (ok < k) where = "to " + net::ip_destination(ptrs[i + ok], lens[i + ok]).text();
      }
      if (ok) {
        std::uint64_t bytes = 0;
        for (std::size_t j = 0; j < ok; ++j) bytes += lens[i + j];
        if (pl.tee) {
          std::int64_t sec, usec;
          wall_clock(sec, usec);
          pl.tee->add(ptrs + i, lens + i, ok, sec, usec);
        }
        sh.sent += ok;
        sh.bytes += bytes;
        if (pl.progress) pl.progress->add(ok, bytes);
      }
      if (ok < k) {
        if (err == EINTR || (err && interrupted())) {
          sh.interrupted = true;
          return;
        }
        const std::size_t n_bad = lens[i + ok];
        std::string reason = err ? net::send_errno_text(err)
                                 : fmt::format("short write: the kernel took {} of its {} bytes", written, n_bad);
        if (err == EMSGSIZE && pl.ifinfo.mtu) reason += fmt::format(" ({} has MTU {})", o.iface, pl.ifinfo.mtu);
        sh.failed = true;
        sh.failed_index = sh.begin + sh.sent;
        sh.failed_size = n_bad;
        sh.failed_where = where;
        sh.failed_reason = reason;
        pl.stop->store(true);
        return;
      }
      i += k;
    }
    left -= n;
  }
}

}  // namespace

Sender::Sender(SendConfig cfg, const Registry& reg) : impl_(std::make_unique<Impl>()), cfg_(std::move(cfg)), reg_(reg) {}

Sender::~Sender() = default;

std::uint64_t Sender::send(const PacketSet& set, const SendOptions& opts) {
  return send_as(set, opts, link_type_of(reg_, set.tmpl));
}

std::uint64_t Sender::send_as(const PacketSet& set, const SendOptions& opts, int link) {
  last_ = SendStats{};
  const unsigned asked_threads = opts.threads ? opts.threads : cfg_.threads;
  if (asked_threads > kMaxThreads)
    throw SendError(fmt::format("threads {}: expected 1 to {} sender threads", asked_threads, kMaxThreads));
  if ((opts.rate_pps > 0) + (opts.rate_bps > 0) + (opts.interval_ns > 0) > 1)
    throw SendError(opts.interval_ns ? "give either a rate or an interval, not both"
                                     : "give one rate: in packets/s or in bits/s, not both");
  const std::uint64_t per_round = set.count();
  if (per_round == 0 || opts.count == 0) return 0;
  const std::uint64_t planned = opts.count > ~0ULL / per_round ? ~0ULL : per_round * opts.count;
  const bool dry = cfg_.dry_run;
  const std::string first = first_layer(set.tmpl);

  // 1. The path: by link type.
  bool ether = false;
  if (link == kLinkEthernet) {
    ether = true;
  } else if (link != kLinkRaw) {
    throw SendError(fmt::format("cannot send a packet that starts with {} ({}): a packet to send starts at IP "
                                "(ipv4 or ipv6: sent on a raw socket) or at eth (sent on an interface with `on IFACE`)",
                                first, link_name(link)));
  }
  if (opts.bypass && !ether)
    throw SendError(fmt::format("bypass (PACKET_QDISC_BYPASS) is an option of Ethernet frames sent on an interface, but "
                                "this packet starts with {} and is sent on a raw IP socket; build it on eth() and send it "
                                "`on IFACE bypass`, or leave bypass out",
                                first));

  // 2. The interface.
  const bool have_if = !opts.iface.empty();
  net::InterfaceInfo ifinfo;
  bool loopback = false;
  if (ether && !have_if) throw SendError("sending an Ethernet frame needs an interface: send p on IFACE");
  if (have_if) {
    if (dry) {
      // A dry run may check a script meant for another host: the interface
      // need not exist here (but only a loopback one exempts unchecked frames).
      loopback = net::is_loopback_interface(opts.iface);
    } else {
      ifinfo = net::interface_info(opts.iface);
      loopback = ifinfo.loopback;
      if (ether && ifinfo.hw_type != ARPHRD_ETHER && ifinfo.hw_type != ARPHRD_LOOPBACK)
        throw SendError(fmt::format("cannot send an Ethernet frame on {}: it is not an Ethernet interface "
                                    "(hardware type {}); send packets that start at IP instead",
                                    opts.iface, ifinfo.hw_type));
      if (!ifinfo.up) throw SendError(fmt::format("cannot send on {}: the interface is down", opts.iface));
    }
  }

  // 3. The pcap file holds one link type.
  if (!cfg_.pcap_path.empty() && impl_->pcap && static_cast<int>(impl_->pcap->link()) != link)
    throw SendError(fmt::format("--pcap {} holds {} packets, but this packet starts with {} ({}): a pcap file holds "
                                "one link type; send these packets in another run or write them with `write`",
                                cfg_.pcap_path, link_name(static_cast<int>(impl_->pcap->link())), first,
                                link_name(link)));

  // 4. Every packet of the set, before the first one leaves: lengths,
  //    destinations and the scope.
  bool need4 = false, need6 = false, stopped = false;
  std::uint64_t k = 0;
  std::size_t max_size = 0;
  const std::vector<std::size_t> filled = ether ? std::vector<std::size_t>{} : kernel_filled_fields(set.tmpl);
  std::vector<std::uint8_t> fixed;
  set.for_each([&](const Packet& p) {
    ++k;
    if ((k & 0xfff) == 0 && interrupted()) {
      stopped = true;
      return false;
    }
    const std::uint8_t* b = p.bytes().data();
    const std::size_t n = p.size();
    max_size = std::max(max_size, n);
    try {
      if (!ether) {
        net::Destination d = net::ip_destination(b, n);
        (d.family == AF_INET ? need4 : need6) = true;
        if (!cfg_.scope.allows(d.family, d.addr)) throw SendError(cfg_.scope.refusal("send", d.text()));
        if (d.link_local() && !have_if)
          throw SendError(fmt::format("sending to {} (link-local) needs an interface: send p on IFACE", d.text()));
        bool source_filled = false;
        // Only for the warnings: the send below does the same for each packet.
        if (d.family == AF_INET && !filled.empty() && (!impl_->warned_source || (!dry && !impl_->warned_ipv4))) {
          std::string w;
          source_filled = fill_for_kernel(p, filled, fixed, impl_->warned_source ? nullptr : &w);
          if (!w.empty()) {
            impl_->warned_source = true;
            if (cfg_.warn) cfg_.warn(w);
            else fmt::print(stderr, "pkt: warning: {}\n", w);
          }
        }
        if (d.family == AF_INET && !dry && !impl_->warned_ipv4) {
          std::string w = ipv4_kernel_rewrites(source_filled ? fixed.data() : b, source_filled ? fixed.size() : n,
                                               source_filled);
          if (!w.empty()) {
            impl_->warned_ipv4 = true;
            if (cfg_.warn) cfg_.warn(w);
            else fmt::print(stderr, "pkt: warning: {}\n", w);
          }
        }
      } else {
        if (n < 14)
          throw SendError(fmt::format("cannot send this frame: an Ethernet header needs 14 bytes, the frame has {}", n));
        std::uint16_t type = 0;
        net::Destination d = net::frame_destination(b, n, &type);
        if (d.family) {
          if (!cfg_.scope.allows(d.family, d.addr)) throw SendError(cfg_.scope.refusal("send", d.text()));
        } else if (cfg_.scope.restricted() && !loopback) {
          throw SendError(fmt::format("send on {} refused: the frame (EtherType 0x{:04x}) carries no IPv4, IPv6 or ARP "
                                      "destination to check against the scope {} (set by --scope or PKT_SCOPE); "
                                      "such frames may only be sent on a loopback interface",
                                      opts.iface, type, cfg_.scope.text()));
        }
      }
    } catch (const SendError& e) {
      if (per_round > 1) throw SendError(fmt::format("{} (packet {} of {}; nothing was sent)", e.what(), k, per_round));
      throw;
    }
    return true;
  });
  if (stopped || opts.check_only) {
    last_.interrupted = stopped;
    return 0;
  }

  // 5. The threads: each sends a contiguous share of the packets, in
  //    generator order, on its own sockets. A dry run only writes: one thread.
  const unsigned threads = dry ? 1 : std::max(1u, opts.threads ? opts.threads : cfg_.threads);
  std::vector<Share> shares;
  for (unsigned t = 0; t < threads; ++t) {
    Share sh;
    sh.begin = static_cast<std::uint64_t>(static_cast<unsigned __int128>(planned) * t / threads);
    sh.end = static_cast<std::uint64_t>(static_cast<unsigned __int128>(planned) * (t + 1) / threads);
    if (sh.end > sh.begin) shares.push_back(sh);
  }
  std::vector<std::unique_ptr<net::RawSockets>> own;  // the sockets of threads after the first

  // 6. Open what the sends need, before the first packet: the sockets (this
  //    is where a missing CAP_NET_RAW shows), then the pcap file.
  if (!dry) {
    for (std::size_t t = 0; t < shares.size(); ++t) {
      net::RawSockets* raw = &impl_->raw;
      if (t) {
        own.push_back(std::make_unique<net::RawSockets>());
        raw = own.back().get();
      }
      if (ether) raw->open_packet(opts.bypass, max_size, opts.iface);
      if (need4) raw->open_ipv4(opts.iface);
      if (need6) raw->open_ipv6(opts.iface);
      shares[t].raw = raw;
    }
  }
  if (!cfg_.pcap_path.empty() && !impl_->pcap) {
    try {
      impl_->pcap = std::make_unique<PcapWriter>(cfg_.pcap_path, static_cast<LinkType>(link));
    } catch (const std::exception& e) {
      const int err = errno;
      throw SendError(e.what() + net::file_after_drop_hint(err));
    }
  }

  // 7. Send, `count` times, paced by the rate or the interval.
  std::atomic<bool> stop{false};
  SendPlan pl;
  pl.set = &set;
  pl.per_round = per_round;
  pl.ether = ether;
  pl.dry = dry;
  pl.need_fill = !ether && may_need_kernel_fill(set, filled);
  pl.filled = &filled;
  pl.opts = &opts;
  pl.ifinfo = ifinfo;
  pl.rate = Rate{opts.rate_pps, opts.rate_bps, opts.interval_ns};
  pl.threads = static_cast<unsigned>(shares.size());
  pl.stop = &stop;
  std::unique_ptr<PcapTee> tee;
  if (impl_->pcap) {
    if (dry) pl.pcap = impl_->pcap.get();
    else tee = std::make_unique<PcapTee>(*impl_->pcap);
    pl.tee = tee.get();
  }
  if (dry) {
    // Nothing waits in a dry run; the pcap gets the timestamps the packets
    // would have had, spaced by the interval.
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    pl.t0_us = std::max<std::int64_t>(now, impl_->virtual_us + (impl_->virtual_us ? 1 : 0));
  }
  Progress progress(cfg_.progress && planned > 1, planned == ~0ULL ? 0 : planned);
  pl.progress = &progress;

  const auto t0 = std::chrono::steady_clock::now();
  if (shares.size() == 1) {
    send_share(pl, shares[0]);  // in this thread, unpinned
  } else {
    const std::vector<int> cpus = allowed_cpus();
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < shares.size(); ++t) {
      if (!cpus.empty()) shares[t].cpu = cpus[t % cpus.size()];
      workers.emplace_back([&pl, &sh = shares[t]] {
        try {
          send_share(pl, sh);
        } catch (...) {
          sh.error = std::current_exception();
          pl.stop->store(true);
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress.finish();

  SendStats st;
  st.seconds = dry ? 0 : seconds;  // a dry run waits for nothing: the count alone
  st.asked_pps = pl.rate.asked_pps();
  st.asked_bps = opts.rate_bps;
  const Share* failed = nullptr;
  std::exception_ptr error;
  for (const Share& sh : shares) {
    st.packets += sh.sent;
    st.bytes += sh.bytes;
    st.interrupted = st.interrupted || sh.interrupted;
    if (sh.failed && (!failed || sh.failed_index < failed->failed_index)) failed = &sh;
    if (sh.error && !error) error = sh.error;
  }
  total_ += st.packets;
  last_ = st;
  if (dry && st.packets) impl_->virtual_us = shares[0].virtual_us;
  // The file holds exactly what left, also when the send failed.
  if (tee) {
    try {
      tee->finish();
    } catch (const std::exception& e) {
      if (!error && !failed) throw SendError(e.what());
    }
  } else if (impl_->pcap) {
    impl_->pcap->flush();
  }
  if (error) std::rethrow_exception(error);
  if (failed) {
    const Share& f = *failed;
    if (planned == 1)
      throw SendError(fmt::format("sending {} bytes {} failed: {}", f.failed_size, f.failed_where, f.failed_reason));
    std::string before;
    if (shares.size() == 1)
      before = st.packets == 1 ? std::string("1 packet was sent before it") : fmt::format("{} packets were sent before it", st.packets);
    else
      before = fmt::format("{} {} sent by the {} threads", st.packets, st.packets == 1 ? "packet was" : "packets were",
                           shares.size());
    throw SendError(fmt::format("sending packet {} ({} bytes) {} failed: {}; {}", f.failed_index + 1, f.failed_size,
                                f.failed_where, f.failed_reason, before));
  }
  return st.packets;
}

}  // namespace pkt
