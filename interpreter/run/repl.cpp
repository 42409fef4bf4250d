#include "repl.hpp"

#include <editline/readline.h>
#include <signal.h>
#include <fmt/format.h>
#include <unistd.h>

#include <lua.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "layer_def.hpp"
#include "parse.hpp"
#include "render.hpp"

namespace pkt {

namespace {

const std::vector<std::string> kKeywords = {"param", "let", "packet", "layer", "option", "bind",
                                            "show", "hexdump", "write", "send", "sr", "sniff", "reply", "lua"};
const std::vector<std::string> kCommands = {":help", ":layers", ":vars", ":load", ":read", ":save", ":quit"};

// :quit ends the session (a type of its own, so no other error can).
struct QuitRequest {};

const char* kHelp =
    "Type DSL statements as in a .pkt file, or Lua:\n"
    "  packet p = ipv4(dst=127.0.0.1) / tcp(dport=80)   define a packet (also param, let, layer, bind)\n"
    "  show p | hexdump p | send p count 3 | write p to \"x.pcap\"\n"
    "  ipv4() / udp()                                    a bare packet expression prints its show\n"
    "  lua p.tcp.dport = 443                             one line of Lua; `lua {` opens a block\n"
    "  = #p                                              print the value of a Lua expression\n"
    "Commands:\n"
    "  :help [LAYER]   this help, or a layer's fields, widths, defaults, rules, flags, enums, bindings\n"
    "  :layers         list the layers\n"
    "  :vars           list what is defined\n"
    "  :load FILE      run a script into the session\n"
    "  :read FILE      read a capture (pcap, pcapng) as the packet set `cap`\n"
    "  :save FILE      write the session's definitions as a .pkt script that replays them\n"
    "  :quit           leave (Ctrl-D too)\n"
    "Tab completes keywords, layers, fields (after `layer(`), flag and enum names (after `field=`),\n"
    "`packet.layer.field`, defined names, and Lua globals after `lua ` and `= `.\n"
    "Ctrl-C cancels the line, or stops a running send, sniff or Lua loop.\n";

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool starts_with_word(const std::string& s, const std::string& w) {
  return s.compare(0, w.size(), w) == 0 && (s.size() == w.size() || !(isalnum(static_cast<unsigned char>(s[w.size()])) || s[w.size()] == '_'));
}

bool is_ident_char(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A definition of the session, in order, for :save.
struct Definition {
  bool is_packet = false;
  std::string name;  // packets: regenerated from their current state
  std::string text;  // others: the statement as typed
};

class Repl {
 public:
  Repl(Session& s, RunOptions opts) : runner_(s, opts), color_(opts.color) {}

  int run();
  Runner& runner() { return runner_; }

 private:
  bool read_line(const char* prompt, std::string& line);
  void handle(const std::string& input);
  void command(const std::string& cmd);
  void run_dsl(const ast::Script& script, bool record);
  void run_lua(const std::string& code, bool expression);
  bool lua_incomplete(const std::string& code);
  void report(const std::exception& e);
  std::string packet_source(const std::string& name);
  void save(const std::string& path);

  Runner runner_;
  bool color_;
  bool interactive_ = false;
  std::vector<Definition> defs_;
  std::string history_path_;
  std::uint64_t sent_before_ = 0;  // runner_.sent() when the current input started
  std::uint64_t reported_before_ = 0;  // runner_.reported() then
  unsigned reports_before_ = 0;        // runner_.reports() then
};

Repl* g_repl = nullptr;
std::string g_pending;  // earlier lines of an unfinished statement

void Repl::report(const std::exception& e) {
  std::fflush(stdout);
  if (auto* se = dynamic_cast<const ScriptError*>(&e)) {
    fmt::print(stderr, "{}\n", format_error(*se, color_));
  } else if (dynamic_cast<const Interrupted*>(&e)) {
    std::uint64_t n = runner_.sent() - sent_before_;
    fmt::print(stderr, "interrupted: sent {} packet{}\n", n, n == 1 ? "" : "s");
  } else {
    fmt::print(stderr, "{}{}{}\n", color_ ? "\033[1;31m" : "", e.what(), color_ ? "\033[0m" : "");
  }
  std::fflush(stderr);
}

bool Repl::read_line(const char* prompt, std::string& line) {
  if (interrupt_signal() == SIGTERM) return false;  // the session ends, as at end of input
  if (!interactive_) {
    clear_interrupt();
    if (!std::getline(std::cin, line)) return false;
    return true;
  }
  for (;;) {
    clear_interrupt();
    char* raw = readline(prompt);
    if (interrupt_signal() == SIGTERM) {
      free(raw);
      return false;
    }
    if (interrupted()) {
      // Ctrl-C at the prompt cancels the current line (and any unfinished statement).
      free(raw);
      clear_interrupt();
      g_pending.clear();
      fmt::print("\n");
      std::fflush(stdout);
      prompt = "pkt> ";
      continue;
    }
    if (!raw) return false;
    line = raw;
    free(raw);
    if (!trim(line).empty()) add_history(line.c_str());
    return true;
  }
}

bool Repl::lua_incomplete(const std::string& code) {
  lua_State* L = runner_.lua().state();
  int rc = luaL_loadbuffer(L, code.data(), code.size(), "=repl");
  bool inc = false;
  if (rc == LUA_ERRSYNTAX) {
    std::size_t n;
    const char* msg = lua_tolstring(L, -1, &n);
    std::string m(msg, n);
    inc = m.size() >= 5 && m.compare(m.size() - 5, 5, "<eof>") == 0;
  }
  lua_pop(L, 1);
  return inc;
}

void Repl::run_lua(const std::string& code, bool expression) {
  LuaEngine& eng = runner_.lua();
  eng.refresh();
  if (!expression) {
    eng.run_string(code, "=repl");
    return;
  }
  lua_State* L = eng.state();
  int top = lua_gettop(L);
  std::string chunk = "return " + code;
  if (luaL_loadbuffer(L, chunk.data(), chunk.size(), "=repl") != LUA_OK) {
    std::string msg = lua_tostring(L, -1);
    lua_settop(L, top);
    throw LuaError(msg);
  }
  lua_pushcfunction(L, [](lua_State* S) -> int {
    const char* m = lua_tostring(S, 1);
    luaL_traceback(S, S, m ? m : "(error object is not a string)", 1);
    return 1;
  });
  lua_insert(L, top + 1);
  int rc = lua_pcall(L, 0, LUA_MULTRET, top + 1);
  if (rc != LUA_OK) {
    std::string msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error";
    lua_settop(L, top);
    if (interrupted()) throw Interrupted();
    throw LuaError(msg);
  }
  int n = lua_gettop(L) - top - 1;
  // Convert the results to text inside a protected call too: __tostring may raise.
  lua_pushcfunction(L, [](lua_State* S) -> int {
    int k = lua_gettop(S);
    luaL_Buffer b;
    luaL_buffinit(S, &b);
    for (int i = 1; i <= k; ++i) {
      if (i > 1) luaL_addchar(&b, '\t');
      luaL_tolstring(S, i, nullptr);
      luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return 1;
  });
  lua_insert(L, top + 2);
  rc = lua_pcall(L, n, 1, top + 1);
  std::size_t len = 0;
  const char* text = lua_tolstring(L, -1, &len);
  std::string out = text ? std::string(text, len) : "";
  lua_settop(L, top);
  if (rc != LUA_OK) throw LuaError(out);
  fmt::print("{}\n", n ? out : "nil");
  std::fflush(stdout);
}

void Repl::run_dsl(const ast::Script& script, bool record) {
  const Source* src = script.source;
  for (std::size_t i = 0; i < script.stmts.size(); ++i) {
    const ast::Stmt& st = script.stmts[i];
    runner_.exec(st);
    if (!record) continue;
    using SK = ast::Stmt::Kind;
    std::size_t b = st.pos.offset;
    std::size_t e = i + 1 < script.stmts.size() ? script.stmts[i + 1].pos.offset : src->text.size();
    if (st.kind == SK::Packet) {
      std::erase_if(defs_, [&](const Definition& d) { return d.is_packet && d.name == st.name; });
      defs_.push_back({true, st.name, trim(src->text.substr(b, e - b))});
    } else if (st.kind == SK::Param || st.kind == SK::Let || st.kind == SK::Layer || st.kind == SK::Bind) {
      std::string t = trim(src->text.substr(b, e - b));
      if (st.kind == SK::Param || st.kind == SK::Let)
        std::erase_if(defs_, [&](const Definition& d) { return !d.is_packet && d.name == st.name; });
      defs_.push_back({false, st.kind == SK::Param || st.kind == SK::Let ? st.name : "", t});
    }
  }
}

std::string Repl::packet_source(const std::string& name) {
  const NameEntry* e = runner_.session().lookup(name);
  if (!e || !e->packet || e->packet->list) return "";  // a capture: its statement is saved
  return render_pkt(*e->packet, &runner_.session().registry());
}

void Repl::save(const std::string& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  out << "# Saved by the pkt REPL: replay with `pkt run " << path << "`\n";
  std::size_t n = 0;
  for (auto& d : defs_) {
    if (d.is_packet) {
      std::string src = packet_source(d.name);
      if (src.empty() && d.text.empty()) continue;
      if (src.empty()) out << d.text << "\n";
      else out << "packet " << d.name << " = " << src << "\n";
    } else {
      out << d.text << "\n";
    }
    ++n;
  }
  fmt::print("saved {} definition{} to {}\n", n, n == 1 ? "" : "s", path);
}

void Repl::command(const std::string& input) {
  std::istringstream ss(input);
  std::string cmd, arg;
  ss >> cmd;
  std::getline(ss, arg);
  arg = trim(arg);
  const Registry& reg = runner_.session().registry();
  if (cmd == ":help" || cmd == ":h") {
    if (arg.empty()) {
      fmt::print("{}", kHelp);
    } else if (auto d = reg.layer(arg)) {
      fmt::print("{}", describe_layer(reg, *d));
    } else {
      std::string hint = nearest_name(arg, reg.layer_names());
      throw std::runtime_error(fmt::format("unknown layer '{}'{}", arg, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
    }
  } else if (cmd == ":layers") {
    for (auto& n : reg.layer_names()) fmt::print("{:<10} {}\n", n, reg.layer(n)->doc);
  } else if (cmd == ":vars") {
    const Session& s = runner_.session();
    if (s.order().empty()) fmt::print("(nothing defined yet)\n");
    for (auto& n : s.order()) {
      const NameEntry* e = s.lookup(n);
      if (e->kind == NameEntry::Kind::Packet) {
        std::vector<std::string> names;
        for (auto& l : e->packet->tmpl.layers()) names.push_back(l.def->name);
        std::uint64_t c = e->packet->count();
        fmt::print("packet {:<10} {} ({} bytes{})\n", n, fmt::join(names, " / "), e->packet->tmpl.size(),
                   c == 1 ? "" : fmt::format(", {} packets", c));
      } else {
        std::string text;
        for (auto& d : defs_)
          if (!d.is_packet && d.name == n) text = d.text;
        fmt::print("{}\n", text.empty() ? (e->kind == NameEntry::Kind::Param ? "param " : "let ") + n : text);
      }
    }
  } else if (cmd == ":load") {
    if (arg.empty()) throw std::runtime_error(":load needs a FILE");
    std::ifstream in(arg, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("cannot open '{}': {}", arg, std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    run_dsl(parse_script(Source::make(arg, text.str())), true);  // a file: statements only
  } else if (cmd == ":read") {
    if (arg.empty()) throw std::runtime_error(":read needs a capture FILE (pcap or pcapng)");
    std::string quoted;
    for (char c : arg) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    run_dsl(parse_script(Source::make("<:read>", fmt::format("packet cap = read(\"{}\")", quoted))), true);
    const NameEntry* e = runner_.session().lookup("cap");
    fmt::print("cap: {} packet{} from {} (show cap, cap.{}.<Tab>, lua for p in cap:each() do ... end)\n",
               e->packet->count(), e->packet->count() == 1 ? "" : "s", arg,
               e->packet->tmpl.layers().empty() ? "ipv4" : e->packet->tmpl.layers().back().def->name);
  } else if (cmd == ":save") {
    if (arg.empty()) throw std::runtime_error(":save needs a FILE");
    save(arg);
  } else if (cmd == ":quit" || cmd == ":q" || cmd == ":exit") {
    throw QuitRequest{};
  } else {
    std::string hint = nearest_name(cmd, kCommands);
    throw std::runtime_error(fmt::format("unknown command '{}'{}; :help lists them", cmd,
                                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }
}

int Repl::run() {
  interactive_ = isatty(0);
  install_interrupt_handler();
  if (interactive_) {
    if (const char* home = std::getenv("HOME")) {
      history_path_ = std::string(home) + "/.pkt_history";
      read_history(history_path_.c_str());
    }
    fmt::print("pkt {} - :help for help, Tab to complete, Ctrl-D to leave\n", PKT_REPL_VERSION);
  }
  std::string line;
  while (read_line(g_pending.empty() ? "pkt> " : "...> ", line)) {
    g_pending += line;
    g_pending += "\n";
    std::string input = trim(g_pending);
    if (input.empty()) {
      g_pending.clear();
      continue;
    }
    sent_before_ = runner_.sent();
    reported_before_ = runner_.reported();
    reports_before_ = runner_.reports();
    try {
      // The flag is cleared before reading a line, not here: a Ctrl-C typed
      // just after Enter must still stop what that line starts.
      if (input[0] == ':') {
        g_pending.clear();
        command(input);
      } else if (input[0] == '=') {
        std::string code = input.substr(1);
        if (lua_incomplete("return " + code)) continue;
        g_pending.clear();
        run_lua(code, true);
      } else if (starts_with_word(input, "lua") && trim(input.substr(3)).rfind('{', 0) != 0) {
        std::string code = input.substr(3);
        if (lua_incomplete(code)) continue;
        g_pending.clear();
        run_lua(code, false);
      } else {
        const Source* src = Source::make("<repl>", g_pending);
        ast::Script script;
        try {
          script = parse_repl_input(src);
        } catch (const ScriptError& e) {
          if (e.at_eof()) continue;  // an unfinished statement: read more
          throw;
        }
        g_pending.clear();
        run_dsl(script, true);
      }
      if (interrupted()) throw Interrupted();
      if (runner_.total_adds(sent_before_, reported_before_, reports_before_)) {
        std::uint64_t n = runner_.sent() - sent_before_;
        fmt::print(stderr, "sent {} packet{}\n", n, n == 1 ? "" : "s");
      }
    } catch (const QuitRequest&) {
      break;
    } catch (const std::exception& e) {
      g_pending.clear();
      report(e);
    }
    std::fflush(stdout);
  }
  if (!g_pending.empty() && !trim(g_pending).empty()) {
    // Input ended inside a statement: say so rather than drop it silently.
    try {
      parse_repl_input(Source::make("<repl>", g_pending));
    } catch (const ScriptError& e) {
      report(e);
      if (!interactive_) return 1;
    }
  }
  if (interactive_) {
    fmt::print("\n");
    if (!history_path_.empty()) write_history(history_path_.c_str());
  }
  return 0;
}

// ---------------------------------------------------------------- completion

std::vector<std::string> names_of(const Session& s, bool packets_only = false) {
  std::vector<std::string> out;
  for (auto& n : s.order())
    if (!packets_only || s.lookup(n)->kind == NameEntry::Kind::Packet) out.push_back(n);
  return out;
}

std::vector<std::string> lua_globals(Runner& r) {
  std::vector<std::string> out;
  lua_State* L = r.lua().state();
  r.lua().refresh();
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING) out.push_back(lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return out;
}

char* completion_generator(const char* text, int state);
std::vector<std::string> g_matches;
std::size_t g_match_index = 0;

char** completion(const char* text, int start, int end) {
  rl_attempted_completion_over = 1;
  std::string before = g_pending + std::string(rl_line_buffer, static_cast<std::size_t>(start));
  std::vector<std::string> cands = repl_complete(g_repl->runner(), before, text);
  g_matches.clear();
  for (auto& c : cands)
    if (c.compare(0, std::strlen(text), text) == 0) g_matches.push_back(c);
  std::sort(g_matches.begin(), g_matches.end());
  g_matches.erase(std::unique(g_matches.begin(), g_matches.end()), g_matches.end());
  g_match_index = 0;
  rl_completion_append_character = '\0';
  if (g_matches.empty()) return nullptr;
  return rl_completion_matches(text, completion_generator);
}

char* completion_generator(const char*, int state) {
  if (state == 0) g_match_index = 0;
  if (g_match_index >= g_matches.size()) return nullptr;
  return strdup(g_matches[g_match_index++].c_str());
}

}  // namespace

std::vector<std::string> repl_complete(Runner& runner, const std::string& before_all, const std::string& word) {
  Session& s = runner.session();
  const Registry& reg = s.registry();
  std::vector<std::string> out;
  std::string stmt = trim(before_all);
  if (stmt.empty() && !word.empty() && word[0] == ':') return kCommands;
  if (stmt == ":help" || stmt == ":h") return reg.layer_names();
  // `packet.layer.field` and `layer.field` (bind).
  std::size_t dot = word.find('.');
  if (dot != std::string::npos) {
    std::string base = word.substr(0, dot);
    std::string rest = word.substr(dot + 1);
    std::size_t dot2 = rest.find('.');
    const NameEntry* e = s.lookup(base);
    if (e && e->packet) {
      // A capture's packets differ: offer the layers any of them has.
      std::vector<const Packet*> packets{&e->packet->tmpl};
      if (e->packet->list)
        for (auto& q : *e->packet->list) packets.push_back(&q);
      std::vector<std::string> seen;
      for (const Packet* q : packets) {
        if (dot2 == std::string::npos) {
          for (auto& l : q->layers())
            if (std::find(seen.begin(), seen.end(), l.def->name) == seen.end()) {
              seen.push_back(l.def->name);
              out.push_back(base + "." + l.def->name);
            }
        } else {
          std::string layer = rest.substr(0, dot2);
          int li = q->layer_index(layer);
          if (li >= 0) {
            for (auto& f : q->layers()[li].def->fields) out.push_back(base + "." + layer + "." + f.name);
            break;
          }
        }
      }
    } else if (auto d = reg.layer(base)) {
      for (auto& f : d->fields) out.push_back(base + "." + f.name);
    }
    return out;
  }
  // Lua after `lua ` and `= `.
  if (!stmt.empty() && (stmt[0] == '=' || (starts_with_word(stmt, "lua") && stmt.find('{') == std::string::npos)))
    return lua_globals(runner);
  // Inside `layer(`: field names, or after `field=` that field's names.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = before_all.size(); i-- > 0;) {
    char c = before_all[i];
    if (c == '"') in_string = !in_string;
    if (in_string) continue;
    if (c == ')' || c == ']') ++depth;
    else if (c == '[' && depth > 0) --depth;
    else if (c == '(' && depth > 0) --depth;
    else if (c == '(' && depth == 0) {
      std::size_t e = i;
      while (e > 0 && before_all[e - 1] == ' ') --e;
      std::size_t b = e;
      while (b > 0 && is_ident_char(before_all[b - 1])) --b;
      std::string callee = before_all.substr(b, e - b);
      auto def = reg.layer(callee);
      if (!def) break;
      // The argument being typed starts after the last ',' or '(' at this depth.
      std::string arg;
      int d2 = 0;
      for (std::size_t k = i + 1; k < before_all.size(); ++k) {
        char ch = before_all[k];
        if (ch == '(' || ch == '[') ++d2;
        else if (ch == ')' || ch == ']') --d2;
        else if (ch == ',' && d2 == 0) { arg.clear(); continue; }
        arg += ch;
      }
      std::size_t eq = arg.find('=');
      if (eq == std::string::npos) {
        for (auto& f : def->fields) out.push_back(f.name + "=");
        return out;
      }
      std::string field = trim(arg.substr(0, eq));
      int fi = def->field_index(field);
      if (fi >= 0) {
        const FieldDef& f = def->fields[fi];
        for (auto& [n, v] : f.flags) out.push_back(n);
        for (auto& [n, v] : f.enums) out.push_back(n);
        for (auto& o : reg.option_names(def->name, f.name)) out.push_back(o);
      }
      for (auto& n : names_of(s)) out.push_back(n);
      return out;
    }
  }
  // Statement start: keywords too.
  if (stmt.empty())
    for (auto& k : kKeywords) out.push_back(k);
  for (auto& n : names_of(s)) out.push_back(n);
  for (auto& n : reg.layer_names()) out.push_back(n);
  return out;
}

int run_repl(Session& session, RunOptions opts) {
  session.allow_redefine = true;
  Repl repl(session, opts);
  g_repl = &repl;
  if (isatty(0)) {
    rl_readline_name = "pkt";
    rl_attempted_completion_function = completion;
    static char breaks[] = " \t\n\"'(),=[]|/{};";
    rl_basic_word_break_characters = breaks;
    rl_completer_word_break_characters = breaks;
  }
  int rc = repl.run();
  g_repl = nullptr;
  return rc;
}

}  // namespace pkt
