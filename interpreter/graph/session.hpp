// Names and declarations: params (overridable with -D), lets, packets,
// layers and bindings, and the evaluation of value expressions against
// them. This is where the AST becomes packet graphs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layer_def.hpp"
#include "packet_set.hpp"

namespace pkt {

struct NameEntry {
  enum class Kind { Param, Let, Packet } kind = Kind::Let;
  ast::ExprPtr expr;                   // Param/Let: the value expression
  std::shared_ptr<PacketSet> packet;   // Packet: compiled once
  Pos pos;
};

// Names from outside the DSL (the Lua globals of a run), consulted after the
// session's own names and the layers. Either may return null.
struct ExternalNames {
  std::function<ast::ExprPtr(const std::string&)> value;                 // a number or text
  std::function<std::shared_ptr<PacketSet>(const std::string&)> packet;  // a packet object
  // sniff(...): packets captured live, which the graph cannot do itself.
  std::function<PacketSet(const ast::Expr& call)> sniff;
};

class Session {
 public:
  explicit Session(Registry reg);

  Registry& registry() { return reg_; }
  const Registry& registry() const { return reg_; }

  // `-D name=value`: replaces the default of `param name`. The text is read
  // as a value expression unless the param's default is a string.
  void set_override(const std::string& name, const std::string& text);
  // Names given with -D that no param declared (an error for the caller).
  std::vector<std::string> unused_overrides() const;

  // Handles param/let/packet/layer/option/bind; false for other statements.
  bool declare(const ast::Stmt& stmt);

  // Evaluates a value expression that must denote packets.
  std::shared_ptr<PacketSet> packets(const ast::Expr& e);
  // Evaluates a field value for a layer (range-checked), for Lua and the REPL.
  FieldValue field_value(const LayerDef& layer, const FieldDef& f, const ast::Expr& e);
  // The value expression bound to a param or let (with overrides applied).
  const NameEntry* lookup(const std::string& name) const;
  const std::map<std::string, NameEntry>& names() const { return names_; }
  const std::vector<std::string>& order() const { return order_; }  // declaration order
  // Directory against which file("...") paths are resolved.
  void set_base_dir(std::string dir) { base_dir_ = std::move(dir); }
  // --sandbox: paths the script names (file(), read()) must resolve inside
  // `root` (a confine_root); empty = anywhere.
  void set_confine(std::string root) {
    reg_.confine = root;
    confine_ = std::move(root);
  }
  const std::string& confine() const { return confine_; }

  ExternalNames external;

  struct Impl;
  bool allow_redefine = false;  // the REPL lets a name be defined again

 private:
  Registry reg_;
  std::map<std::string, NameEntry> names_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> overrides_;
  std::map<std::string, bool> override_used_;
  std::string base_dir_ = ".";
  std::string confine_;
};

}  // namespace pkt
