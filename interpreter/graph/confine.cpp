#include "confine.hpp"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <stdexcept>

#include <fmt/format.h>

namespace pkt {

namespace {

// realpath(3) as a string; empty (errno set) when it fails.
std::string real(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return {};
  return buf;
}

bool inside(const std::string& root, const std::string& p) {
  if (root == "/") return true;
  return p == root || (p.size() > root.size() && p.compare(0, root.size(), root) == 0 && p[root.size()] == '/');
}

}  // namespace

std::string confine_root(const std::string& dir) {
  std::string r = real(dir.empty() ? "." : dir);
  if (r.empty()) throw std::runtime_error("cannot resolve the script's directory '" + dir + "': " + std::strerror(errno));
  return r;
}

std::string confine_path(const std::string& root, const std::string& path) {
  const std::string outside = "outside the script's directory " + root;
  if (path.empty()) return "an empty path is " + outside;
  std::string r = real(path);
  if (r.empty()) {
    if (errno != ENOENT) return fmt::format("it cannot be resolved ({}), so it may be {}", std::strerror(errno), outside);
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) return "it is a symbolic link to a missing file, which may be " + outside;
    // Not there yet (a file to write, or a missing one): its directory decides.
    auto slash = path.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string d = real(dir);
    if (d.empty()) return fmt::format("its directory cannot be resolved ({}), so it may be {}", std::strerror(errno), outside);
    if (base.empty() || base == "." || base == "..") return "it is " + outside;
    r = d == "/" ? "/" + base : d + "/" + base;
  }
  if (inside(root, r)) return {};
  return r == path ? "it is " + outside : fmt::format("it leads to {}, {}", r, outside);
}

}  // namespace pkt
