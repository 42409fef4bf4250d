// The one translation unit that runs the PEGTL parser (see parse.hpp).
#include "parse.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <tao/pegtl.hpp>

#include "actions.hpp"
#include "errors.hpp"
#include "rules.hpp"

namespace pkt {
namespace {

namespace pegtl = tao::pegtl;

// True if only whitespace and # comments follow position `i`: the input ended
// early, and a REPL may ask for a continuation line.
bool only_blank_after(const std::string& t, std::size_t i) {
  while (i < t.size()) {
    const char c = t[i];
    if (c == '#') {
      while (i < t.size() && t[i] != '\n') ++i;
    } else if (grammar::is_space(c)) {
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

// The innermost '(' still open at `offset` (strings and # comments skipped),
// or npos.
std::size_t open_paren_before(const std::string& t, std::size_t offset) {
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < offset && i < t.size(); ++i) {
    const char c = t[i];
    if (c == '#') {
      while (i < offset && t[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      for (++i; i < offset && t[i] != c && t[i] != '\n'; ++i)
        if (t[i] == '\\') ++i;
    } else if (c == '(') {
      open.push_back(i);
    } else if (c == ')' && !open.empty()) {
      open.pop_back();
    }
  }
  return open.empty() ? std::string::npos : open.back();
}

[[noreturn]] void throw_error(const Source* src, std::size_t offset, std::string message) {
  const std::string& t = src->text;
  if (offset > t.size()) offset = t.size();
  const bool at_eof = only_blank_after(t, offset);
  // An error at the very end points just after the last token, not at the
  // end of trailing blank lines.
  if (offset == t.size()) {
    while (offset > 0 && grammar::is_space(t[offset - 1])) --offset;
  }
  // A ')' missing at the end of a line is found only on a later line: point
  // at the '(' left open, which is where the fix goes.
  if (message.rfind("expected ')'", 0) == 0) {
    const std::size_t paren = open_paren_before(t, offset);
    if (paren != std::string::npos && t.find('\n', paren) < offset) {
      const Pos at = grammar::pos_at(src, offset);
      const std::size_t begin = t.rfind('\n', offset - 1) + 1;  // the line the parser went on to
      const std::size_t end = std::min(t.find('\n', offset), t.size());
      std::string found = t.substr(begin, end - begin);
      while (!found.empty() && grammar::is_space(found.back())) found.pop_back();
      // One erase, not one per leading blank: a line of a million spaces stays linear.
      std::size_t lead = 0;
      while (lead < found.size() && grammar::is_space(found[lead])) ++lead;
      found.erase(0, lead);
      message = "this '(' is never closed: " + message + " before line " + std::to_string(at.line) +
                (found.empty() ? std::string() : " ('" + found + "')");
      offset = paren;
    }
  }
  throw ScriptError(grammar::pos_at(src, offset), std::move(message), at_eof);
}

template <typename Rule>
void run(const Source* src, grammar::TopState& state) {
  grammar::Input in(src);
  grammar::nesting_depth = 0;
  try {
    pegtl::parse<Rule, grammar::action, grammar::control>(in, state);
  } catch (const pegtl::parse_error& e) {
    const std::size_t offset = e.positions().empty() ? 0 : e.positions().front().byte;
    throw_error(src, offset, std::string(e.message()));
  } catch (const ScriptError& e) {
    throw_error(src, e.pos().offset, e.what());
  }
}

template <typename Rule>
ast::Script statements(const Source* src) {
  grammar::TopState state;
  run<Rule>(src, state);
  ast::Script script;
  script.source = src;
  script.stmts = std::move(state.stmts);
  return script;
}

}  // namespace

ast::Script parse_script(const Source* src) { return statements<grammar::script>(src); }

ast::Script parse_repl_input(const Source* src) { return statements<grammar::repl_input>(src); }

ast::ExprPtr parse_expression(const Source* src) {
  grammar::TopState state;
  run<grammar::expression>(src, state);
  return state.items.at(0);
}

}  // namespace pkt
