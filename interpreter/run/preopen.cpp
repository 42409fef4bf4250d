#include "preopen.hpp"

#include <sched.h>

#include <fmt/format.h>

#include <functional>
#include <stdexcept>

#include "capture.hpp"
#include "send.hpp"
#include "sniffer.hpp"
#include "socket_raw.hpp"

namespace pkt {

namespace {

// sniff(on IFACE, ...) anywhere in an expression.
void scan_expr(const ast::ExprPtr& e, SocketNeeds& out) {
  if (!e) return;
  if (e->kind == ast::Expr::Kind::Call && e->s == "sniff") {
    std::string iface;
    for (auto& a : e->args)
      if (a.name == "on" && a.value && (a.value->kind == ast::Expr::Kind::Name || a.value->kind == ast::Expr::Kind::String))
        iface = a.value->s;
    out.capture_ifaces[iface.empty() ? default_sniff_interface() : iface] = true;
  }
  for (auto& i : e->items) scan_expr(i, out);
  for (auto& a : e->args) scan_expr(a.value, out);
}

// The cores this process may run on: one TX ring each.
unsigned allowed_cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

}  // namespace

SocketNeeds scan_script(const ast::Script& script) {
  using SK = ast::Stmt::Kind;
  SocketNeeds out;
  for (auto& st : script.stmts) {
    switch (st.kind) {
      case SK::Send:
        if (!st.iface.empty()) out.send_ifaces.insert(st.iface);
        break;
      case SK::Sr:
        if (!st.iface.empty()) out.send_ifaces.insert(st.iface);
        out.capture_ifaces.emplace(st.iface.empty() ? "any" : st.iface, false);
        break;
      case SK::Sniff:
        out.capture_ifaces[st.iface.empty() ? default_sniff_interface() : st.iface] = true;
        break;
      default: break;
    }
    scan_expr(st.value, out);
    for (auto& t : st.targets) scan_expr(t, out);
  }
  return out;
}

void open_then_drop(const net::DropPlan& plan, const SocketNeeds& needs, const std::vector<std::string>& ifaces) {
  if (!plan.active()) {
    // Nothing to open early, but a mistyped -i is still an error.
    for (auto& i : ifaces) {
      if (i == "any") continue;
      try {
        net::interface_info(i);
      } catch (const std::runtime_error& e) {
        throw IfaceError(fmt::format("-i {}: {}", i, e.what()));
      }
    }
    return;
  }
  // Each step that fails for a statement's interface is left for the statement.
  auto quietly = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::runtime_error&) {
    }
  };
  auto named = [](const std::string& iface, const std::function<void()>& f) {
    try {
      f();
    } catch (const std::runtime_error& e) {
      throw IfaceError(fmt::format("-i {}: {}", iface, e.what()));
    }
  };
  const unsigned rings = std::min(allowed_cpu_count(), Sender::kMaxThreads);
  quietly([] { net::preopen_ip(""); });  // routed normally: what most sends use
  for (auto& i : ifaces) {
    if (i == "any") {
      named(i, [&] { preopen_capture(i, false); });
      continue;
    }
    named(i, [&] {
      net::interface_info(i);  // "no interface named ..., available: ..."
      net::preopen_ip(i);
      net::preopen_packet(rings);
      preopen_capture(i, needs.capture_ifaces.count(i) && needs.capture_ifaces.at(i));
    });
  }
  for (auto& i : needs.send_ifaces) {
    quietly([&] { net::preopen_ip(i); });
    quietly([&] { net::preopen_packet(rings); });
  }
  for (auto& [i, promisc] : needs.capture_ifaces)
    if (std::find(ifaces.begin(), ifaces.end(), i) == ifaces.end()) quietly([&, &i = i, promisc = promisc] { preopen_capture(i, promisc); });
  net::drop_privileges(plan);
}

}  // namespace pkt
