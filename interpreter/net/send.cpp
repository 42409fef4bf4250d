// Sender: checks a whole packet set (link type, interface, lengths, scope)
// before the first packet leaves, then sends it through the raw path its
// link type selects, pacing by the interval and teeing to --pcap.
#include "send.hpp"

#include <net/if_arp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "destination.hpp"
#include "packet_io.hpp"
#include "pcap_writer.hpp"
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

// The packets counted reach the file on every way out (an error thrown from a
// destructor would end the program: a failure waits for the flush after the loop).
struct FlushOnExit {
  PcapWriter* w;
  ~FlushOnExit() {
    if (w) w->flush_quietly();
  }
};

}  // namespace

struct Sender::Impl {
  net::RawSockets raw;
  std::unique_ptr<PcapWriter> pcap;
  std::int64_t virtual_us = 0;  // --dry-run: the timestamp of the last packet written
  bool warned_ipv4 = false;
  bool warned_source = false;
};

Sender::Sender(SendConfig cfg, const Registry& reg) : impl_(std::make_unique<Impl>()), cfg_(std::move(cfg)), reg_(reg) {}

Sender::~Sender() = default;

std::uint64_t Sender::send(const PacketSet& set, const SendOptions& opts) {
  return send_as(set, opts, link_type_of(reg_, set.tmpl));
}

std::uint64_t Sender::send_as(const PacketSet& set, const SendOptions& opts, int link) {
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
  if (stopped || opts.check_only) return 0;

  // 5. Open what the sends need, before the first packet: the sockets (this
  //    is where a missing CAP_NET_RAW shows), then the pcap file.
  if (!dry) {
    if (ether) impl_->raw.open_packet();
    if (need4) impl_->raw.open_ipv4(opts.iface);
    if (need6) impl_->raw.open_ipv6(opts.iface);
  }
  if (!cfg_.pcap_path.empty() && !impl_->pcap) {
    try {
      impl_->pcap = std::make_unique<PcapWriter>(cfg_.pcap_path, static_cast<LinkType>(link));
    } catch (const std::exception& e) {
      throw SendError(e.what());
    }
  }

  // 6. Send, `count` times, paced by the interval.
  PcapWriter* pcap = impl_->pcap.get();
  FlushOnExit flush{pcap};
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::nanoseconds(opts.interval_ns);
  auto next = Clock::now();
  std::int64_t t0_us = 0;
  if (dry) {
    // Nothing waits in a dry run; the pcap gets the timestamps the packets
    // would have had, spaced by the interval.
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    t0_us = std::max<std::int64_t>(now, impl_->virtual_us + (impl_->virtual_us ? 1 : 0));
  }
  std::uint64_t sent = 0;
  bool stop = false;
  for (std::uint64_t round = 0; round < opts.count && !stop; ++round) {
    set.for_each([&](const Packet& p) {
      if (interrupted()) {
        stop = true;
        return false;
      }
      const std::uint8_t* b = p.bytes().data();
      std::size_t n = p.size();
      if (!filled.empty() && n >= 20 && (b[0] >> 4) == 4 && fill_for_kernel(p, filled, fixed, nullptr)) {
        b = fixed.data();
        n = fixed.size();
      }
      if (!dry) {
        // Pace against a schedule so the rate holds; after a stall longer
        // than one interval, restart the schedule instead of bursting.
        if (sent > 0 && opts.interval_ns > 0) {
          next += interval;
          auto now = Clock::now();
          if (next > now) {
            if (!sleep_interruptible(static_cast<std::uint64_t>((next - now).count()))) {
              stop = true;
              return false;
            }
          } else if (now - next > interval) {
            next = now;
          }
        }
        net::RawResult r;
        std::string where;
        if (!ether) {
          net::Destination d = net::ip_destination(b, n);
          where = "to " + d.text();
          r = d.family == AF_INET ? impl_->raw.send_ipv4(b, n, d.addr, opts.iface)
                                  : impl_->raw.send_ipv6(b, n, d.addr, opts.iface, d.link_local() ? ifinfo.index : 0);
        } else {
          where = "on " + opts.iface;
          r = impl_->raw.send_frame(b, n, ifinfo.index);
        }
        if (r.err == EINTR || (r.err && interrupted())) {
          stop = true;
          return false;
        }
        if (r.err || r.written != n) {
          std::string reason = r.err ? net::send_errno_text(r.err)
                                     : fmt::format("short write: the kernel took {} of its {} bytes", r.written, n);
          if (r.err == EMSGSIZE && ifinfo.mtu) reason += fmt::format(" ({} has MTU {})", opts.iface, ifinfo.mtu);
          if (planned > 1)
            throw SendError(fmt::format("sending packet {} ({} bytes) {} failed: {}; {} sent before it", sent + 1, n,
                                        where, reason,
                                        sent == 1 ? std::string("1 packet was") : fmt::format("{} packets were", sent)));
          throw SendError(fmt::format("sending {} bytes {} failed: {}", n, where, reason));
        }
      }
      if (pcap) {
        if (dry) {
          std::int64_t ts = t0_us + static_cast<std::int64_t>(sent * (opts.interval_ns / 1000));
          pcap->write(b, n, ts / 1000000, ts % 1000000);
          impl_->virtual_us = ts;
        } else {
          pcap->write(b, n);
        }
      }
      ++sent;
      ++total_;
      return true;
    });
  }
  if (pcap) pcap->flush();  // a full disk is an error here, not a silent success
  return sent;
}

}  // namespace pkt
