// Dropping privileges once the sockets are open, as tcpdump -Z and trafgen
// do: under sudo (SUDO_UID, SUDO_GID) or with --user NAME, root becomes that
// user; a binary that holds file capabilities gives them up. Sockets opened
// before (net/socket_raw.hpp's preopen_*, capture.hpp's preopen_capture)
// are what the rest of the run uses; a socket asked for later is an error
// that says how to name it up front (docs/security.md, "Privileges").
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace pkt::net {

// Who the process becomes.
struct DropTarget {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;  // the user's name ("" when the uid has no passwd entry)
  std::string why;   // "--user nobody", "sudo (SUDO_UID=1000)"
};

// What a drop will do, decided before any socket opens.
struct DropPlan {
  std::optional<DropTarget> target;  // root -> this user
  bool capabilities = false;         // not root, but holding capabilities: give them all up
  bool active() const { return target.has_value() || capabilities; }
};

// The plan for this process: `user` is --user NAME (a name or a number; ""
// none; "root" or 0 keeps root), `no_drop` is --no-drop. Under sudo, without
// --user, the target is SUDO_UID/SUDO_GID. Throws std::invalid_argument with
// a message for the command line (an unknown user, --user when not root).
DropPlan plan_drop(const std::string& user, bool no_drop);

// Carries the plan out: supplementary groups, gid, uid (all three ids),
// an empty capability bounding set (root only), no capabilities, and
// PR_SET_NO_NEW_PRIVS. Checks the result (root cannot be regained) and
// throws std::runtime_error if any step failed. A plan that is not active
// does nothing.
void drop_privileges(const DropPlan& plan);

// Whether drop_privileges dropped anything in this process.
bool privileges_dropped();

// The error for a socket that was not opened before the drop: names what
// (e.g. "a raw IPv4 socket on eth1"), the interface to name up front with
// -i (when there is one), and --no-drop.
std::string late_socket_error(const std::string& what, const std::string& iface);

// For a file that could not be created with `err` (an errno): after a drop,
// when err is EACCES or EPERM, "; pkt runs as nobody ...: write where that
// user may, or run with --no-drop"; else "".
std::string file_after_drop_hint(int err);

}  // namespace pkt::net
