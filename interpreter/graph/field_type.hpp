// Field types as units. Each type (uN, iN, ipv4addr, ipv6addr, mac, bytes,
// name, uN[], ipv4addr[], ipv6addr[], mac[], text[])
// knows, in one place, how it is declared, how its values are written in a
// script and read from one, printed (DSL text, JSON), described in errors and
// help, and how they cross into Lua. Adding a type (a DNS name, say) is a new
// class here and a line in the table of field_type.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ast.hpp"

namespace pkt {

struct FieldDef;
struct FieldValue;
struct LayerDef;
struct CoerceEnv;

// How values cross into Lua: the Lua bindings know these forms, not the types.
enum class LuaForm : std::uint8_t {
  Integer,      // a Lua integer (num)
  Text,         // a string: the type's text form both ways (addresses)
  Bytes,        // a string of bytes
  IntegerList,  // a table of integers
  TextList,     // a table of strings: each element's text form both ways (ipv4addr[], text[])
};

class FieldType {
 public:
  virtual ~FieldType() = default;
  // "u8, 0..255", "ipv4addr": for help and range errors.
  virtual std::string describe(const FieldDef& f) const;
  // "an IPv4 address such as 127.0.0.1": what a value must look like.
  virtual std::string expected(const FieldDef& f) const = 0;
  // As written in a script; `pkt build` of the text gives the same value.
  virtual std::string format(const FieldDef& f, const FieldValue& v) const = 0;
  virtual std::string json(const FieldDef& f, const FieldValue& v) const = 0;
  // A value written in a script (names followed through env). Throws ScriptError.
  virtual FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const = 0;
  // A value given as text (Lua strings, -D). Throws ScriptError at pos.
  virtual FieldValue from_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) const = 0;
  virtual LuaForm lua_form() const = 0;
  // TextList types: the elements' text forms, and a value from them.
  virtual std::vector<std::string> texts(const FieldDef& /*f*/, const FieldValue& /*v*/) const { return {}; }
  virtual FieldValue from_texts(const LayerDef& layer, const FieldDef& f, const std::vector<std::string>& texts,
                                Pos pos) const;
  // A type whose bytes say where they end (a name: labels up to a zero
  // label or a pointer) is read without a size rule.
  virtual bool self_sized() const { return false; }
  // Reading: the bytes the value at p takes (at most `left`), or 0 with `why`.
  virtual std::size_t read_size(const std::uint8_t* /*p*/, std::size_t left, std::string& /*why*/) const { return left; }
};

// Reads a type as written (u1..u64, uNle, uN[], ipv4addr, ipv6addr, mac,
// bytes) into f: its type, kind, width. Throws ScriptError at pos.
void declare_field_type(FieldDef& f, const std::string& type_name, Pos pos);
// The type of a field declared without one (a FieldDef made in code): by kind.
const FieldType& default_field_type(const FieldDef& f);

}  // namespace pkt
