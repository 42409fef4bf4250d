// Source text, positions and the one error type every stage throws.
// Errors found after parsing (unknown field, value out of range) carry the
// same position as parse errors, so all of them print alike.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pkt {

// A script, a -e expression, a REPL line or a -D value. Sources are kept
// alive for the life of the process (see Source::make) so a Pos never dangles.
struct Source {
  std::string name;  // file path, "<expr>", "<repl>", "-D dst"
  std::string text;
  static const Source* make(std::string name, std::string text);
};

struct Pos {
  const Source* src = nullptr;
  std::uint32_t offset = 0;  // byte offset into src->text
  std::uint32_t line = 0;    // 1-based; 0 = unknown
  std::uint32_t col = 0;     // 1-based byte column
};

// Thrown by every stage for bad input. `at_eof` tells the REPL that the
// input ended early (an incomplete statement), as lua.c checks for <eof>.
class ScriptError : public std::runtime_error {
 public:
  ScriptError(Pos pos, std::string message, bool at_eof = false)
      : std::runtime_error(message), pos_(pos), at_eof_(at_eof) {}
  const Pos& pos() const { return pos_; }
  bool at_eof() const { return at_eof_; }

 private:
  Pos pos_;
  bool at_eof_;
};

// "file:line:col: error: message", the source line, and a caret under col.
// `color` adds ANSI colour (only when the caller knows it writes to a tty).
std::string format_error(const ScriptError& e, bool color = false);

// Levenshtein-nearest candidate for "did you mean" hints; empty if none is close.
std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pkt
