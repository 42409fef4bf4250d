// `pkt completion bash|zsh`: shell completion scripts written from the
// command line definition itself (the CLI11 App), so they cannot drift from
// the commands and options. What an option's value completes to comes from
// the type name that --help shows beside it:
//   SCRIPT (*.pkt), SCRIPT|LUA (*.pkt, *.lua), CAPTURE (*.pcap, *.pcapng),
//   FILE (any file), IFACE (network interfaces), LAYER (layer names),
//   PACKET (the packets declared by the script given as first argument),
//   a CLI::IsMember check (its choices), TEXT (no type given: any file);
//   any other type name (EXPR, N, CIDR...) completes to nothing.
// Layer names are asked of `pkt layers` when completing (so PKT_STDLIB is
// honoured); the stdlib's, embedded here, are the fallback.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace pkt {

std::string completion_script(const CLI::App& app, const std::string& shell, const std::vector<std::string>& layers,
                              const std::string& version);

}  // namespace pkt
