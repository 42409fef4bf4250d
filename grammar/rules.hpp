// The grammar of pkt scripts: PEGTL rules only. No actions, no AST; the
// error messages for must<> are in errors.hpp, the actions in actions.hpp.
#pragma once

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/raw_string.hpp>

namespace pkt::grammar {

using namespace tao::pegtl;

/* Whitespace convention (as in PEGTL's lua53 example): spaces, tabs,
   newlines and `# comments` between tokens are insignificant and are
   skipped by `sp`. Every rule handles its *internal* padding only: it
   neither starts nor ends with `sp`; whoever sequences two rules puts `sp`
   between them. Statements need no separator, but one ends only where the
   next starts (at its keyword) or at the end of the input: a lookahead after
   each (`*_end`, consuming nothing) raises at a word it does not know, so a
   missing '/' or an unknown option is never a silent new statement.
   Commit points use must<>; each must<R>'s R has a message in errors.hpp,
   and only must<> and raise<> raise (a rule failing inside sor<> or opt<>
   just backtracks). Rules that fail after a commit point never backtrack,
   so actions see each construct once. */

// clang-format off

// ------------------------------------------------------------------ lexical
struct comment : seq< one< '#' >, until< eolf > > {};
struct sp : star< sor< ascii::space, comment > > {};
struct ident : identifier {};

// Statement keywords are keywords only at the start of a statement;
// the others only where they are expected.
struct kw_param : TAO_PEGTL_KEYWORD( "param" ) {};
struct kw_let : TAO_PEGTL_KEYWORD( "let" ) {};
struct kw_packet : TAO_PEGTL_KEYWORD( "packet" ) {};
struct kw_layer : TAO_PEGTL_KEYWORD( "layer" ) {};
struct kw_option : TAO_PEGTL_KEYWORD( "option" ) {};
struct kw_bind : TAO_PEGTL_KEYWORD( "bind" ) {};
struct kw_show : TAO_PEGTL_KEYWORD( "show" ) {};
struct kw_hexdump : TAO_PEGTL_KEYWORD( "hexdump" ) {};
struct kw_write : TAO_PEGTL_KEYWORD( "write" ) {};
struct kw_send : TAO_PEGTL_KEYWORD( "send" ) {};
struct kw_lua : TAO_PEGTL_KEYWORD( "lua" ) {};
struct kw_sr : TAO_PEGTL_KEYWORD( "sr" ) {};
struct kw_retry : TAO_PEGTL_KEYWORD( "retry" ) {};
struct kw_sniff : TAO_PEGTL_KEYWORD( "sniff" ) {};
struct kw_to : TAO_PEGTL_KEYWORD( "to" ) {};
struct kw_count : TAO_PEGTL_KEYWORD( "count" ) {};
struct kw_interval : TAO_PEGTL_KEYWORD( "interval" ) {};
struct kw_rate : TAO_PEGTL_KEYWORD( "rate" ) {};
struct kw_on : TAO_PEGTL_KEYWORD( "on" ) {};
struct kw_threads : TAO_PEGTL_KEYWORD( "threads" ) {};
struct kw_bypass : TAO_PEGTL_KEYWORD( "bypass" ) {};
struct kw_filter : TAO_PEGTL_KEYWORD( "filter" ) {};
struct kw_timeout : TAO_PEGTL_KEYWORD( "timeout" ) {};
struct kw_auto : TAO_PEGTL_KEYWORD( "auto" ) {};
struct kw_enum : TAO_PEGTL_KEYWORD( "enum" ) {};
struct kw_flags : TAO_PEGTL_KEYWORD( "flags" ) {};
struct kw_align : TAO_PEGTL_KEYWORD( "align" ) {};
struct kw_pseudo : TAO_PEGTL_KEYWORD( "pseudo" ) {};
struct kw_file : TAO_PEGTL_KEYWORD( "file" ) {};
struct kw_size : TAO_PEGTL_KEYWORD( "size" ) {};
struct kw_if : TAO_PEGTL_KEYWORD( "if" ) {};
struct kw_until : TAO_PEGTL_KEYWORD( "until" ) {};
struct kw_and : TAO_PEGTL_KEYWORD( "and" ) {};
struct kw_or : TAO_PEGTL_KEYWORD( "or" ) {};
struct kw_not : TAO_PEGTL_KEYWORD( "not" ) {};
struct kw_payload : TAO_PEGTL_KEYWORD( "payload" ) {};
struct kw_summary : TAO_PEGTL_KEYWORD( "summary" ) {};
struct kw_aka : TAO_PEGTL_KEYWORD( "aka" ) {};
struct kw_wireshark : TAO_PEGTL_KEYWORD( "wireshark" ) {};
struct kw_when : TAO_PEGTL_KEYWORD( "when" ) {};
struct kw_with : TAO_PEGTL_KEYWORD( "with" ) {};
struct kw_in : TAO_PEGTL_KEYWORD( "in" ) {};
struct kw_reply : TAO_PEGTL_KEYWORD( "reply" ) {};
struct kw_quoted : TAO_PEGTL_KEYWORD( "quoted" ) {};
struct kw_quotes : TAO_PEGTL_KEYWORD( "quotes" ) {};
struct kw_sent : TAO_PEGTL_KEYWORD( "sent" ) {};
struct kw_fragment : TAO_PEGTL_KEYWORD( "fragment" ) {};

// ------------------------------------------------------------------ strings
// "..." on one line; escapes are checked and decoded by the action.
struct str_plain : plus< not_one< '"', '\\', '\n' > > {};
struct str_escape : seq< one< '\\' >, opt< not_one< '\n' > > > {};
struct str_close : one< '"' > {};
struct string_lit : seq< one< '"' >, star< sor< str_plain, str_escape > >, must< str_close > > {};

// hex"de ad be ef": pairs of hex digits, whitespace between pairs.
struct hex_second : xdigit {};
struct hex_byte : seq< xdigit, must< hex_second > > {};
struct hex_close : one< '"' > {};
struct hex_lit : seq< TAO_PEGTL_STRING( "hex" ), one< '"' >, star< ascii::space >, star< hex_byte, star< ascii::space > >, must< hex_close > > {};

// base64"SGVsbG8=": checked and decoded by the action.
struct base64_char : sor< ascii::alnum, one< '+', '/', '=' >, ascii::space > {};
struct base64_close : one< '"' > {};
struct base64_lit : seq< TAO_PEGTL_STRING( "base64" ), one< '"' >, star< base64_char >, must< base64_close > > {};

// --------------------------------------------------- addresses and numbers
// Candidates are cheap shapes; the actions validate them (no name lookups).
struct addr_end : not_at< identifier_other > {};
// digits(.digits)+ where each '.' is followed by a digit, so 1..5 is a range.
struct ipv4_cand : seq< plus< digit >, plus< one< '.' >, plus< digit > >, must< addr_end > > {};
// [0-9A-Za-z]* ':' [0-9A-Za-z:.]*: a MAC or an IPv6 address.
struct colon_cand : seq< star< ascii::alnum >, one< ':' >, star< sor< ascii::alnum, one< ':' >, seq< one< '.' >, at< digit > > > >, must< addr_end > > {};

struct hex_digits : plus< xdigit > {};
struct bin_digits : plus< one< '0', '1' > > {};
struct int_hex : seq< one< '0' >, one< 'x', 'X' >, must< hex_digits > > {};
struct int_bin : seq< one< '0' >, one< 'b', 'B' >, must< bin_digits > > {};
struct time_unit : sor< TAO_PEGTL_STRING( "ns" ), TAO_PEGTL_STRING( "us" ), TAO_PEGTL_STRING( "ms" ), one< 's' > > {};
struct int_dec : seq< plus< digit >, opt< time_unit > > {};
struct num_end : not_at< identifier_other > {};
struct number : seq< opt< one< '-' >, at< digit > >, sor< int_hex, int_bin, int_dec >, must< num_end > > {};

// ------------------------------------------------------- value expressions
// value := union ('/' union)*;  union := repeat ('|' repeat)*;
// repeat := range ('*' range)?;  range := primary ('..' primary)?
struct value;
struct eq_value : seq< value > {};   // a value after '='

struct list_open : one< '[' > {};
struct list_close : one< ']' > {};
struct list_lit : seq< list_open, sp, opt< value, sp, star< one< ',' >, sp, value, sp >, opt< one< ',' >, sp > >, must< list_close > > {};

struct paren_close : one< ')' > {};
struct paren_expr : seq< one< '(' >, sp, must< value >, sp, must< paren_close > > {};

struct file_path : seq< string_lit > {};
struct file_close : one< ')' > {};
struct file_lit : seq< kw_file, sp, one< '(' >, sp, must< file_path >, sp, must< file_close > > {};

struct callee : ident {};
struct arg_name : seq< ident, at< sp, one< '=' > > > {};
struct named_arg : seq< arg_name, sp, one< '=' >, sp, must< eq_value > > {};
struct pos_arg : seq< value > {};
// `sniff(on lo, filter "icmp", count 1)`: an option word before its value.
// Only these words, and only where a value follows (so `f(count)` is still
// a name); which calls accept them is the interpreter's business.
struct word_on : TAO_PEGTL_KEYWORD( "on" ) {};
struct word_name : sor< TAO_PEGTL_KEYWORD( "filter" ), TAO_PEGTL_KEYWORD( "count" ), TAO_PEGTL_KEYWORD( "timeout" ), TAO_PEGTL_KEYWORD( "interval" ) > {};
struct word_follows : seq< sp, not_at< sor< eof, one< ',', ')', '=', '/', '|', '*', '.' > > > > {};
struct word_iface : seq< ascii::alpha, star< sor< ascii::alnum, one< '_', '.', ':', '-' > > > > {};
struct word_iface_value : sor< string_lit, word_iface > {};
struct word_value : seq< value > {};
struct on_arg : seq< word_on, word_follows, must< word_iface_value > > {};
struct option_arg : seq< word_name, word_follows, must< word_value > > {};
struct word_arg : sor< on_arg, option_arg > {};
struct call_arg : sor< named_arg, word_arg, pos_arg > {};
struct call_open : one< '(' > {};
struct call_close : one< ')' > {};
struct call_args : seq< call_open, sp, opt< call_arg, sp, star< one< ',' >, sp, call_arg, sp >, opt< one< ',' >, sp > >, must< call_close > > {};
struct member_name : ident {};
struct member : seq< one< '.' >, not_at< one< '.' > >, sp, must< member_name > > {};
struct call_or_name : seq< callee, opt< sp, call_args >, star< sp, member > > {};

struct primary : sor< list_lit, paren_expr, string_lit, hex_lit, base64_lit, file_lit, ipv4_cand, colon_cand, number, call_or_name > {};
struct range_tail : seq< sp, two< '.' >, sp, must< primary > > {};
struct range_expr : seq< primary, opt< range_tail > > {};
struct repeat_tail : seq< sp, one< '*' >, sp, must< range_expr > > {};
struct repeat_expr : seq< range_expr, opt< repeat_tail > > {};
struct union_expr : seq< repeat_expr, star< sp, one< '|' >, sp, must< repeat_expr > > > {};
struct value : seq< union_expr, star< sp, one< '/' >, sp, must< union_expr > > > {};

// -------------------------------------------------------- rule expressions
// After `= auto`, `size`, `if`, `when` and in `pseudo =`. Loosest first:
// or, and, not, comparisons, &, + -, * / (division, not stacking).
// `LAYER.FIELD` names a field of the nearest layer of that name below.
struct rx_expr;
struct rx_paren_close : one< ')' > {};
struct rx_paren : seq< one< '(' >, sp, must< rx_expr >, sp, must< rx_paren_close > > {};
struct rx_callee : ident {};
struct rx_call_open : one< '(' > {};
struct rx_call_close : one< ')' > {};
struct rx_args : seq< rx_call_open, sp, opt< rx_expr, sp, star< one< ',' >, sp, must< rx_expr >, sp > >, must< rx_call_close > > {};
struct rx_member : seq< one< '.' >, not_at< one< '.' > >, must< member_name > > {};
struct rx_call_or_name : seq< rx_callee, sor< seq< sp, rx_args >, rx_member, success > > {};
struct rx_primary : sor< rx_paren, string_lit, hex_lit, base64_lit, ipv4_cand, colon_cand, number, rx_call_or_name > {};
struct rx_mulop : one< '*', '/' > {};
struct rx_addop : one< '+', '-' > {};
struct rx_bitop : seq< one< '&' >, not_at< one< '&' > > > {};
struct rx_cmpop : sor< TAO_PEGTL_STRING( "==" ), TAO_PEGTL_STRING( "!=" ), TAO_PEGTL_STRING( "<=" ), TAO_PEGTL_STRING( ">=" ), one< '<', '>' > > {};
struct rx_andop : seq< kw_and > {};
struct rx_orop : seq< kw_or > {};
struct rx_term : seq< rx_primary, star< sp, rx_mulop, sp, must< rx_primary > > > {};
struct rx_sum : seq< rx_term, star< sp, rx_addop, sp, must< rx_term > > > {};
struct rx_bits : seq< rx_sum, star< sp, rx_bitop, sp, must< rx_sum > > > {};
// `x in [a, b, c]`: x equals one of them.
struct rx_inop : seq< kw_in > {};
struct rx_list_close : one< ']' > {};
struct rx_list : seq< one< '[' >, sp, must< rx_expr >, sp, star< one< ',' >, sp, must< rx_expr >, sp >, must< rx_list_close > > {};
struct rx_cmp : seq< rx_bits, opt< sp, sor< seq< rx_cmpop, sp, must< rx_bits > >, seq< rx_inop, sp, must< rx_list > > > > > {};
struct rx_not;
struct rx_not_op : seq< kw_not, sp, must< rx_not > > {};
struct rx_not : sor< rx_not_op, rx_cmp > {};
struct rx_and : seq< rx_not, star< sp, rx_andop, sp, must< rx_not > > > {};
struct rx_expr : seq< rx_and, star< sp, rx_orop, sp, must< rx_and > > > {};

// ------------------------------------------------------ layers and options
struct field_name : ident {};
struct field_colon : one< ':' > {};
struct field_type : seq< ident, opt< one< '[' >, one< ']' > > > {};
struct entry_eq : one< '=' > {};
struct enum_name : ident {};
struct enum_entry : seq< enum_name, sp, must< entry_eq >, sp, must< eq_value > > {};
struct enum_start : seq< kw_enum, sp, one< '{' > > {};   // a field may be named `enum`
struct enum_close : one< '}' > {};
struct enum_block : seq< enum_start, sp, opt< enum_entry, sp, star< one< ',' >, sp, enum_entry, sp >, opt< one< ',' >, sp > >, must< enum_close > > {};
struct flag_name : ident {};
struct flag_entry : seq< flag_name, sp, must< entry_eq >, sp, must< eq_value > > {};
struct flags_start : seq< kw_flags, sp, one< '{' > > {};  // a field may be named `flags`
struct flags_close : one< '}' > {};
struct flags_block : seq< flags_start, sp, opt< flag_entry, sp, star< one< ',' >, sp, flag_entry, sp >, opt< one< ',' >, sp > >, must< flags_close > > {};
struct align_start : seq< kw_align, not_at< sp, one< ':' > > > {};  // a field may be named `align`
struct align_value : seq< value > {};
struct align_with_name : ident {};
struct align_with : seq< kw_with, sp, must< align_with_name > > {};
struct align_clause : seq< align_start, sp, must< align_value >, opt< sp, align_with > > {};
struct size_start : seq< kw_size, not_at< sp, one< ':' > > > {};  // a field may be named `size`
struct size_rule : seq< rx_expr > {};
struct size_clause : seq< size_start, sp, must< size_rule > > {};
struct if_start : seq< kw_if, not_at< sp, one< ':' > > > {};
struct if_rule : seq< rx_expr > {};
struct if_clause : seq< if_start, sp, must< if_rule > > {};
struct kw_list_count : TAO_PEGTL_KEYWORD( "count" ) {};  // not kw_count: that one's action is send's
struct count_start : seq< kw_list_count, not_at< sp, one< ':' > > > {};  // a field may be named `count`
struct count_rule : seq< rx_expr > {};
struct count_clause : seq< count_start, sp, must< count_rule > > {};
struct until_start : seq< kw_until, not_at< sp, one< ':' > > > {};
struct until_name : ident {};
struct until_clause : seq< until_start, sp, must< until_name > > {};
struct kw_strict : TAO_PEGTL_KEYWORD( "strict" ) {};
struct strict_clause : seq< kw_strict, not_at< sp, one< ':' > > > {};  // a field may be named `strict`
struct kw_padded : TAO_PEGTL_KEYWORD( "padded" ) {};
struct padded_clause : seq< kw_padded, not_at< sp, one< ':' > > > {};  // a field may be named `padded`
struct field_mod : sor< enum_block, flags_block, align_clause, size_clause, if_clause, count_clause, until_clause, strict_clause, padded_clause > {};
struct auto_rule : seq< rx_expr > {};
// `= auto` alone (before the end of the line, a comment, a doc string, `;`
// or `}`): the rule is derived from a size rule that reads the field.
struct auto_bare : seq< star< blank >, at< sor< eol, one< '#', '"', ';', '}' > > > > {};
struct auto_default : seq< kw_auto, sor< auto_bare, seq< sp, must< auto_rule > > > > {};
struct default_value : seq< value > {};
struct field_default : seq< one< '=' >, sp, sor< auto_default, must< default_value > > > {};
struct field_doc : seq< string_lit > {};
struct field_decl : seq< field_name, sp, must< field_colon >, sp, must< field_type >, star< sp, field_mod >, opt< sp, field_default >, opt< sp, field_doc > > {};

struct pseudo_start : seq< kw_pseudo, sp, one< '=' > > {};  // a field may be named `pseudo`
struct pseudo_item : seq< rx_expr > {};
struct pseudo_decl : seq< pseudo_start, sp, must< pseudo_item >, star< sp, one< ',' >, sp, must< pseudo_item > > > {};
// `payload size EXPR`: where this layer's payload ends; what follows is a trailer.
struct payload_size_start : seq< kw_payload, sp, kw_size > {};
struct payload_size_rule : seq< rx_expr > {};
struct payload_size_decl : seq< payload_size_start, sp, must< payload_size_rule > > {};
// `summary "{src} > {dst}"`: the layer's one-line form.
struct summary_start : seq< kw_summary, not_at< sp, one< ':' > > > {};
struct summary_text : seq< string_lit > {};
struct summary_decl : seq< summary_start, sp, must< summary_text > > {};
// `aka "IP", "IPv4"`: names other tools give the layer; an unknown layer by one of them points here.
struct aka_start : seq< kw_aka, not_at< sp, one< ':' > > > {};
struct aka_name : seq< string_lit > {};
struct aka_decl : seq< aka_start, sp, must< aka_name >, star< sp, one< ',' >, sp, must< aka_name > > > {};
// `wireshark "udp.port" = sport, dport`: the Wireshark dissector table keyed by these fields' values
// (pkt export wireshark registers a layer bound to one of them there).
struct wireshark_start : seq< kw_wireshark, not_at< sp, one< ':' > > > {};
struct wireshark_table : seq< string_lit > {};
struct wireshark_eq : one< '=' > {};
struct wireshark_field : ident {};
struct wireshark_decl : seq< wireshark_start, sp, must< wireshark_table >, sp, must< wireshark_eq >, sp, must< wireshark_field >,
                             star< sp, one< ',' >, sp, must< wireshark_field > > > {};
struct layer_item : sor< pseudo_decl, payload_size_decl, summary_decl, aka_decl, wireshark_decl, field_decl, one< ';' > > {};
struct layer_close : one< '}' > {};
struct layer_fields : seq< star< sp, layer_item >, sp, must< layer_close > > {};
struct layer_doc : seq< string_lit > {};

struct layer_name : ident {};
struct layer_open : one< '{' > {};
struct layer_stmt : seq< kw_layer, sp, must< layer_name >, sp, opt< layer_doc, sp >, must< layer_open >, layer_fields > {};

struct option_layer : ident {};
struct option_dot : one< '.' > {};
struct option_field : ident {};
struct option_name : ident {};
struct option_param : ident {};
struct variadic_dots : three< '.' > {};
struct option_params_close : one< ')' > {};
struct option_params : seq< one< '(' >, sp, opt< option_param, opt< variadic_dots >, sp, star< one< ',' >, sp, must< option_param >, opt< variadic_dots >, sp > >, must< option_params_close > > {};
struct option_open : one< '{' > {};
struct also_layer : ident {};
struct also_field : ident {};
struct option_also : seq< one< ',' >, sp, must< also_layer >, must< option_dot >, must< also_field >, sp > {};  // `option a.x, b.y NAME`
struct option_stmt : seq< kw_option, sp, must< option_layer >, must< option_dot >, must< option_field >, sp, star< option_also >, must< option_name >, sp, opt< option_params, sp >, opt< layer_doc, sp >, must< option_open >, layer_fields > {};

// --------------------------------------------------------------- statements
// What may follow a statement: the next statement, or the end of the input.
// `fragment` starts a statement only before a layer name: `fragment(p, 8)` is a call.
struct fragment_start : seq< kw_fragment, at< sp, ident > > {};
struct stmt_start : sor< kw_param, kw_let, kw_packet, kw_layer, kw_option, kw_bind, kw_reply, fragment_start, kw_show, kw_hexdump, kw_write, kw_send, kw_sr, kw_sniff, kw_lua > {};
struct stmt_next : sor< eof, stmt_start > {};
struct value_start : sor< ident, digit, one< '"', '[', '(' > > {};

struct keyword_typo : ident {};  // its action raises for a misspelt statement keyword
// `p.tcp.window = 1` where a statement goes: a Lua assignment without `lua` (its action raises).
struct lua_assign : seq< ident, plus< one< '.' >, ident >, star< one< ' ', '\t' > >, one< '=' >, not_at< one< '=' > > > {};

// A lookahead after a statement: succeeds, consuming nothing, before the next
// statement or the end; otherwise raises at the next token, with the first of
// Checks that raises, or with stmt_next's message.
template< typename... Checks >
struct stmt_end : sor< at< sp, stmt_next >, seq< sp, opt< lua_assign >, opt< keyword_typo, failure >, Checks..., raise< stmt_next > > > {};

struct missing_slash : seq< at< value_start >, raise< missing_slash > > {};
struct missing_comma : seq< at< value_start >, raise< missing_comma > > {};
struct send_option_word : ident {};  // its action names the word
struct unknown_send_option : seq< send_option_word, raise< send_option_word > > {};
struct value_end : stmt_end< opt< missing_slash > > {};
struct targets_end : stmt_end< opt< missing_comma > > {};
struct send_end : stmt_end< opt< unknown_send_option >, opt< missing_comma > > {};
struct plain_end : stmt_end<> {};

struct decl_eq : one< '=' > {};
struct param_name : ident {};
struct param_stmt : seq< kw_param, sp, must< param_name >, sp, must< decl_eq >, sp, must< eq_value >, value_end > {};
struct let_name : ident {};
struct let_stmt : seq< kw_let, sp, must< let_name >, sp, must< decl_eq >, sp, must< eq_value >, value_end > {};
struct packet_name : ident {};
struct packet_stmt : seq< kw_packet, sp, must< packet_name >, sp, must< decl_eq >, sp, must< eq_value >, value_end > {};

struct bind_lower : ident {};
struct bind_dot : one< '.' > {};
struct bind_field : ident {};
struct bind_eq : one< '=' > {};
struct bind_arrow : TAO_PEGTL_STRING( "->" ) {};
struct bind_upper : ident {};
struct bind_when_rule : seq< rx_expr > {};
struct bind_when : seq< kw_when, sp, must< bind_when_rule > > {};
// `bind LOWER -> UPPER`: no field; UPPER always follows LOWER (a length prefix, say).
struct bind_on : seq< bind_dot, must< bind_field >, sp, must< bind_eq >, sp, must< eq_value >, sp > {};
struct bind_stmt : seq< kw_bind, sp, must< bind_lower >, sor< bind_on, sp >, must< bind_arrow >, sp, must< bind_upper >, opt< sp, bind_when >, plain_end > {};

// `reply LAYER [quoted] [to PROBE] [when RULE] { COND; ... }`: when a received
// packet answers a sent one (or, `quoted`, when a quote inside an error
// message is of it); `to PROBE` when the probe's layer has another name (a
// neighbour advertisement answers a solicitation). Conditions are rules
// over the reply's fields and `sent.FIELD`.
struct reply_layer : ident {};
struct reply_quoted : seq< kw_quoted > {};
struct reply_probe : ident {};
struct reply_to : seq< kw_to, sp, must< reply_probe > > {};
struct reply_when_rule : seq< rx_expr > {};
struct reply_when : seq< kw_when, sp, must< reply_when_rule > > {};
struct reply_quotes_sent : seq< kw_sent > {};
struct reply_quotes : seq< kw_payload, sp, kw_quotes, sp, must< reply_quotes_sent > > {};
struct reply_cond : seq< rx_expr > {};
struct reply_item : sor< reply_quotes, reply_cond > {};
struct reply_open : one< '{' > {};
struct reply_close : one< '}' > {};
struct reply_body : seq< star< reply_item, sp, opt< one< ';' >, sp > >, must< reply_close > > {};
struct reply_stmt : seq< kw_reply, sp, must< reply_layer >, sp, opt< reply_quoted, sp >, opt< reply_to, sp >, opt< reply_when, sp >, must< reply_open >, sp, reply_body, plain_end > {};

// `fragment LAYER [with HEADER] { offset = FIELD; more = FIELD[.FLAG]; id = FIELD }`:
// how fragment(P, SIZE) splits LAYER's payload; the fields are the
// header's when one is inserted after LAYER to carry them.
struct frag_layer : ident {};
struct frag_header : ident {};
struct frag_with : seq< kw_with, sp, must< frag_header > > {};
struct frag_key : ident {};
struct frag_eq : one< '=' > {};
struct frag_field : ident {};
struct frag_flag : ident {};
struct frag_item : seq< frag_key, sp, must< frag_eq >, sp, must< frag_field >, opt< one< '.' >, must< frag_flag > > > {};
struct frag_open : one< '{' > {};
struct frag_close : one< '}' > {};
struct frag_body : seq< star< frag_item, sp, opt< one< ';' >, sp > >, must< frag_close > > {};
struct fragment_stmt : seq< kw_fragment, sp, must< frag_layer >, sp, opt< frag_with, sp >, must< frag_open >, sp, frag_body, plain_end > {};
struct fragment_decl : seq< at< fragment_start >, fragment_stmt > {};

struct target : seq< value > {};
struct targets : seq< must< target >, star< sp, one< ',' >, sp, must< target > > > {};
struct show_stmt : seq< kw_show, sp, targets, targets_end > {};
struct hexdump_stmt : seq< kw_hexdump, sp, targets, targets_end > {};
struct write_to : seq< kw_to > {};
struct write_path : seq< string_lit > {};
struct write_stmt : seq< kw_write, sp, targets, sp, must< write_to >, sp, must< write_path >, plain_end > {};

struct count_value : seq< value > {};
struct interval_value : seq< value > {};
struct threads_value : seq< value > {};
struct iface_name : seq< ascii::alpha, star< sor< ascii::alnum, one< '_', '.', ':', '-' > > > > {};
struct iface_string : seq< string_lit > {};
struct iface : sor< iface_string, iface_name > {};
struct send_count : seq< kw_count, sp, must< count_value > > {};
struct send_interval : seq< kw_interval, sp, must< interval_value > > {};
struct send_on : seq< kw_on, sp, must< iface > > {};
// `rate 100kpps`, `rate 1.5Mbit`: a rate literal (number and unit, one
// token), or a value (a name or a string) that the interpreter reads as one.
struct rate_unit : seq< sor< TAO_PEGTL_STRING( "pps" ), TAO_PEGTL_STRING( "kpps" ), TAO_PEGTL_STRING( "Mpps" ), TAO_PEGTL_STRING( "Gpps" ),
                             TAO_PEGTL_STRING( "bit" ), TAO_PEGTL_STRING( "kbit" ), TAO_PEGTL_STRING( "Mbit" ), TAO_PEGTL_STRING( "Gbit" ) >,
                        not_at< identifier_other > > {};
struct rate_lit : seq< plus< digit >, opt< one< '.' >, plus< digit > >, must< rate_unit > > {};
struct rate_value : sor< rate_lit, value > {};
struct send_rate : seq< kw_rate, sp, must< rate_value > > {};
struct send_threads : seq< kw_threads, sp, must< threads_value > > {};
struct send_bypass : seq< kw_bypass > {};  // a word alone: PACKET_QDISC_BYPASS for frames sent `on IFACE`
struct send_stmt : seq< kw_send, sp, targets, star< sp, sor< send_count, send_interval, send_rate, send_on, send_threads, send_bypass > >, send_end > {};

struct filter_value : seq< value > {};
struct timeout_value : seq< value > {};
struct sniff_filter : seq< kw_filter, sp, must< filter_value > > {};
struct sniff_timeout : seq< kw_timeout, sp, must< timeout_value > > {};
struct sniff_option_word : ident {};  // its action names the word
struct unknown_sniff_option : seq< sniff_option_word, raise< sniff_option_word > > {};
struct sniff_end : stmt_end< opt< unknown_sniff_option > > {};
struct sniff_stmt : seq< kw_sniff, star< sp, sor< send_on, sniff_filter, send_count, sniff_timeout > >, sniff_end > {};

// `sr P [timeout T] [retry N] [interval T] [on IFACE]`: send, match the replies, print them.
struct retry_value : seq< value > {};
struct sr_timeout : seq< kw_timeout, sp, must< timeout_value > > {};
struct sr_retry : seq< kw_retry, sp, must< retry_value > > {};
struct sr_option_word : ident {};  // its action names the word
struct unknown_sr_option : seq< sr_option_word, raise< sr_option_word > > {};
struct sr_end : stmt_end< opt< unknown_sr_option >, opt< missing_comma > > {};
struct sr_stmt : seq< kw_sr, sp, targets, star< sp, sor< sr_timeout, sr_retry, send_interval, send_on > >, sr_end > {};

// lua { ... }: the text up to the matching '}', skipping Lua strings,
// long brackets [[..]] [==[..]==] and comments -- and --[[..]].
struct lua_long : raw_string< '[', '=', ']' > {};
struct lua_long_comment : seq< two< '-' >, lua_long > {};
struct lua_line_comment : seq< two< '-' >, until< eolf > > {};
struct lua_sq : seq< one< '\'' >, star< sor< seq< one< '\\' >, any >, not_one< '\'', '\\', '\n' > > >, one< '\'' > > {};
struct lua_dq : seq< one< '"' >, star< sor< seq< one< '\\' >, any >, not_one< '"', '\\', '\n' > > >, one< '"' > > {};
struct lua_close : one< '}' > {};
struct lua_code;
struct lua_nested : seq< one< '{' >, lua_code, must< lua_close > > {};
struct lua_plain : plus< not_one< '{', '}', '[', '-', '\'', '"' > > {};
struct lua_item : sor< lua_plain, lua_long_comment, lua_line_comment, lua_long, lua_sq, lua_dq, lua_nested, one< '[', '-', '\'', '"' > > {};
struct lua_code : star< lua_item > {};
struct lua_text : seq< lua_code > {};
struct lua_open : one< '{' > {};
struct lua_stmt : seq< kw_lua, sp, must< lua_open >, lua_text, must< lua_close >, plain_end > {};

struct layer_decl : seq< layer_stmt, plain_end > {};
struct option_decl : seq< option_stmt, plain_end > {};
struct dsl_stmt : sor< param_stmt, let_stmt, packet_stmt, layer_decl, option_decl, bind_stmt, reply_stmt, fragment_decl, show_stmt, hexdump_stmt, write_stmt, send_stmt, sr_stmt, sniff_stmt, lua_stmt > {};
struct stmt : seq< dsl_stmt > {};
// The REPL also takes a bare expression (it prints its show); a script does
// not, so that `ipv4() tcp()` is a missing '/', not two statements.
struct expr_stmt : seq< value, value_end > {};
struct repl_stmt : sor< dsl_stmt, lua_assign, expr_stmt > {};

// ---------------------------------------------------------------- top level
struct script_end : eof {};
struct script : seq< sp, star< stmt, sp >, opt< lua_assign >, opt< keyword_typo, failure >, must< script_end > > {};
struct repl_end : eof {};
struct repl_input : seq< sp, star< repl_stmt, sp >, must< repl_end > > {};
struct expression_end : eof {};
struct expression : seq< sp, must< value >, sp, must< expression_end > > {};

// clang-format on

}  // namespace pkt::grammar
