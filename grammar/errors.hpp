// What each must<R> says when R fails (and raise<R> says): the messages of
// parse errors. Only must<> and raise<> raise; a rule with a message that
// fails inside sor<> or opt<> just backtracks (raise_on_failure is false).
// Every must<R> and raise<R> needs one.
#pragma once

#include <type_traits>

#include <tao/pegtl/must_if.hpp>

#include "rules.hpp"

namespace pkt::grammar {

template <typename>
inline constexpr const char* error_message = nullptr;

// clang-format off
// top level
template <> inline constexpr auto error_message<script_end> = "expected a statement (param, let, packet, layer, option, bind, reply, fragment, show, hexdump, write, send, sr, sniff, lua)";
template <> inline constexpr auto error_message<repl_end> = "expected a statement (param, let, packet, layer, option, bind, reply, fragment, show, hexdump, write, send, sr, sniff, lua) or an expression";
template <> inline constexpr auto error_message<expression_end> = "expected '/', '|', '*', '..' or the end of the expression";

// strings and numbers
template <> inline constexpr auto error_message<str_close> = "unterminated string: expected '\"'";
template <> inline constexpr auto error_message<hex_second> = "expected a second hex digit (hex\"...\" needs pairs of hex digits)";
template <> inline constexpr auto error_message<hex_close> = "expected hex digits or '\"' in hex\"...\"";
template <> inline constexpr auto error_message<base64_close> = "expected base64 characters (A-Z a-z 0-9 + / =) or '\"' in base64\"...\"";
template <> inline constexpr auto error_message<addr_end> = "expected a separator after the address";
template <> inline constexpr auto error_message<hex_digits> = "expected hex digits after '0x'";
template <> inline constexpr auto error_message<bin_digits> = "expected binary digits after '0b'";
template <> inline constexpr auto error_message<num_end> = "expected digits or a time unit (ns, us, ms, s) in the number";

// values
template <> inline constexpr auto error_message<value> = "expected a value";
template <> inline constexpr auto error_message<eq_value> = "expected a value after '='";
template <> inline constexpr auto error_message<list_close> = "expected a value, ',' or ']'";
template <> inline constexpr auto error_message<paren_close> = "expected ')'";
template <> inline constexpr auto error_message<file_path> = "expected a \"path\" string in file(...)";
template <> inline constexpr auto error_message<file_close> = "expected ')' after the path in file(...)";
template <> inline constexpr auto error_message<call_close> = "expected ')', ',' or an argument (name=value or a value)";
template <> inline constexpr auto error_message<member_name> = "expected a field name after '.'";
template <> inline constexpr auto error_message<primary> = "expected a value after '..'";
template <> inline constexpr auto error_message<range_expr> = "expected a count after '*'";
template <> inline constexpr auto error_message<repeat_expr> = "expected a value after '|'";
template <> inline constexpr auto error_message<union_expr> = "expected a layer or value after '/'";

// rule expressions
template <> inline constexpr auto error_message<rx_expr> = "expected a rule expression (a number, name, call or '(')";
template <> inline constexpr auto error_message<rx_paren_close> = "expected ')' or an operator (+ - * /)";
template <> inline constexpr auto error_message<rx_call_close> = "expected ')', ',' or an operator (+ - * /)";
template <> inline constexpr auto error_message<rx_primary> = "expected a number, name, call or '(' after the operator";
template <> inline constexpr auto error_message<rx_term> = "expected a number, name, call or '(' after the operator";
template <> inline constexpr auto error_message<rx_sum> = "expected a number, name, call or '(' after the operator";
template <> inline constexpr auto error_message<rx_bits> = "expected a number, name, call or '(' after the comparison";
template <> inline constexpr auto error_message<rx_not> = "expected an expression after 'not', 'and' or 'or'";
template <> inline constexpr auto error_message<rx_and> = "expected an expression after 'or'";
template <> inline constexpr auto error_message<size_rule> = "expected a size expression after 'size' (e.g. size n, size length - 4)";
template <> inline constexpr auto error_message<count_rule> = "expected an element count after 'count' (e.g. count qdcount)";
template <> inline constexpr auto error_message<until_name> = "expected an option name after 'until' (the option that ends the list)";
template <> inline constexpr auto error_message<if_rule> = "expected a condition after 'if' (e.g. if k, if type == 3)";
template <> inline constexpr auto error_message<payload_size_rule> = "expected a size expression after 'payload size'";
template <> inline constexpr auto error_message<summary_text> = "expected a \"format string\" after 'summary' (e.g. summary \"{src} > {dst}\")";
template <> inline constexpr auto error_message<aka_name> = "expected a \"quoted name\" after 'aka' (e.g. aka \"IP\")";
template <> inline constexpr auto error_message<wireshark_table> = "expected a \"dissector table\" after 'wireshark' (e.g. wireshark \"udp.port\" = sport, dport)";
template <> inline constexpr auto error_message<wireshark_eq> = "expected '=' and the fields whose values key the table (e.g. wireshark \"udp.port\" = sport, dport)";
template <> inline constexpr auto error_message<wireshark_field> = "expected a field name (e.g. wireshark \"udp.port\" = sport, dport)";
template <> inline constexpr auto error_message<bind_when_rule> = "expected a condition after 'when'";
template <> inline constexpr auto error_message<rx_list> = "expected '[' and a list of values after 'in'";
template <> inline constexpr auto error_message<rx_list_close> = "expected ',' or ']'";
template <> inline constexpr auto error_message<frag_layer> = "expected a layer name after 'fragment'";
template <> inline constexpr auto error_message<frag_header> = "expected the name of the header to insert after 'with'";
template <> inline constexpr auto error_message<frag_open> = "expected '{' and how the layer fragments (e.g. { offset = frag; more = flags.MF })";
template <> inline constexpr auto error_message<frag_close> = "expected 'offset = FIELD', 'more = FIELD[.FLAG]', 'id = FIELD', ';' or '}'";
template <> inline constexpr auto error_message<frag_eq> = "expected '=' and a field name";
template <> inline constexpr auto error_message<frag_field> = "expected a field name after '='";
template <> inline constexpr auto error_message<frag_flag> = "expected a flag name after '.'";
template <> inline constexpr auto error_message<reply_layer> = "expected a layer name after 'reply'";
template <> inline constexpr auto error_message<reply_probe> = "expected the probe's layer name after 'to'";
template <> inline constexpr auto error_message<reply_when_rule> = "expected a condition after 'when'";
template <> inline constexpr auto error_message<reply_open> = "expected '{' and the conditions a reply meets (e.g. { sport == sent.dport })";
template <> inline constexpr auto error_message<reply_close> = "expected a condition, ';' or '}'";
template <> inline constexpr auto error_message<reply_quotes_sent> = "expected 'sent' after 'payload quotes'";

// layers and options
template <> inline constexpr auto error_message<field_colon> = "expected ':' and a type after the field name";
template <> inline constexpr auto error_message<field_type> = "expected a type after ':' (e.g. u8, u16, u32[], ipv4addr, mac, bytes)";
template <> inline constexpr auto error_message<entry_eq> = "expected '=' and a value after the name";
template <> inline constexpr auto error_message<enum_close> = "expected '}', ',' or an enum entry (NAME = value)";
template <> inline constexpr auto error_message<flags_close> = "expected '}', ',' or a flag (NAME = value)";
template <> inline constexpr auto error_message<align_value> = "expected a value after 'align'";
template <> inline constexpr auto error_message<align_with_name> = "expected an option name after 'with' (the option that pads)";
template <> inline constexpr auto error_message<auto_rule> = "expected a rule expression after 'auto'";
template <> inline constexpr auto error_message<default_value> = "expected a value or 'auto' after '='";
template <> inline constexpr auto error_message<pseudo_item> = "expected a pseudo-header expression";
template <> inline constexpr auto error_message<layer_close> = "expected '}', a field (name : type), 'pseudo = ...', 'payload size ...' or 'summary \"...\"'";
template <> inline constexpr auto error_message<layer_name> = "expected a name after 'layer'";
template <> inline constexpr auto error_message<layer_open> = "expected '{' or a \"doc string\" after the layer name";
template <> inline constexpr auto error_message<option_layer> = "expected LAYER.FIELD after 'option' (e.g. tcp.options)";
template <> inline constexpr auto error_message<option_dot> = "expected '.' and a field name (e.g. tcp.options)";
template <> inline constexpr auto error_message<option_field> = "expected a field name after '.'";
template <> inline constexpr auto error_message<also_layer> = "expected LAYER.FIELD after ',' (another field the option is for)";
template <> inline constexpr auto error_message<also_field> = "expected a field name after '.'";
template <> inline constexpr auto error_message<option_name> = "expected the option's name after LAYER.FIELD";
template <> inline constexpr auto error_message<option_param> = "expected a parameter name";
template <> inline constexpr auto error_message<option_params_close> = "expected ')', ',' or a parameter name";
template <> inline constexpr auto error_message<option_open> = "expected '{', '(' parameters or a \"doc string\" after the option name";

// statements
template <> inline constexpr auto error_message<stmt_next> = "expected a new statement (param, let, packet, layer, option, bind, reply, fragment, show, hexdump, write, send, sr, sniff, lua) or the end of the input";
template <> inline constexpr auto error_message<missing_slash> = "expected '/' between layers";
template <> inline constexpr auto error_message<missing_comma> = "expected ',' between targets, or '/' between layers";
template <> inline constexpr auto error_message<send_option_word> = "unknown send option; expected count, interval, rate, on, threads or bypass";
template <> inline constexpr auto error_message<sniff_option_word> = "unknown sniff option; expected on, filter, count or timeout";
template <> inline constexpr auto error_message<filter_value> = "expected a \"BPF filter\" string after 'filter' (e.g. filter \"udp port 53\")";
template <> inline constexpr auto error_message<timeout_value> = "expected a time after 'timeout' (e.g. 2s)";
template <> inline constexpr auto error_message<word_iface_value> = "expected an interface after 'on' (e.g. lo or \"eth0\")";
template <> inline constexpr auto error_message<word_value> = "expected a value after the option word";
template <> inline constexpr auto error_message<decl_eq> = "expected '=' after the name";
template <> inline constexpr auto error_message<param_name> = "expected a name after 'param'";
template <> inline constexpr auto error_message<let_name> = "expected a name after 'let'";
template <> inline constexpr auto error_message<packet_name> = "expected a name after 'packet'";
template <> inline constexpr auto error_message<bind_lower> = "expected LAYER.FIELD after 'bind' (e.g. udp.dport)";
template <> inline constexpr auto error_message<bind_dot> = "expected '.' and a field name (e.g. udp.dport)";
template <> inline constexpr auto error_message<bind_field> = "expected a field name after '.'";
template <> inline constexpr auto error_message<bind_eq> = "expected '=' after LAYER.FIELD";
template <> inline constexpr auto error_message<bind_arrow> = "expected '.FIELD = VALUE -> UPPER' or '-> UPPER' after the layer (e.g. bind udp.dport = 53 -> dns)";
template <> inline constexpr auto error_message<bind_upper> = "expected a layer name after '->'";
template <> inline constexpr auto error_message<target> = "expected a packet or value";
template <> inline constexpr auto error_message<write_to> = "expected ',' or 'to \"file\"'";
template <> inline constexpr auto error_message<write_path> = "expected a \"file\" string after 'to'";
template <> inline constexpr auto error_message<count_value> = "expected a number after 'count'";
template <> inline constexpr auto error_message<interval_value> = "expected a time after 'interval' (e.g. 10ms)";
template <> inline constexpr auto error_message<threads_value> = "expected a number of sender threads after 'threads' (e.g. threads 2)";
template <> inline constexpr auto error_message<rate_value> = "expected a rate after 'rate' (e.g. 100kpps or 1Gbit)";
template <> inline constexpr auto error_message<rate_unit> = "expected a rate unit after the number: pps, kpps, Mpps, Gpps (packets/s) or bit, kbit, Mbit, Gbit (bits/s), e.g. 100kpps or 1Gbit";
template <> inline constexpr auto error_message<retry_value> = "expected a number of rounds after 'retry'";
template <> inline constexpr auto error_message<sr_option_word> = "unknown sr option; expected timeout, retry, interval or on";
template <> inline constexpr auto error_message<iface> = "expected an interface after 'on' (e.g. eth0 or \"eth0\")";
template <> inline constexpr auto error_message<lua_open> = "expected '{' after 'lua'";
template <> inline constexpr auto error_message<lua_close> = "unterminated lua block: expected '}'";
// clang-format on

struct error_table {
  template <typename Rule>
  static constexpr const char* message = error_message<Rule>;
  template <typename Rule>
  static constexpr bool raise_on_failure = false;  // only must<> raises
};

// Nesting of values and auto rules is recursive; a limit keeps absurd
// input (`((((...` thousands deep) an error instead of a stack overflow.
inline constexpr int kMaxNesting = 200;
inline thread_local int nesting_depth = 0;  // reset by each parse

template <typename Rule>
inline constexpr bool is_nesting_rule = std::is_same_v<Rule, value> || std::is_same_v<Rule, rx_expr>;

// The control class of every parse: must<R> throws parse_error(message<R>).
template <typename Rule>
struct control : tao::pegtl::must_if<error_table>::control<Rule> {
  using base = typename tao::pegtl::must_if<error_table>::template control<Rule>;

  template <typename Input, typename... States>
  static void start(const Input& in, States&&... st) {
    if constexpr (is_nesting_rule<Rule>) {
      if (++nesting_depth > kMaxNesting)
        throw tao::pegtl::parse_error("values nested more than 200 levels deep", in);
    }
    base::start(in, st...);
  }
  template <typename Input, typename... States>
  static void success(const Input& in, States&&... st) {
    if constexpr (is_nesting_rule<Rule>) --nesting_depth;
    base::success(in, st...);
  }
  template <typename Input, typename... States>
  static void failure(const Input& in, States&&... st) {
    if constexpr (is_nesting_rule<Rule>) --nesting_depth;
    base::failure(in, st...);
  }
};

}  // namespace pkt::grammar
