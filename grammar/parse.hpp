// The grammar's only entry points. parse.cpp is the one translation unit
// that instantiates pegtl::parse.
#pragma once

#include "ast.hpp"

namespace pkt {

// A whole script: statements only. Throws ScriptError (at_eof() set when input ended early).
ast::Script parse_script(const Source* src);

// What a REPL line holds: statements as in a script, or a bare expression.
ast::Script parse_repl_input(const Source* src);

// One value expression, e.g. for `pkt build -e`, `-D name=value`, packet("...") from Lua.
ast::ExprPtr parse_expression(const Source* src);

}  // namespace pkt
