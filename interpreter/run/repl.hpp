// The interactive session: DSL statements and Lua at one prompt, line
// editing and history (libedit), completion from the language's own
// tables, multi-line input detected by a parse error at end of input.
#pragma once

#include <string>
#include <vector>

#include "runner.hpp"

namespace pkt {

// Runs the REPL until :quit or end of input. Interactive (libedit, prompts,
// history in ~/.pkt_history) when stdin is a terminal; plain line reading
// otherwise. Returns the exit code.
int run_repl(Session& session, RunOptions opts);

// Completion candidates for `word`, the text being completed, given the
// input before it (earlier lines of a multi-line statement included).
// Each candidate replaces `word` whole. Exposed for tests.
std::vector<std::string> repl_complete(Runner& runner, const std::string& before, const std::string& word);

}  // namespace pkt
