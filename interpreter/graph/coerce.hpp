// Turning a value expression into a field's concrete value: range checks,
// enum and flag names, address and byte literals, file(), repeats, options.
#pragma once

#include <functional>
#include <string>

#include "layer_def.hpp"

namespace pkt {

// Looks up a param or let by name; returns null when there is none.
using NameResolver = std::function<ast::ExprPtr(const std::string&)>;

struct CoerceEnv {
  const Registry* reg = nullptr;
  const NameResolver* resolve = nullptr;
  std::string base_dir = ".";
  std::string confine;  // --sandbox: the real script directory that file() must stay in; empty = anywhere
};

// An enum or flag constant in a declaration: an integer that fits the field.
std::uint64_t coerce_constant(const FieldDef& f, const ast::Expr& e, const std::string& what);

// One concrete value (no generators) for field `f` of `layer`.
// Throws ScriptError at the offending expression, naming the field and range.
FieldValue coerce_field(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env);

// A value given as text (Lua strings, -D): flag names "SYN|ACK", enum names,
// addresses; numbers as decimal or 0x.. Throws ScriptError at `pos`.
FieldValue coerce_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos);
// A number (Lua integers): range-checked.
FieldValue coerce_number(const LayerDef& layer, const FieldDef& f, std::uint64_t v, bool negative, Pos pos);

// Building blocks of the field types (field_type.cpp): a number (range
// checked, enum and flag names), a number from text ("SYN|ACK", "0x10"),
// bytes (strings, hex, base64, file(), repeats), an address from its text.
std::uint64_t number_value(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env);
std::uint64_t number_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos);
std::string bytes_value(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env);
std::string address_from_text(const FieldDef& f, const std::string& text, Pos pos);
// "ipv4.src is ipv4addr; expected an IPv4 address such as 127.0.0.1"
[[noreturn]] void wrong_value_kind(const LayerDef& layer, const FieldDef& f, Pos pos);

// `f(count 3)`: option words before values are for sniff(...) alone; any
// other call that gets one is an error naming the word and the call.
void reject_word_args(const ast::Expr& call);

// Builds option bytes, e.g. mss(1460), for an options field.
std::string build_option(const Registry& reg, const LayerDef& layer, const FieldDef& f, const ast::Expr& e,
                         const CoerceEnv& env);

}  // namespace pkt
