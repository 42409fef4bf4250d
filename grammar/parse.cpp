// The one translation unit that runs the PEGTL parser (see parse.hpp).
#include "parse.hpp"

#include <string>
#include <utility>

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

[[noreturn]] void throw_error(const Source* src, std::size_t offset, std::string message) {
  const std::string& t = src->text;
  if (offset > t.size()) offset = t.size();
  const bool at_eof = only_blank_after(t, offset);
  // An error at the very end points just after the last token, not at the
  // end of trailing blank lines.
  if (offset == t.size()) {
    while (offset > 0 && grammar::is_space(t[offset - 1])) --offset;
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
