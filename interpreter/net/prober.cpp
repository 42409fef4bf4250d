#include "prober.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "capture.hpp"
#include "dissect.hpp"
#include "render.hpp"
#include "reply.hpp"

namespace pkt {

namespace {

constexpr std::size_t kMaxFilterHosts = 64;  // past this, capture everything and let the rules sort it out
constexpr std::uint64_t kSliceNs = 50'000'000;

std::uint64_t mono_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(t.tv_nsec);
}

// The capture filter: every address the probes carry (`host A` matches IPv4,
// IPv6 and ARP packets to or from A), so replies to them, errors about them
// and the probes themselves pass; "" when there are too many to list.
std::string filter_for(const std::vector<SrProbe>& probes) {
  std::set<std::string> hosts;
  for (auto& pr : probes)
    for (auto& li : pr.sent.layers())
      for (std::size_t f = 0; f < li.fields.size(); ++f) {
        const FieldDef& d = li.def->fields[f];
        const std::string& b = li.fields[f].value.bytes;
        int family = d.kind == FieldKind::IPv4 && b.size() == 4 ? AF_INET : d.kind == FieldKind::IPv6 && b.size() == 16 ? AF_INET6 : 0;
        if (!family || !li.fields[f].present) continue;
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(family, b.data(), text, sizeof text);
        hosts.insert(text);
        if (hosts.size() > kMaxFilterHosts) return "";
      }
  std::string out;
  for (auto& h : hosts) out += (out.empty() ? "host " : " or host ") + h;
  return out;
}

// The first layer of `p` named `name` (where a probe starting there begins), or -1.
int layer_named(const Packet& p, const std::string& name) {
  for (std::size_t i = 0; i < p.layers().size(); ++i)
    if (p.layers()[i].def->name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

double monotonic_seconds() { return static_cast<double>(mono_ns()) / 1e9; }

SrResult send_receive(Sender& sender, const Registry& reg, const std::vector<std::shared_ptr<PacketSet>>& sets,
                      const SrOptions& opts) {
  SrResult res;
  for (auto& ps : sets)
    ps->for_each([&](const Packet& p) {
      SrProbe pr;
      pr.sent = p;
      res.probes.push_back(std::move(pr));
      return true;
    });
  auto& probes = res.probes;
  if (probes.empty()) return res;
  res.filter = filter_for(probes);
  res.iface = opts.iface.empty() ? "any" : opts.iface;
  const bool dry = sender.config().dry_run;
  res.dry_run = dry;

  // Probes by their bytes: a probe seen on the wire is no reply, and gives its send time.
  std::unordered_multimap<std::string, std::size_t> by_bytes;
  std::vector<std::string> first_names;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& b = probes[i].sent.bytes();
    by_bytes.emplace(std::string(b.begin(), b.end()), i);
    const std::string& n = probes[i].sent.layers().front().def->name;
    if (std::find(first_names.begin(), first_names.end(), n) == first_names.end()) first_names.push_back(n);
  }
  std::vector<bool> stamped(probes.size(), false);  // sent time from the wire this round

  // Every probe is checked (scope, sizes, interface) before the first leaves.
  SendOptions check;
  check.iface = opts.iface;
  check.check_only = true;
  for (auto& ps : sets) sender.send(*ps, check);

  std::unique_ptr<Capture> cap;
  std::vector<ReadBind> first;
  Dissector dis(reg);
  if (!dry) {
    CaptureConfig cc;
    cc.iface = res.iface;
    cc.filter = res.filter;
    cc.promisc = false;
    cap = std::make_unique<Capture>(cc);
    first = dis.first_for_linktype(static_cast<std::uint32_t>(cap->linktype()));
  }
  Packet got;
  auto on_packet = [&](const CapturedPacket& c) {
    ++res.captured;
    dis.dissect(c.data, c.caplen, first, got);
    for (auto& name : first_names) {
      int r0 = layer_named(got, name);
      if (r0 < 0) continue;
      const auto& gb = got.bytes();
      std::string key(gb.begin() + got.layers()[static_cast<std::size_t>(r0)].offset, gb.end());
      auto [lo, hi] = by_bytes.equal_range(key);
      if (lo == hi) continue;
      for (auto it = lo; it != hi; ++it)
        if (!stamped[it->second] && !probes[it->second].answered) {
          stamped[it->second] = true;
          probes[it->second].sent_sec = c.sec;
          probes[it->second].sent_nsec = c.nsec;
        }
      return true;  // a probe, not a reply
    }
    for (auto& pr : probes) {
      if (pr.answered || !answers(reg, pr.sent, got)) continue;
      pr.answered = true;
      pr.reply = got;
      pr.reply.resolve_wire_origins();
      pr.reply_sec = c.sec;
      pr.reply_nsec = c.nsec;
      std::int64_t ns = (c.sec - pr.sent_sec) * 1'000'000'000LL + (static_cast<std::int64_t>(c.nsec) - pr.sent_nsec);
      pr.rtt = static_cast<double>(std::max<std::int64_t>(ns, 0)) / 1e9;
      ++res.answered;
      break;
    }
    return true;
  };
  auto all_answered = [&] { return res.answered == probes.size(); };
  // Delivers what the capture has until `deadline` (monotonic ns).
  auto drain_until = [&](std::uint64_t deadline, bool stop_early) {
    if (!cap) return;
    do {
      if (interrupted()) throw Interrupted();
      std::uint64_t now = mono_ns();
      std::uint64_t wait = deadline > now ? std::min(deadline - now, kSliceNs) : 0;
      cap->dispatch(wait, on_packet);
      if (stop_early && all_answered()) return;
    } while (mono_ns() < deadline);
  };

  for (unsigned round = 0; round <= opts.retry; ++round) {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < probes.size(); ++i)
      if (!probes[i].answered) todo.push_back(i);
    if (todo.empty()) break;
    std::uint64_t next = mono_ns();
    for (std::size_t k = 0; k < todo.size(); ++k) {
      if (k > 0 && opts.interval_ns) {
        next += opts.interval_ns;
        drain_until(next, false);
      } else {
        drain_until(0, false);
      }
      SrProbe& pr = probes[todo[k]];
      timespec now{};
      clock_gettime(CLOCK_REALTIME, &now);  // until the capture shows the probe leaving
      pr.sent_sec = now.tv_sec;
      pr.sent_nsec = static_cast<std::uint32_t>(now.tv_nsec);
      stamped[todo[k]] = false;
      PacketSet one;
      one.tmpl = pr.sent;
      SendOptions so;
      so.iface = opts.iface;
      sender.send(one, so);
      if (interrupted()) throw Interrupted();
    }
    if (dry) break;
    drain_until(mono_ns() + opts.timeout_ns, opts.stop_when_answered);
  }
  if (cap) res.dropped = cap->stats().dropped;
  return res;
}

std::string sr_line(const SrProbe& p) {
  std::string sent = render_summary(p.sent);
  if (!p.answered) return sent + "  ->  unanswered";
  int r0 = layer_named(p.reply, p.sent.layers().front().def->name);
  return fmt::format("{}  ->  {}  rtt {:.3f} ms", sent, render_summary(p.reply, r0 < 0 ? 0 : static_cast<std::size_t>(r0)),
                     p.rtt * 1e3);
}

std::string sr_json(const SrProbe& p, std::uint64_t n, const Registry& reg) {
  std::string sent = render_json(p.sent, &reg, fmt::format("\"time\": {}, \"len\": {}", json_time(p.sent_sec, p.sent_nsec), p.sent.size()));
  if (!p.answered) return fmt::format("{{\"n\": {}, \"sent\": {}, \"reply\": null, \"rtt\": null}}", n, sent);
  // From the layer named like the probe's first, as sr_line: the capture's
  // link header (sll2 on "any") is no part of the answer.
  int r0 = layer_named(p.reply, p.sent.layers().front().def->name);
  std::size_t from = r0 < 0 ? 0 : static_cast<std::size_t>(r0);
  std::size_t at = from < p.reply.layers().size() ? std::min<std::size_t>(p.reply.layers()[from].offset, p.reply.size()) : 0;
  std::string reply = render_json(p.reply, &reg, fmt::format("\"time\": {}, \"len\": {}", json_time(p.reply_sec, p.reply_nsec), p.reply.size() - at), from);
  return fmt::format("{{\"n\": {}, \"sent\": {}, \"reply\": {}, \"rtt\": {:.9f}}}", n, sent, reply, p.rtt);
}

}  // namespace pkt
