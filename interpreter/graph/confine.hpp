// --sandbox's rule for paths a script names (file("..."), read("..."),
// `write ... to`, Lua's pcap.read, loadfile, dofile, require): the real path,
// symlinks resolved, must lie inside one directory (the script's).
#pragma once

#include <string>

namespace pkt {

// The real path of `dir` (symlinks resolved), for confine_path's `root`.
// Throws std::runtime_error naming the directory when it cannot be resolved.
std::string confine_root(const std::string& dir);

// Empty when `path` (as the program will open it) lies inside `root` (a
// confine_root); otherwise why not: "it is outside the script's directory
// ROOT" or "it leads to REAL, outside the script's directory ROOT". A path
// that does not exist yet is judged by its real parent directory.
std::string confine_path(const std::string& root, const std::string& path);

}  // namespace pkt
