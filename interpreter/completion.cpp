// Shell completion scripts from the CLI11 App: a model of the commands is
// read from the App once, and each shell's script is written from the model.
#include "completion.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace pkt {
namespace {

// What a value (of an option or a positional) completes to.
struct Value {
  enum class Kind { None, Files, Iface, Layer, Packets, Choices } kind = Kind::None;
  std::vector<std::string> words;  // Files: extensions (none: any file); Choices: the choices
  std::string type;                // the type name --help shows (FILE, SCRIPT...)
};

struct Opt {
  std::vector<std::string> names;  // -o, --output
  std::string desc;
  bool takes_value = false, repeats = false;
  Value value;
};

struct Pos {
  std::string name;
  bool repeats = false;
  Value value;
};

struct Cmd {
  std::vector<std::string> path;  // {} for pkt itself, {"build"}...
  std::string desc;
  std::vector<Opt> opts;
  std::vector<Pos> pos;
  std::vector<Cmd> subs;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// "FILE:{a,b}" (type name, then the validators' descriptions) -> what it completes to.
Value value_of(const CLI::Option& o) {
  auto parts = split(o.get_type_name(), ':');
  Value v;
  v.type = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto& d = parts[i];
    if (d.size() >= 2 && d.front() == '{' && d.back() == '}') {
      v.kind = Value::Kind::Choices;
      v.words = split(d.substr(1, d.size() - 2), ',');
      return v;
    }
  }
  if (v.type == "SCRIPT") v = {Value::Kind::Files, {"pkt"}, v.type};
  else if (v.type == "SCRIPT|LUA") v = {Value::Kind::Files, {"pkt", "lua"}, v.type};
  else if (v.type == "CAPTURE") v = {Value::Kind::Files, {"pcap", "pcapng"}, v.type};
  else if (v.type == "FILE" || v.type == "TEXT") v.kind = Value::Kind::Files;
  else if (v.type == "IFACE") v.kind = Value::Kind::Iface;
  else if (v.type == "LAYER") v.kind = Value::Kind::Layer;
  else if (v.type == "PACKET") v.kind = Value::Kind::Packets;
  return v;
}

Cmd model(const CLI::App& app, std::vector<std::string> path) {
  Cmd c;
  c.path = path;
  c.desc = app.get_description();
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    if (o->nonpositional()) {
      Opt opt;
      for (auto& s : o->get_snames()) opt.names.push_back("-" + s);
      for (auto& l : o->get_lnames()) opt.names.push_back("--" + l);
      opt.desc = o->get_description();
      opt.takes_value = o->get_items_expected_max() > 0;
      opt.repeats = o->get_expected_max() > 1;
      if (opt.takes_value) opt.value = value_of(*o);
      c.opts.push_back(std::move(opt));
    } else if (o->get_positional()) {
      c.pos.push_back({o->get_name(), o->get_items_expected_max() > 1, value_of(*o)});
    }
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
    auto p = path;
    p.push_back(sub->get_name());
    c.subs.push_back(model(*sub, p));
  }
  return c;
}

std::string join(const std::vector<std::string>& v, const char* sep) { return fmt::format("{}", fmt::join(v, sep)); }

// 'text' for bash and zsh.
std::string sq(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

void each(const Cmd& c, const std::function<void(const Cmd&)>& f) {
  f(c);
  for (auto& s : c.subs) each(s, f);
}

// ------------------------------------------------------------------ bash

// The bash statement that completes a value into COMPREPLY (appending).
std::string bash_action(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Files: return v.words.empty() ? "_pkt_files" : "_pkt_files " + join(v.words, " ");
    case Value::Kind::Iface: return "_pkt_ifaces";
    case Value::Kind::Layer: return "_pkt_layers";
    case Value::Kind::Packets: return "_pkt_packets";
    case Value::Kind::Choices: return "COMPREPLY+=($(compgen -W " + sq(join(v.words, " ")) + " -- \"$cur\"))";
    case Value::Kind::None: break;
  }
  return ":";
}

const char* kBashHelpers = R"SH(# Files with one of the extensions "$@" (any file when none), and directories.
_pkt_files() {
    compopt -o filenames 2>/dev/null
    local IFS=$'\n' f ext
    if (($# == 0)); then
        COMPREPLY+=($(compgen -f -- "$cur"))
        return
    fi
    COMPREPLY+=($(compgen -d -- "$cur"))
    for f in $(compgen -f -- "$cur"); do
        [[ -d $f ]] && continue
        for ext; do
            if [[ ${f,,} == *."$ext" ]]; then
                COMPREPLY+=("$f")
                break
            fi
        done
    done
}

# Network interfaces (and `any`, all of them).
_pkt_ifaces() {
    local -a names=()
    local f line
    for f in /sys/class/net/*; do
        [[ -e $f ]] && names+=("${f##*/}")
    done
    if ((${#names[@]} == 0)) && command -v ip >/dev/null 2>&1; then
        while IFS=': ' read -r _ f line; do
            names+=("${f%@*}")
        done < <(ip -o link show 2>/dev/null)
    fi
    COMPREPLY+=($(compgen -W "${names[*]} any" -- "$cur"))
}

# Layer names: asked of the pkt being completed (so PKT_STDLIB counts),
# else the stdlib's as they were when this script was generated.
_pkt_layers() {
    local names= name rest prog=$_pkt_prog
    [[ $prog == '~/'* ]] && prog=$HOME/${prog#'~/'}
    if type -P -- "$prog" >/dev/null 2>&1; then
        while read -r name rest; do
            names+=" $name"
        done < <("$prog" layers 2>/dev/null)
    fi
    COMPREPLY+=($(compgen -W "${names:-$_pkt_layer_names}" -- "$cur"))
}

# The packets a script declares (`packet NAME = ...` lines), the script
# being the command's first positional argument (pos, _pkt's).
_pkt_packets() {
    local kw name rest names=
    [[ -r ${pos[0]} ]] || return 0
    while read -r kw name rest; do
        [[ $kw == packet ]] && names+=" ${name%%=*}"
    done <"${pos[0]}"
    COMPREPLY+=($(compgen -W "$names" -- "$cur"))
}

_pkt() {
    local cur=${COMP_WORDS[COMP_CWORD]} opt= prefix= path= i w skip= dashdash=
    local -a ws=() pos=()
    _pkt_prog=${COMP_WORDS[0]}
    COMPREPLY=()
    # Bash splits --opt=VALUE at '=': join the pieces again.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == = && ${#ws[@]} -gt 0 && ${ws[-1]} == -* ]]; then
            ws[-1]+==
            ((i + 1 < COMP_CWORD)) && ws[-1]+=${COMP_WORDS[++i]}
            continue
        fi
        ws+=("$w")
    done
    if [[ $cur == = && ${#ws[@]} -gt 0 && ${ws[-1]} == -* ]]; then
        opt=${ws[-1]}
        cur=
        unset 'ws[-1]'
    elif [[ ${COMP_WORDS[COMP_CWORD-1]} == = && ${#ws[@]} -gt 0 && ${ws[-1]} == -*= ]]; then
        opt=${ws[-1]%=}
        unset 'ws[-1]'
    elif [[ $cur == --*=* ]]; then  # '=' not in COMP_WORDBREAKS
        opt=${cur%%=*}
        prefix=$opt=
        cur=${cur#*=}
    fi
    # Which (sub)command, and its positional arguments so far.
    _pkt_cmd ""
    for w in "${ws[@]}"; do
        if [[ -n $skip ]]; then
            skip=
        elif [[ -z $dashdash && $w == -- ]]; then
            dashdash=1
        elif [[ -z $dashdash && $w == -* ]]; then
            [[ $w != *=* && " $_pkt_v " == *" $w "* ]] && skip=1
        elif [[ -z $dashdash && ${#pos[@]} -eq 0 && " $_pkt_s " == *" $w "* ]]; then
            path=${path:+$path }$w
            _pkt_cmd "$path"
        else
            pos+=("$w")
        fi
    done
    # The value of an option.
    if [[ -z $opt && -n $skip ]]; then
        opt=${ws[-1]}
    fi
    if [[ -n $opt ]]; then
        _pkt_value "$path" "$opt"
        [[ -n $prefix ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
        return 0
    fi
    if [[ -z $dashdash && $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$_pkt_o" -- "$cur"))
        return 0
    fi
    ((${#pos[@]} == 0)) && COMPREPLY=($(compgen -W "$_pkt_s" -- "$cur"))
    _pkt_positional "$path" ${#pos[@]}
    return 0
}
)SH";

std::string bash_script(const Cmd& root, const std::vector<std::string>& layers, const std::string& version) {
  std::string s = fmt::format(
      "# bash completion for pkt                                   -*- shell-script -*-\n"
      "# Generated by `pkt completion bash` (pkt {}) from pkt's command line\n"
      "# definition: regenerate it rather than edit it.\n\n"
      "_pkt_layer_names={}\n\n",
      version, sq(join(layers, " ")));

  s += "# The options (_pkt_o), those that take a value (_pkt_v) and the\n"
       "# subcommands (_pkt_s) of the command \"$1\" (\"\" for pkt itself).\n"
       "_pkt_cmd() {\n    case $1 in\n";
  each(root, [&](const Cmd& c) {
    std::vector<std::string> all, valued, subs;
    for (auto& o : c.opts) {
      all.insert(all.end(), o.names.begin(), o.names.end());
      if (o.takes_value) valued.insert(valued.end(), o.names.begin(), o.names.end());
    }
    for (auto& sub : c.subs) subs.push_back(sub.path.back());
    s += fmt::format("        {}) _pkt_o={} _pkt_v={} _pkt_s={} ;;\n", sq(join(c.path, " ")), sq(join(all, " ")),
                     sq(join(valued, " ")), sq(join(subs, " ")));
  });
  s += "    esac\n}\n\n";

  s += "# Completes the value of option \"$2\" of command \"$1\".\n"
       "_pkt_value() {\n    case \"$1 $2\" in\n";
  each(root, [&](const Cmd& c) {
    for (auto& o : c.opts) {
      if (!o.takes_value) continue;
      std::vector<std::string> pats;
      for (auto& n : o.names) pats.push_back(sq(join(c.path, " ") + " " + n));
      s += fmt::format("        {}) {} ;;\n", join(pats, " | "), bash_action(o.value));
    }
  });
  s += "    esac\n}\n\n";

  s += "# Completes positional argument number \"$2\" (from 0) of command \"$1\".\n"
       "_pkt_positional() {\n    case \"$1\" in\n";
  each(root, [&](const Cmd& c) {
    if (c.pos.empty()) return;
    s += fmt::format("        {})\n            case $2 in\n", sq(join(c.path, " ")));
    for (std::size_t i = 0; i < c.pos.size(); ++i) {
      bool last = c.pos[i].repeats || i + 1 == c.pos.size();
      std::string pat = c.pos[i].repeats ? "*" : std::to_string(i);
      s += fmt::format("                {}) {} ;;  # {} {}\n", pat, bash_action(c.pos[i].value), c.pos[i].name,
                       c.pos[i].value.type);
      if (c.pos[i].repeats && !last) break;
    }
    s += "            esac\n            ;;\n";
  });
  s += "    esac\n}\n\n";
  s += kBashHelpers;
  s += "\ncomplete -F _pkt pkt\n";
  return s;
}

// ------------------------------------------------------------------- zsh

// Text inside _arguments' [description] and message fields.
std::string zsh_desc(std::string d) {
  std::string out;
  for (char ch : d) {
    if (ch == '[' || ch == ']' || ch == '\\' || ch == ':') out += '\\';
    out += ch;
  }
  return out;
}

std::string zsh_action(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Files: return v.words.empty() ? "_files" : "_pkt_files " + join(v.words, " ");
    case Value::Kind::Iface: return "_pkt_ifaces";
    case Value::Kind::Layer: return "_pkt_layers";
    case Value::Kind::Packets: return "_pkt_packets";
    case Value::Kind::Choices: return "(" + join(v.words, " ") + ")";
    case Value::Kind::None: break;
  }
  return " ";
}

std::string zsh_fn(const Cmd& c) {
  std::string n = "_pkt";  // _pkt-build, as zsh's own _git-commit: no clash with the helpers' _pkt_NAME
  for (auto& p : c.path) {
    n += "-";
    for (char ch : p) n += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' ? ch : '_';
  }
  return n;
}

void zsh_command(std::string& s, const Cmd& c) {
  s += zsh_fn(c) + "() {\n";
  s += "    local curcontext=$curcontext state state_descr line ret=1\n    typeset -A opt_args\n";
  if (c.path.empty()) s += "    _pkt_prog=$words[1]  # for _pkt_layers\n";
  s += "    _arguments -C -s -S \\\n";
  for (auto& o : c.opts) {
    std::string excl = o.repeats ? "*" : o.names.size() > 1 ? "(" + join(o.names, " ") + ")" : "";
    if (!o.takes_value && (o.names.back() == "--help" || o.names.back() == "--version")) excl = "(- *)";
    std::vector<std::string> names;
    for (auto& n : o.names)
      names.push_back(o.takes_value ? n + (n.size() == 2 ? "+" : "=") : n);
    std::string spec_names = names.size() == 1 ? sq(names[0]) : "{" + join(names, ",") + "}";
    std::string tail = "[" + zsh_desc(o.desc) + "]";
    if (o.takes_value) tail += ":" + zsh_desc(o.value.type) + ":" + zsh_action(o.value);
    s += fmt::format("        {}{}{} \\\n", excl.empty() ? "" : sq(excl), spec_names, sq(tail));
  }
  if (!c.subs.empty()) {
    s += "        '1: :->command' '*:: :->argument' && ret=0\n";
    s += "    case $state in\n        command)\n            local -a commands=(\n";
    for (auto& sub : c.subs) s += "                " + sq(sub.path.back() + ":" + sub.desc) + "\n";
    s += "            )\n";
    s += fmt::format("            _describe -t commands {} commands && ret=0\n            ;;\n",
                     sq(join(c.path, " ").empty() ? "pkt command" : "pkt " + join(c.path, " ") + " command"));
    s += "        argument)\n            curcontext=${curcontext%:*:*}:pkt-$words[1]:\n            case $words[1] in\n";
    for (auto& sub : c.subs) s += fmt::format("                {}) {} && ret=0 ;;\n", sq(sub.path.back()), zsh_fn(sub));
    s += "                *) _message 'unknown command' ;;\n            esac\n            ;;\n    esac\n";
  } else {
    for (std::size_t i = 0; i < c.pos.size(); ++i) {
      auto& p = c.pos[i];
      std::string spec = (p.repeats ? std::string("*") : std::to_string(i + 1)) + ":" + zsh_desc(p.name) + " " +
                         zsh_desc(p.value.type) + ":" + zsh_action(p.value);
      s += "        " + sq(spec) + " \\\n";
      if (p.repeats) break;
    }
    s += "        && ret=0\n";
  }
  s += "    return ret\n}\n\n";
  for (auto& sub : c.subs) zsh_command(s, sub);
}

const char* kZshHelpers = R"SH(# Files with one of the extensions "$@", and directories.
(( $+functions[_pkt_files] )) ||
_pkt_files() {
    _files -g "*.(${(j:|:)@})(-.)"
}

# Network interfaces (and `any`, all of them).
(( $+functions[_pkt_ifaces] )) ||
_pkt_ifaces() {
    local -a names
    names=(/sys/class/net/*(N:t))
    (( $#names )) || names=(${${${(f)"$(ip -o link show 2>/dev/null)"}#*: }%%[:@]*})
    names+=(any)
    _wanted interfaces expl interface compadd -a names
}

# Layer names and their descriptions: asked of the pkt being completed (so
# PKT_STDLIB counts), else the stdlib's as they were when this was generated.
# The packets a script declares (`packet NAME = ...` lines), the script
# being the first positional argument ($line[1] of _arguments).
(( $+functions[_pkt_packets] )) ||
_pkt_packets() {
    local file=${~line[1]} l
    local -a names
    [[ -r $file ]] || return 1
    for l in ${(f)"$(<$file)"}; do
        l=${l##[[:space:]]#}
        [[ $l == packet[[:space:]]* ]] && names+=(${${${l#packet}##[[:space:]]#}%%[[:space:]=]*})
    done
    _wanted packets expl packet compadd -a names
}

(( $+functions[_pkt_layers] )) ||
_pkt_layers() {
    local -a specs
    local line name doc
    if (( $+commands[$_pkt_prog] )) || [[ -x ${~_pkt_prog} ]]; then
        for line in ${(f)"$(${~_pkt_prog} layers 2>/dev/null)"}; do
            name=${line%% *}
            doc=${line#"$name"}
            while [[ $doc == ' '* ]]; do doc=${doc# }; done
            specs+=("${name//:/\\:}:$doc")
        done
    fi
    (( $#specs )) || specs=($_pkt_layer_names)
    _describe -t layers layer specs
}

)SH";

std::string zsh_script(const Cmd& root, const std::vector<std::string>& layers, const std::string& version) {
  std::string s = fmt::format(
      "#compdef pkt\n"
      "# zsh completion for pkt, generated by `pkt completion zsh` (pkt {}) from\n"
      "# pkt's command line definition: regenerate it rather than edit it.\n\n"
      "_pkt_layer_names=({})\n\n",
      version, join(layers, " "));
  s += kZshHelpers;
  zsh_command(s, root);
  s += "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
       "    _pkt \"$@\"\nelse\n    compdef _pkt pkt\nfi\n";
  return s;
}

}  // namespace

std::string completion_script(const CLI::App& app, const std::string& shell, const std::vector<std::string>& layers,
                              const std::string& version) {
  Cmd root = model(app, {});
  if (shell == "bash") return bash_script(root, layers, version);
  if (shell == "zsh") return zsh_script(root, layers, version);
  throw std::invalid_argument(fmt::format("no completion for shell '{}' (bash, zsh)", shell));
}

}  // namespace pkt
