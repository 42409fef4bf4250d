// `pkt read`: packets from a capture (pcap or pcapng, through libpcap) or
// from hex, dissected by the declarations, printed in one of the formats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "session.hpp"

namespace pkt {

struct ReadArgs {
  std::string file;                  // capture; "-" is standard input
  std::string hex;                   // or one packet as hex
  std::string first;                 // --first LAYER (default: from the link type)
  std::string format = "summary";    // summary show hexdump hex pkt json pcap none
  std::uint64_t count = 0;           // -c N: stop after N packets (0: all)
  std::string filter;                // --filter BPF
  std::string output;                // -o FILE
  std::vector<std::string> scripts;  // --script FILE: declarations to load first
};

// Loads the layer, option and bind declarations of a script into a session.
void load_declarations(Session& session, const std::string& path);

// Runs `pkt read`; returns the exit code. Throws on bad input (ScriptError,
// PcapError, std::runtime_error) for main to print.
int run_read(const ReadArgs& args);

}  // namespace pkt
