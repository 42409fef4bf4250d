#include "privilege.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace pkt::net {

namespace {

bool g_dropped = false;
std::string g_dropped_to;  // "nobody (--user nobody)", or "" after giving up capabilities only

std::optional<unsigned long> parse_id(const char* text) {
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text, &end, 10);
  if (errno || *end || v > 0xfffffffeUL) return std::nullopt;
  return v;
}

// Whether this process holds any capability in its permitted set.
bool holds_capabilities() {
  cap_t now = cap_get_proc();
  if (!now) return false;
  bool holds = false;
  for (cap_value_t c = 0; c < cap_max_bits() && !holds; ++c) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(now, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET) holds = true;
  }
  cap_free(now);
  return holds;
}

[[noreturn]] void fail(const std::string& step) {
  throw std::runtime_error(fmt::format("cannot drop privileges: {} failed: {}", step, std::strerror(errno)));
}

void clear_capabilities() {
  cap_t none = cap_init();  // every set empty
  if (!none) fail("cap_init");
  const int rc = cap_set_proc(none);
  cap_free(none);
  if (rc != 0) fail("clearing the capabilities (capset)");
}

}  // namespace

DropPlan plan_drop(const std::string& user, bool no_drop) {
  DropPlan plan;
  if (no_drop) {
    if (!user.empty()) throw std::invalid_argument("--user and --no-drop contradict each other: give one of them");
    return plan;
  }
  const bool root = geteuid() == 0;
  if (!user.empty()) {
    const passwd* pw = getpwnam(user.c_str());
    if (!pw) {
      if (auto id = parse_id(user.c_str())) pw = getpwuid(static_cast<uid_t>(*id));
    }
    if (!pw)
      throw std::invalid_argument(fmt::format("--user {}: no such user (give a name from /etc/passwd or a number, "
                                              "e.g. --user nobody)",
                                              user));
    if (pw->pw_uid == 0) return plan;  // --user root: keep everything
    if (!root)
      throw std::invalid_argument(fmt::format("--user {}: only root can change user; run pkt with sudo, or leave "
                                              "--user out",
                                              user));
    DropTarget t;
    t.uid = pw->pw_uid;
    t.gid = pw->pw_gid;
    t.name = pw->pw_name;
    t.why = "--user " + user;
    plan.target = t;
    return plan;
  }
  if (root) {
    auto uid = parse_id(std::getenv("SUDO_UID"));
    auto gid = parse_id(std::getenv("SUDO_GID"));
    if (uid && gid && *uid != 0) {
      DropTarget t;
      t.uid = static_cast<uid_t>(*uid);
      t.gid = static_cast<gid_t>(*gid);
      if (const passwd* pw = getpwuid(t.uid)) t.name = pw->pw_name;
      t.why = fmt::format("sudo (SUDO_UID={})", *uid);
      plan.target = t;
    }
    return plan;
  }
  plan.capabilities = holds_capabilities();  // a binary with file capabilities (setcap)
  return plan;
}

void drop_privileges(const DropPlan& plan) {
  if (!plan.active()) return;
  if (plan.target) {
    const DropTarget& t = *plan.target;
    // The user's own supplementary groups, or none.
    if (!t.name.empty()) {
      if (initgroups(t.name.c_str(), t.gid) != 0) fail("initgroups");
    } else if (setgroups(0, nullptr) != 0) {
      fail("setgroups");
    }
    // No capability can come back through an exec of a file with capabilities.
    for (cap_value_t c = 0; c < cap_max_bits(); ++c)
      if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0) fail("emptying the capability bounding set");
    if (setresgid(t.gid, t.gid, t.gid) != 0) fail("setresgid");
    if (setresuid(t.uid, t.uid, t.uid) != 0) fail("setresuid");
    // Leaving uid 0 cleared the permitted and effective sets; say so explicitly.
    clear_capabilities();
    // Root must be gone for good.
    if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != t.uid || geteuid() != t.uid || getgid() != t.gid ||
        getegid() != t.gid)
      throw std::runtime_error("cannot drop privileges: root could be regained after setuid");
    g_dropped_to = fmt::format("to {} by {}", t.name.empty() ? fmt::format("uid {}", t.uid) : t.name, t.why);
  } else {
    clear_capabilities();
    g_dropped_to = "by giving up this binary's file capabilities";
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("PR_SET_NO_NEW_PRIVS");
  g_dropped = true;
}

bool privileges_dropped() { return g_dropped; }

std::string file_after_drop_hint(int err) {
  if (!g_dropped || (err != EACCES && err != EPERM)) return "";
  return fmt::format("; files are created after privileges were dropped ({}): write where that user may, or run "
                     "with --no-drop",
                     g_dropped_to);
}

std::string late_socket_error(const std::string& what, const std::string& iface) {
  const std::string up_front =
      iface.empty() ? std::string("name it up front") : fmt::format("name it up front with `-i {}`", iface);
  return fmt::format("cannot open {}: privileges were dropped ({}) once the sockets named up front were open; {}, "
                     "or run with --no-drop to keep them",
                     what, g_dropped_to, up_front);
}

}  // namespace pkt::net
