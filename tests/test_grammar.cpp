// The grammar: rules one by one (like PEGTL's verify_rule), the absence of
// cycles (pegtl::analyze), the AST of parse_script/parse_expression, and
// the errors with their positions.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/analyze.hpp>

#include "errors.hpp"
#include "parse.hpp"
#include "rules.hpp"

namespace g = pkt::grammar;
namespace pegtl = tao::pegtl;
using pkt::ast::Expr;
using pkt::ast::ExprPtr;
using pkt::ast::Stmt;
using Kind = Expr::Kind;

// ------------------------------------------------------------------ helpers

enum class Result { success, local_failure, global_failure };

// Match Rule at the start of `input`: the result and how many bytes are left.
template <typename Rule>
void verify(const std::string& input, Result expected, std::size_t remain = 0) {
  INFO("input: " << input);
  pegtl::memory_input in(input, "test");
  Result result;
  try {
    result = pegtl::parse<Rule, pegtl::nothing, g::control>(in) ? Result::success : Result::local_failure;
  } catch (const pegtl::parse_error&) {
    result = Result::global_failure;
  }
  CHECK(result == expected);
  if (result != Result::global_failure && expected != Result::global_failure) {
    CHECK(in.size() == (expected == Result::success ? remain : input.size()));
  }
}

template <typename Rule>
void ok(const std::string& input, std::size_t remain = 0) {
  verify<Rule>(input, Result::success, remain);
}
template <typename Rule>
void no(const std::string& input) {
  verify<Rule>(input, Result::local_failure);
}
template <typename Rule>
void raises(const std::string& input) {
  verify<Rule>(input, Result::global_failure);
}

pkt::ast::Script script(const std::string& text) {
  return pkt::parse_script(pkt::Source::make("test.pkt", text));
}

ExprPtr expr(const std::string& text) {
  return pkt::parse_expression(pkt::Source::make("<expr>", text));
}

std::string hex(const std::string& bytes) {
  std::string out;
  char buf[4];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

// A compact rendering of an expression, to compare whole trees at once.
std::string show(const ExprPtr& e) {
  auto join = [](const std::vector<ExprPtr>& items, const char* sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + show(items[i]);
    return out;
  };
  switch (e->kind) {
    case Kind::Int: return std::to_string(e->i);
    case Kind::NegInt: return "-" + std::to_string(e->i);
    case Kind::Duration: return std::to_string(e->i) + "ns";
    case Kind::String: return "\"" + e->s + "\"";
    case Kind::Bytes: return "bytes:" + hex(e->s);
    case Kind::File: return "file:" + e->s;
    case Kind::IPv4: return "ip4:" + hex(e->s);
    case Kind::IPv6: return "ip6:" + hex(e->s);
    case Kind::MAC: return "mac:" + hex(e->s);
    case Kind::Name: return e->s;
    case Kind::Member: return show(e->items.at(0)) + "." + e->s;
    case Kind::Call: {
      std::string out = e->s + "(";
      for (std::size_t i = 0; i < e->args.size(); ++i) {
        if (i) out += ", ";
        if (e->args[i].word) out += e->args[i].name + " ";
        else if (!e->args[i].name.empty()) out += e->args[i].name + "=";
        out += show(e->args[i].value);
      }
      return out + ")";
    }
    case Kind::List: return "[" + join(e->items, ", ") + "]";
    case Kind::Range: return "(" + join(e->items, "..") + ")";
    case Kind::Repeat: return "(" + join(e->items, " * ") + ")";
    case Kind::Or: return "(" + join(e->items, "|") + ")";
    case Kind::Stack: return "(" + join(e->items, " / ") + ")";
    case Kind::Binary: return "(" + show(e->items.at(0)) + " " + e->op + " " + show(e->items.at(1)) + ")";
  }
  return "?";
}

std::string show_expr(const std::string& text) { return show(expr(text)); }

struct Error {
  std::string message;
  std::uint32_t line = 0, col = 0;
  bool at_eof = false;
};

Error script_error(const std::string& text) {
  try {
    script(text);
  } catch (const pkt::ScriptError& e) {
    return {e.what(), e.pos().line, e.pos().col, e.at_eof()};
  }
  FAIL("no error for: " << text);
  return {};
}

Error expr_error(const std::string& text) {
  try {
    expr(text);
  } catch (const pkt::ScriptError& e) {
    return {e.what(), e.pos().line, e.pos().col, e.at_eof()};
  }
  FAIL("no error for: " << text);
  return {};
}

// The examples of the language description: all of them must parse.
const char* const kExamples = R"PKT(# comments start with '#'
param dst = 127.0.0.1                 # a parameter
let msg = "This is a message, is this hidden??"

packet syn = ipv4(src=127.0.0.1, dst=dst, id=12345, ttl=64)
           / tcp(sport=54321, dport=7777, seq=454, flags=SYN, window=56535)
           / msg

packet chaos = ipv4(dst=dst, proto=16, id=12345) / "This is a message"
packet bad   = ipv4(dst=dst, checksum=0xdead) / udp(sport=1, dport=53) / hex"00 01 02"
packet synack = ipv4(dst=dst) / tcp(dport=80, flags=SYN|ACK, options=[mss(1460), nop, wscale(7), sackok, timestamp(1, 2)])
packet l2    = eth(dst=ff:ff:ff:ff:ff:ff, src=02:00:00:00:00:01) / arp(op=1, sha=02:00:00:00:00:01, spa=127.0.0.1, tpa=127.0.0.2)
packet v6    = ipv6(src=::1, dst=::1, hlim=5) / udp(sport=7, dport=7) / base64"SGVsbG8="

packet scan  = ipv4(dst=dst) / tcp(dport=1..1024, flags=SYN)              # a range: 1024 packets
packet sweep = ipv4(dst=dst, ttl=[1, 2, 3]) / udp(dport=[53, 123])       # lists: 6 packets

show syn
hexdump syn
write syn, scan to "out.pcap"

layer hello "A toy protocol over UDP port 9999" {
    magic    : u16 = 0xbeef
    kind     : u8 enum { ping = 1, pong = 2 } = ping
    flags    : u8 flags { URGENT = 0x02, ACK = 0x01 } = 0
    length   : u16 = auto len(this, payload)
    checksum : u16 = auto inet_checksum(this, payload)
}
bind udp.dport = 9999 -> hello

packet h = ipv4(src=127.0.0.1, dst=127.0.0.1, id=1) / udp(sport=1234) / hello(kind=pong, flags=URGENT|ACK) / "hi"

layer ipv4x "IPv4" {
    version : u4 = 4
    ihl     : u4 = auto len(this) / 4
    options : bytes align 4
    checksum: u16 = auto inet_checksum(this)
    pseudo = src, dst, u8(0), u8(proto), u16(len(payload))
}
option tcp.options mss(value) "Maximum segment size" { kind : u8 = 2; length : u8 = auto len(this); value : u16 }
option tcp.options sack(edges...) { kind : u8 = 5  length : u8 = auto len(this)  edges : u32[] }
option tcp.options nop { kind : u8 = 1 }
send p count 3 interval 10ms
send p on eth0
lua {
  for i = 1, 5 do p.udp.dport = 9000 + i; local t = { a = "}" } end -- a } in a comment
  local s = [[ } ]]
}
packet x = "A" * 100
packet f = ipv4() / file("payload.bin")
packet gg = ipv6(dst=fe80::1) / udp(checksum=nonzero(1, 0xffff))
)PKT";

// --------------------------------------------------------------- rule level

TEST_CASE("grammar has no cycles without progress", "[grammar][analyze]") {
  CHECK(pegtl::analyze<g::script>(-1) == 0);
  CHECK(pegtl::analyze<g::repl_input>(-1) == 0);
  CHECK(pegtl::analyze<g::expression>(-1) == 0);
}

TEST_CASE("rule: whitespace and comments", "[grammar][rule]") {
  ok<g::sp>("  \t\n# comment\n  x", 1);
  ok<g::sp>("# only a comment");
  ok<g::sp>("x", 1);
  ok<g::comment>("# to the end\nx", 1);
}

TEST_CASE("rule: identifiers and keywords", "[grammar][rule]") {
  ok<g::ident>("abc_1 x", 2);
  ok<g::ident>("_x", 0);
  no<g::ident>("1abc");
  ok<g::kw_show>("show p", 2);
  ok<g::kw_show>("show(p)", 3);
  no<g::kw_show>("shown");
  no<g::kw_packet>("packets");
}

TEST_CASE("rule: strings", "[grammar][rule]") {
  ok<g::string_lit>(R"("abc" x)", 2);
  ok<g::string_lit>(R"("a\"b" x)", 2);
  ok<g::string_lit>(R"("a\\" x)", 2);
  ok<g::string_lit>(R"("" )", 1);
  no<g::string_lit>("abc");
  raises<g::string_lit>("\"abc");
  raises<g::string_lit>("\"ab\ncd\"");
  raises<g::string_lit>("\"ab\\");
}

TEST_CASE("rule: hex and base64 strings", "[grammar][rule]") {
  ok<g::hex_lit>(R"(hex"de ad be ef" x)", 2);
  ok<g::hex_lit>(R"(hex"deadbeef")");
  ok<g::hex_lit>(R"(hex"")");
  ok<g::hex_lit>("hex\"  00\n 01 \"");
  no<g::hex_lit>("hexdump");
  no<g::hex_lit>("hex \"00\"");
  raises<g::hex_lit>(R"(hex"abc")");
  raises<g::hex_lit>(R"(hex"zz")");
  raises<g::hex_lit>(R"(hex"00)");
  ok<g::base64_lit>(R"(base64"SGVsbG8=" x)", 2);
  raises<g::base64_lit>(R"(base64"SGV*")");
}

TEST_CASE("rule: address candidates", "[grammar][rule]") {
  ok<g::ipv4_cand>("127.0.0.1)", 1);
  ok<g::ipv4_cand>("256.1.1.1");  // a candidate; the action rejects it
  ok<g::ipv4_cand>("1.2.3", 0);
  ok<g::ipv4_cand>("1.2.", 1);
  no<g::ipv4_cand>("1..5");
  no<g::ipv4_cand>("15");
  raises<g::ipv4_cand>("1.2.3.4x");
  ok<g::colon_cand>("ff:ff:ff:ff:ff:ff, x", 3);
  ok<g::colon_cand>("::1)", 1);
  ok<g::colon_cand>("::ffff:1.2.3.4");
  ok<g::colon_cand>("fe80::1", 0);
  ok<g::colon_cand>("::1..::5", 5);
  ok<g::colon_cand>("::gg");
  no<g::colon_cand>("dst");
  no<g::colon_cand>("dst = 1");
}

TEST_CASE("rule: numbers and durations", "[grammar][rule]") {
  ok<g::number>("42");
  ok<g::number>("42)", 1);
  ok<g::number>("0x2a, y", 3);
  ok<g::number>("0b101");
  ok<g::number>("10ms");
  ok<g::number>("10s x", 2);
  ok<g::number>("5ns");
  ok<g::number>("7us");
  ok<g::number>("1..5", 3);
  no<g::number>("x1");
  raises<g::number>("10m");
  raises<g::number>("12abc");
  raises<g::number>("0x");
  raises<g::number>("0b2");
  raises<g::number>("10msx");
}

TEST_CASE("rule: value expressions", "[grammar][rule]") {
  ok<g::value>("a / b / c");
  ok<g::value>("a\n  / b # comment\n  / c\nshow x", 7);
  ok<g::value>("SYN|ACK x", 2);
  ok<g::value>("1..1024");
  ok<g::value>("1 .. 1024");
  ok<g::value>("\"A\" * 100");
  ok<g::value>("[1, 2, 3,]");
  ok<g::value>("[]");
  ok<g::value>("(a / b)");
  ok<g::value>("ipv4(dst=1.2.3.4, ttl=64) x", 2);
  ok<g::value>("tcp()");
  ok<g::value>("tcp ( dport = 80 , )");
  ok<g::value>("p.udp.dport");
  ok<g::value>("a..b");
  ok<g::value>("file(\"x.bin\")");
  ok<g::value>("x to", 3);
  no<g::value>(")");
  no<g::value>("");
  raises<g::value>("a /");
  raises<g::value>("a |");
  raises<g::value>("a *");
  raises<g::value>("a ..");
  raises<g::value>("[1 2]");
  raises<g::value>("f(a b)");
  raises<g::value>("f(a=)");
  raises<g::value>("p.");
  raises<g::value>("file(x)");
}

TEST_CASE("rule: rule expressions", "[grammar][rule]") {
  ok<g::rx_expr>("len(this) / 4 x", 2);
  ok<g::rx_expr>("a + b * (c - 1)");
  ok<g::rx_expr>("nonzero(inet_checksum(pseudo, this, payload), 0xffff)");
  ok<g::rx_expr>("len()");
  raises<g::rx_expr>("a -");
  raises<g::rx_expr>("f(a b)");
  raises<g::rx_expr>("(a");
}

TEST_CASE("rule: field declarations", "[grammar][rule]") {
  ok<g::field_decl>("flags : u3 flags { RF = 4, DF = 2, MF = 1 } = 0");
  ok<g::field_decl>("kind : u8 enum { ping = 1, pong = 2, } = ping \"doc\"");
  ok<g::field_decl>("x : u8 align 4 flags { A = 1 } enum { b = 2 }");
  ok<g::field_decl>("edges : u32[]");
  ok<g::field_decl>("len : u16 = auto len(this) / 4");
  ok<g::field_decl>("x : u8\nflags : u8", 11);
  ok<g::field_decl>("x : u8\nenum : u8", 10);
  ok<g::field_decl>("x : u8\nalign : u8", 11);
  ok<g::field_decl>("x : u8 = 1\n   \"doc on the next line\"");
  raises<g::field_decl>("x u8");
  raises<g::field_decl>("x : = 1");
  raises<g::field_decl>("x : u8 enum { a = 1 b = 2 }");
  raises<g::field_decl>("x : u8 =");
  raises<g::field_decl>("x : u8 = auto");
}

TEST_CASE("rule: lua blocks", "[grammar][rule]") {
  ok<g::lua_stmt>("lua { x = 1 } show y", 7);
  raises<g::lua_stmt>("lua { x = 1 } y");
  ok<g::lua_stmt>("lua { t = { a = '}' } }");
  ok<g::lua_stmt>("lua { s = \"\\\"}\" }");
  ok<g::lua_stmt>("lua { -- } comment\n }");
  ok<g::lua_stmt>("lua { --[[ } ]] }");
  ok<g::lua_stmt>("lua { --[==[ ]] } ]==] }");
  ok<g::lua_stmt>("lua { s = [=[ ]] } ]=] }");
  ok<g::lua_stmt>("lua { a = b[1] - c[ [[x]] ] }");
  ok<g::lua_stmt>("lua {}");
  no<g::lua_stmt>("luax {}");
  raises<g::lua_stmt>("lua { x = 1");
  raises<g::lua_stmt>("lua { if x then { }");
  raises<g::lua_stmt>("lua x");
}

TEST_CASE("rule: statements", "[grammar][rule]") {
  ok<g::stmt>("param dst = 127.0.0.1 show x", 7);  // ends before the next statement
  ok<g::stmt>("param dst = 127.0.0.1 # a comment\n", 13);
  no<g::stmt>("shown");                 // an expression named `shown`: only in the REPL
  ok<g::repl_stmt>("shown");
  ok<g::stmt>("show a, b hexdump c", 10);
  ok<g::stmt>("write a to \"x.pcap\"");
  ok<g::stmt>("send p interval 1s count 2 on \"eth0\"");
  ok<g::stmt>("send p on veth-a.1:x\nlua {}", 7);
  ok<g::stmt>("send p rate 100kpps count 2");
  ok<g::stmt>("send p rate 1.5Mbit");
  ok<g::stmt>("send p rate r");        // a name: read as a rate when the send runs
  ok<g::stmt>("send p rate \"2Mpps\"");
  raises<g::stmt>("send p rate 100");   // a number needs its unit
  raises<g::stmt>("send p rate 10kbps");
  raises<g::stmt>("send p rate 1Mbits");
  ok<g::stmt>("send p on lo bypass");
  ok<g::stmt>("send p bypass count 2\nshow p", 7);
  raises<g::stmt>("send p on lo bypassing");
  // A statement never ends silently before a word it does not know.
  raises<g::stmt>("param dst = 127.0.0.1 x");
  raises<g::stmt>("packet p = ipv4() tcp()");
  raises<g::stmt>("show a, b c");
  raises<g::stmt>("send p count 3 burst 2");
  ok<g::stmt>("send p count 3 threads 2");
  ok<g::stmt>("send p threads n on lo");
  raises<g::stmt>("send p threads");
  raises<g::stmt>("send p on veth-a.1:x y");
  raises<g::stmt>("write a to \"x.pcap\" b");
  raises<g::stmt>("bind udp.dport = 1 -> hello x");
  raises<g::stmt>("layer l {} x");
  raises<g::stmt>("lua {} )");
  raises<g::repl_stmt>("ipv4() tcp()");
  ok<g::stmt>("bind udp.dport = 9999 -> hello");
  ok<g::stmt>("option tcp.options nop() { kind : u8 = 1 }");
  ok<g::stmt>("layer empty {}");
  ok<g::stmt>("layer l { pseudo : u8 pseudo = pseudo }");
  raises<g::stmt>("packet = ipv4()");
  raises<g::stmt>("packet p ipv4()");
  raises<g::stmt>("write a \"x\"");
  raises<g::stmt>("bind udp.dport = 1 hello");
  raises<g::stmt>("layer l { x }");
  raises<g::stmt>("send p on");
  ok<g::script>(kExamples);
  ok<g::script>("");
  ok<g::script>("  # nothing\n");
  ok<g::script>("let x=1 let y=2 show x,y");
  raises<g::script>("show p )");
  raises<g::script>("ipv4() / tcp()");  // a bare expression: only in the REPL
  ok<g::repl_input>("ipv4() / tcp()");
  ok<g::repl_input>("ipv4() show p");
  raises<g::repl_input>("ipv4() tcp()");
}

// ---------------------------------------------------------------- AST level

TEST_CASE("ast: literals", "[grammar][ast]") {
  CHECK(show_expr("42") == "42");
  CHECK(show_expr("0x2a") == "42");
  CHECK(show_expr("0b101010") == "42");
  CHECK(show_expr("18446744073709551615") == "18446744073709551615");
  CHECK(show_expr("0xffffffffffffffff") == "18446744073709551615");
  CHECK(show_expr("10ms") == "10000000ns");
  CHECK(show_expr("1s") == "1000000000ns");
  CHECK(show_expr("500us") == "500000ns");
  CHECK(show_expr("20ns") == "20ns");
  CHECK(show_expr(R"("a\tb\n\x41\0\\\"\'")") == std::string("\"a\tb\nA") + '\0' + "\\\"'\"");
  CHECK(show_expr(R"(hex"de ad BE EF")") == "bytes:deadbeef");
  CHECK(show_expr(R"(hex"")") == "bytes:");
  CHECK(show_expr(R"(base64"SGVsbG8=")") == "bytes:" + hex("Hello"));
  // Padding is required (RFC 4648), as in Lua's base64.decode: one decoder serves both.
  CHECK(expr_error(R"(base64"SGVsbG8")").message.rfind("invalid base64", 0) == 0);
  CHECK(show_expr(R"(base64"SGVs bG8h")") == "bytes:" + hex("Hello!"));
  CHECK(show_expr(R"(file("payload.bin"))") == "file:payload.bin");
  CHECK(show_expr("127.0.0.1") == "ip4:7f000001");
  CHECK(show_expr("255.255.255.255") == "ip4:ffffffff");
  CHECK(show_expr("ff:ff:ff:ff:ff:ff") == "mac:ffffffffffff");
  CHECK(show_expr("02:00:00:00:00:0A") == "mac:02000000000a");
  CHECK(show_expr("::1") == "ip6:00000000000000000000000000000001");
  CHECK(show_expr("fe80::1") == "ip6:fe800000000000000000000000000001");
  CHECK(show_expr("::ffff:1.2.3.4") == "ip6:00000000000000000000ffff01020304");
  CHECK(show_expr("1:2:3:4:5:6:7:8") == "ip6:00010002000300040005000600070008");
}

TEST_CASE("ast: value expressions", "[grammar][ast]") {
  CHECK(show_expr("a") == "a");
  CHECK(show_expr("tcp()") == "tcp()");
  CHECK(expr("tcp()")->kind == Kind::Call);
  CHECK(expr("tcp")->kind == Kind::Name);
  CHECK(show_expr("ipv4(dst=1.2.3.4, 5) / tcp(dport=1..1024, flags=SYN|ACK) / \"x\"") ==
        "(ipv4(dst=ip4:01020304, 5) / tcp(dport=(1..1024), flags=(SYN|ACK)) / \"x\")");
  CHECK(show_expr("\"A\" * 100") == "(\"A\" * 100)");
  CHECK(show_expr("[1, 2, 3,]") == "[1, 2, 3]");
  CHECK(show_expr("[]") == "[]");
  CHECK(show_expr("a | b | c") == "(a|b|c)");
  CHECK(show_expr("(a / b) / c") == "((a / b) / c)");
  CHECK(show_expr("a | b / c * 2") == "((a|b) / (c * 2))");
  CHECK(show_expr("1..3 * 2") == "((1..3) * 2)");
  CHECK(show_expr("p.udp.dport") == "p.udp.dport");
  CHECK(show_expr("f(x).y") == "f(x).y");
  CHECK(show_expr("10.0.0.1..10.0.0.5") == "(ip4:0a000001..ip4:0a000005)");
  CHECK(show_expr("::1..::5") == "(ip6:00000000000000000000000000000001..ip6:00000000000000000000000000000005)");
  CHECK(show_expr("tcp(options=[mss(1460), nop, timestamp(1, 2)])") ==
        "tcp(options=[mss(1460), nop, timestamp(1, 2)])");
  CHECK(show_expr("  # leading comment\n a # trailing\n") == "a");

  auto e = expr("ipv4(dst=1.2.3.4)\n  / udp(dport = 53).sport");
  REQUIRE(e->kind == Kind::Stack);
  CHECK(e->pos.line == 1);
  CHECK(e->pos.col == 1);
  const auto& call = e->items.at(0);
  REQUIRE(call->args.size() == 1);
  CHECK(call->args[0].name == "dst");
  CHECK(call->args[0].pos.col == 6);
  CHECK(call->args[0].value->pos.col == 10);
  CHECK(call->args[0].value->pos.offset == 9);
  const auto& member = e->items.at(1);
  CHECK(member->kind == Kind::Member);
  CHECK(member->s == "sport");
  CHECK(member->pos.line == 2);
  CHECK(member->pos.col == 21);
  CHECK(member->items.at(0)->pos.line == 2);
  CHECK(member->items.at(0)->pos.col == 5);
  CHECK(member->items.at(0)->pos.src == e->pos.src);
}

TEST_CASE("ast: statements of the examples", "[grammar][ast]") {
  const auto s = script(kExamples);
  REQUIRE(s.stmts.size() == 26);
  const auto& st = s.stmts;

  CHECK(st[0].kind == Stmt::Kind::Param);
  CHECK(st[0].name == "dst");
  CHECK(st[0].name_pos.line == 2);
  CHECK(st[0].name_pos.col == 7);
  CHECK(st[0].pos.col == 1);
  CHECK(show(st[0].value) == "ip4:7f000001");
  CHECK(st[1].kind == Stmt::Kind::Let);
  CHECK(show(st[1].value) == "\"This is a message, is this hidden??\"");

  CHECK(st[2].kind == Stmt::Kind::Packet);
  CHECK(st[2].name == "syn");
  CHECK(show(st[2].value) ==
        "(ipv4(src=ip4:7f000001, dst=dst, id=12345, ttl=64) / "
        "tcp(sport=54321, dport=7777, seq=454, flags=SYN, window=56535) / msg)");
  CHECK(show(st[4].value) == "(ipv4(dst=dst, checksum=57005) / udp(sport=1, dport=53) / bytes:000102)");
  CHECK(show(st[5].value) ==
        "(ipv4(dst=dst) / tcp(dport=80, flags=(SYN|ACK), options=[mss(1460), nop, wscale(7), sackok, timestamp(1, 2)]))");
  CHECK(show(st[6].value) ==
        "(eth(dst=mac:ffffffffffff, src=mac:020000000001) / "
        "arp(op=1, sha=mac:020000000001, spa=ip4:7f000001, tpa=ip4:7f000002))");
  CHECK(show(st[7].value) ==
        "(ipv6(src=ip6:00000000000000000000000000000001, dst=ip6:00000000000000000000000000000001, hlim=5) / "
        "udp(sport=7, dport=7) / bytes:48656c6c6f)");
  CHECK(show(st[8].value) == "(ipv4(dst=dst) / tcp(dport=(1..1024), flags=SYN))");
  CHECK(show(st[9].value) == "(ipv4(dst=dst, ttl=[1, 2, 3]) / udp(dport=[53, 123]))");

  CHECK(st[10].kind == Stmt::Kind::Show);
  REQUIRE(st[10].targets.size() == 1);
  CHECK(show(st[10].targets[0]) == "syn");
  CHECK(st[11].kind == Stmt::Kind::Hexdump);
  CHECK(st[12].kind == Stmt::Kind::Write);
  REQUIRE(st[12].targets.size() == 2);
  CHECK(show(st[12].targets[1]) == "scan");
  CHECK(st[12].path == "out.pcap");
  CHECK(st[12].path_pos.line == 20);
  CHECK(st[12].path_pos.col == 20);

  const auto& hello = st[13];
  CHECK(hello.kind == Stmt::Kind::Layer);
  REQUIRE(hello.layer);
  CHECK(hello.name == "hello");
  CHECK(hello.layer->name == "hello");
  CHECK(!hello.layer->is_option);
  CHECK(hello.layer->doc == "A toy protocol over UDP port 9999");
  REQUIRE(hello.layer->fields.size() == 5);
  const auto& f = hello.layer->fields;
  CHECK(f[0].name == "magic");
  CHECK(f[0].type == "u16");
  CHECK(f[0].pos.line == 23);
  CHECK(f[0].pos.col == 5);
  CHECK(f[0].type_pos.col == 16);
  CHECK(show(f[0].default_value) == "48879");
  CHECK(!f[0].auto_rule);
  REQUIRE(f[1].enums.size() == 2);
  CHECK(f[1].enums[1].name == "pong");
  CHECK(show(f[1].enums[1].value) == "2");
  CHECK(show(f[1].default_value) == "ping");
  CHECK(f[2].name == "flags");
  REQUIRE(f[2].flags.size() == 2);
  CHECK(f[2].flags[0].name == "URGENT");
  CHECK(show(f[2].flags[0].value) == "2");
  CHECK(f[2].enums.empty());
  CHECK(show(f[3].auto_rule) == "len(this, payload)");
  CHECK(!f[3].default_value);
  CHECK(show(f[4].auto_rule) == "inet_checksum(this, payload)");
  CHECK(hello.layer->pseudo.empty());

  const auto& bind = st[14];
  CHECK(bind.kind == Stmt::Kind::Bind);
  CHECK(bind.bind_lower == "udp");
  CHECK(bind.bind_field == "dport");
  CHECK(show(bind.value) == "9999");
  CHECK(bind.bind_upper == "hello");
  CHECK(bind.bind_upper_pos.col == 26);

  CHECK(show(st[15].value) ==
        "(ipv4(src=ip4:7f000001, dst=ip4:7f000001, id=1) / udp(sport=1234) / "
        "hello(kind=pong, flags=(URGENT|ACK)) / \"hi\")");

  const auto& ipv4x = st[16].layer;
  REQUIRE(ipv4x);
  REQUIRE(ipv4x->fields.size() == 4);
  CHECK(show(ipv4x->fields[1].auto_rule) == "(len(this) / 4)");
  CHECK(ipv4x->fields[1].auto_rule->op == '/');
  CHECK(show(ipv4x->fields[2].align) == "4");
  CHECK(ipv4x->fields[2].type == "bytes");
  REQUIRE(ipv4x->pseudo.size() == 5);
  CHECK(show(ipv4x->pseudo[4]) == "u16(len(payload))");

  const auto& mss = st[17].layer;
  REQUIRE(mss);
  CHECK(mss->is_option);
  CHECK(mss->option_layer == "tcp");
  CHECK(mss->option_field == "options");
  CHECK(mss->name == "mss");
  CHECK(mss->params == std::vector<std::string>{"value"});
  CHECK(!mss->variadic);
  CHECK(mss->doc == "Maximum segment size");
  REQUIRE(mss->fields.size() == 3);
  CHECK(mss->fields[2].name == "value");
  const auto& sack = st[18].layer;
  CHECK(sack->params == std::vector<std::string>{"edges"});
  CHECK(sack->variadic);
  REQUIRE(sack->fields.size() == 3);
  CHECK(sack->fields[2].type == "u32[]");
  CHECK(st[19].layer->params.empty());
  CHECK(st[19].layer->fields.size() == 1);

  CHECK(st[20].kind == Stmt::Kind::Send);
  CHECK(show(st[20].count) == "3");
  CHECK(show(st[20].interval) == "10000000ns");
  CHECK(st[20].iface.empty());
  CHECK(st[21].iface == "eth0");
  CHECK(st[21].iface_pos.col == 11);
  CHECK(!st[21].count);

  CHECK(st[22].kind == Stmt::Kind::Lua);
  CHECK(st[22].code ==
        "\n  for i = 1, 5 do p.udp.dport = 9000 + i; local t = { a = \"}\" } end -- a } in a comment\n"
        "  local s = [[ } ]]\n");
  CHECK(st[22].code_pos.line == 45);
  CHECK(st[22].code_pos.col == 6);

  CHECK(show(st[23].value) == "(\"A\" * 100)");
  CHECK(show(st[24].value) == "(ipv4() / file:payload.bin)");
  CHECK(show(st[25].value) == "(ipv6(dst=ip6:fe800000000000000000000000000001) / udp(checksum=nonzero(1, 65535)))");
}

TEST_CASE("ast: other statements", "[grammar][ast]") {
  auto s = script("show p\nsend a, b on \"lo\" count 2\nlet x=1 let y=2");
  REQUIRE(s.stmts.size() == 4);
  CHECK(s.stmts[0].kind == Stmt::Kind::Show);
  CHECK(s.stmts[1].targets.size() == 2);
  CHECK(s.stmts[1].iface == "lo");
  CHECK_FALSE(s.stmts[1].bypass);
  CHECK(s.stmts[2].name == "x");
  CHECK(s.stmts[3].name == "y");
  CHECK(s.source->name == "test.pkt");

  // `bypass` is a word alone, anywhere among the send options.
  s = script("send p on lo bypass\nsend q bypass count 2 on eth0\nsend bypass");
  REQUIRE(s.stmts.size() == 3);
  CHECK(s.stmts[0].bypass);
  CHECK(s.stmts[0].bypass_pos.col == 14);
  CHECK(s.stmts[0].iface == "lo");
  CHECK(s.stmts[1].bypass);
  CHECK(s.stmts[1].iface == "eth0");
  CHECK_FALSE(s.stmts[2].bypass);  // a packet named bypass

  // A REPL line may be a bare expression (the REPL shows it).
  s = pkt::parse_repl_input(pkt::Source::make("<repl>", "\n q.r\nshow q"));
  REQUIRE(s.stmts.size() == 2);
  CHECK(s.stmts[0].kind == Stmt::Kind::Expr);
  CHECK(show(s.stmts[0].value) == "q.r");
  CHECK(s.stmts[0].pos.line == 2);
  CHECK(s.stmts[1].kind == Stmt::Kind::Show);
  CHECK(pkt::parse_repl_input(pkt::Source::make("<repl>", "shown")).stmts.at(0).kind == Stmt::Kind::Expr);

  s = script("layer l { flags : u3 flags { RF = 4, DF = 2, MF = 1 } = 0 pseudo = a + b * 2, c }");
  REQUIRE(s.stmts.size() == 1);
  REQUIRE(s.stmts[0].layer->fields.size() == 1);
  CHECK(s.stmts[0].layer->fields[0].name == "flags");
  CHECK(s.stmts[0].layer->fields[0].flags.size() == 3);
  CHECK(show(s.stmts[0].layer->pseudo[0]) == "(a + (b * 2))");
  CHECK(show(script("layer l { x : u8 = auto a - b - c }").stmts[0].layer->fields[0].auto_rule) ==
        "((a - b) - c)");
  CHECK(script("lua {}").stmts[0].code.empty());
  CHECK(script("").stmts.empty());
  CHECK(script("# only a comment").stmts.empty());
}

TEST_CASE("ast: the stdlib style parses", "[grammar][ast]") {
  const auto s = script(R"(
layer eth "Ethernet II frame header" {
    dst  : mac = ff:ff:ff:ff:ff:ff   "destination MAC address"
    type : u16 enum { ipv4 = 0x0800, arp = 0x0806 } = 0x9000
           "EtherType of the payload"
    # a comment between fields
    options  : bytes align 4                            "options"
    pseudo = src, dst, u8(0), u8(proto), u16(len(payload))
}
bind eth.type = 0x0806 -> arp
)");
  REQUIRE(s.stmts.size() == 2);
  const auto& f = s.stmts[0].layer->fields;
  REQUIRE(f.size() == 3);
  CHECK(f[0].doc == "destination MAC address");
  CHECK(f[1].doc == "EtherType of the payload");
  CHECK(show(f[1].default_value) == "36864");
  CHECK(f[2].doc == "options");
}

// ------------------------------------------------------------------- errors

TEST_CASE("errors: incomplete input is at eof", "[grammar][error]") {
  auto e = script_error("packet p = ipv4(ttl=");
  CHECK(e.message == "expected a value after '='");
  CHECK(e.at_eof);
  CHECK(e.line == 1);
  CHECK(e.col == 21);

  e = script_error("packet p = ipv4(ttl=\n  \n");  // points after the last token
  CHECK(e.at_eof);
  CHECK(e.line == 1);
  CHECK(e.col == 21);

  e = script_error("packet p = ipv4(ttl=1");
  CHECK(e.message == "expected ')', ',' or an argument (name=value or a value)");
  CHECK(e.at_eof);

  e = script_error("lua { x = 1");
  CHECK(e.message == "unterminated lua block: expected '}'");
  CHECK(e.at_eof);
  CHECK(e.col == 12);

  e = script_error("lua { x = { 1 }\n");
  CHECK(e.at_eof);

  e = script_error("show");
  CHECK(e.message == "expected a packet or value");
  CHECK(e.at_eof);

  e = script_error("layer x {\n  a : u8\n  # more to come\n");
  CHECK(e.at_eof);

  e = script_error("let s = \"abc");
  CHECK(e.message == "unterminated string: expected '\"'");
  CHECK(e.at_eof);
  CHECK(e.col == 13);

  e = script_error("let h = hex\"ab");
  CHECK(e.at_eof);

  e = script_error("send p count 3 interval");
  CHECK(e.message == "expected a time after 'interval' (e.g. 10ms)");
  CHECK(e.at_eof);
}

TEST_CASE("send ... rate R: the literal as written, its unit checked, not with interval", "[grammar][rate]") {
  auto st = script("send p rate 100kpps count 2\nsend q count 3 rate 1.5Gbit\nsend r rate x\n").stmts;
  REQUIRE(st.size() == 3);
  REQUIRE(st[0].rate);
  CHECK(st[0].rate->kind == pkt::ast::Expr::Kind::String);
  CHECK(st[0].rate->s == "100kpps");
  CHECK(st[0].rate->pos.col == 13);
  CHECK(st[1].rate->s == "1.5Gbit");
  CHECK(show(st[1].count) == "3");
  CHECK(st[2].rate->kind == pkt::ast::Expr::Kind::Name);

  const std::string units = "expected a rate unit after the number: pps, kpps, Mpps, Gpps (packets/s) or bit, kbit, Mbit, "
                            "Gbit (bits/s), e.g. 100kpps or 1Gbit";
  auto e = script_error("send p rate 10kbps");
  CHECK(e.message == units);
  CHECK(e.line == 1);
  CHECK(e.col == 15);
  e = script_error("send p rate 100 count 2");
  CHECK(e.message == units);
  CHECK(e.col == 16);
  e = script_error("send p rate 2mpps");
  CHECK(e.message == units);
  e = script_error("send p rate");
  CHECK(e.message == "expected a rate after 'rate' (e.g. 100kpps or 1Gbit)");
  e = script_error("send p interval 1ms rate 1kpps");
  CHECK(e.message == "'rate' and 'interval' cannot both be given: a rate is one packet every 1/rate");
  CHECK(e.col == 21);
  e = script_error("send p rate 1kpps count 2 interval 1ms");
  CHECK(e.message == "'interval' and 'rate' cannot both be given: a rate is one packet every 1/rate");
  CHECK(e.col == 27);
  e = script_error("send p rate 1kpps rate 2kpps");
  CHECK(e.message == "'rate' is given twice");
  e = script_error("send p rat 1kpps");
  CHECK(e.message == "unknown send option 'rat' (did you mean 'rate'?); expected count, interval, rate, on, threads or bypass");
}

TEST_CASE("errors: messages and positions", "[grammar][error]") {
  auto e = script_error("packet p = ipv4(dst=256.1.1.1)");
  CHECK(e.message == "invalid IPv4 address '256.1.1.1'");
  CHECK(e.line == 1);
  CHECK(e.col == 21);
  CHECK(!e.at_eof);

  e = expr_error("ipv4(dst=1.2.3)");
  CHECK(e.message == "invalid IPv4 address '1.2.3'");
  CHECK(e.col == 10);
  CHECK(!e.at_eof);

  e = expr_error("ipv6(dst=::gg)");
  CHECK(e.message == "invalid IPv6 address '::gg'");
  CHECK(e.col == 10);

  e = expr_error("eth(dst=02:00:00:00:00:0g)");
  CHECK(e.message == "invalid MAC address '02:00:00:00:00:0g'");
  e = expr_error("02:00:00:00:00");
  CHECK(e.message == "invalid MAC address '02:00:00:00:00'");

  // A '(' left open at the end of its line: reported at the '(', naming the line the parser went on to.
  e = script_error("packet p = ipv4(\nshow p");
  CHECK(e.message == "this '(' is never closed: expected ')', ',' or an argument (name=value or a value) before line 2 "
                     "('show p')");
  CHECK(e.line == 1);
  CHECK(e.col == 16);
  CHECK(!e.at_eof);
  // Closed on a later line: no error; open at the end of the input: at the end, for the REPL to continue.
  CHECK_NOTHROW(script("packet p = ipv4(dst=127.0.0.1,\n  ttl=5)\nshow p"));
  e = script_error("packet p = ipv4(dst=127.0.0.1,\n");
  CHECK(e.message == "expected ')', ',' or an argument (name=value or a value)");
  CHECK(e.at_eof);

  e = script_error("packet = ipv4()");
  CHECK(e.message == "expected a name after 'packet'");
  CHECK(e.line == 1);
  CHECK(e.col == 8);
  CHECK(!e.at_eof);

  e = script_error("param x 1");
  CHECK(e.message == "expected '=' after the name");
  CHECK(e.col == 9);

  e = script_error("let s = \"abc\ndef\"");
  CHECK(e.message == "unterminated string: expected '\"'");
  CHECK(e.line == 1);
  CHECK(e.col == 13);
  CHECK(!e.at_eof);

  e = script_error("let s = \"a\\qb\"");
  CHECK(e.message == R"(unknown escape \q; expected one of \n \t \r \0 \\ \" \xNN)");
  CHECK(e.col == 11);

  e = script_error("let s = \"a\\x4g\"");
  CHECK(e.col == 11);

  e = expr_error("hex\"abc\"");
  CHECK(e.message == "expected a second hex digit (hex\"...\" needs pairs of hex digits)");
  CHECK(e.col == 8);

  e = expr_error("hex\"ab x\"");
  CHECK(e.message == "expected hex digits or '\"' in hex\"...\"");
  CHECK(e.col == 8);

  e = expr_error("base64\"SGVsbG8==x\"");
  CHECK(e.message.rfind("invalid base64", 0) == 0);
  CHECK(e.col == 16);  // at the second '=', which cannot follow 7 characters

  e = expr_error("18446744073709551616");
  CHECK(e.message == "integer too large");
  e = expr_error("0x10000000000000000");
  CHECK(e.message == "integer too large");
  e = expr_error("10m");
  CHECK(e.message == "expected digits or a time unit (ns, us, ms, s) in the number");
  CHECK(e.col == 3);

  e = script_error("show p )");
  CHECK(e.message ==
        "expected a new statement (param, let, packet, layer, option, bind, reply, fragment, show, hexdump, write, send, sr, sniff, lua) or the "
        "end of the input");
  CHECK(e.col == 8);

  e = expr_error("a b");
  CHECK(e.message == "expected '/', '|', '*', '..' or the end of the expression");
  CHECK(e.col == 3);
  e = expr_error("");
  CHECK(e.message == "expected a value");
  CHECK(e.at_eof);

  e = script_error("write a \"x\"");
  CHECK(e.message == "expected ',' or 'to \"file\"'");
  e = script_error("send p count 1 count 2");
  CHECK(e.message == "'count' is given twice");
  CHECK(e.col == 16);
  e = script_error("send p on lo bypass bypass");
  CHECK(e.message == "'bypass' is given twice");
  CHECK(e.col == 21);
  e = script_error("packet p = ipv4()\nsend p on lo bypas");
  CHECK(e.message == "unknown send option 'bypas' (did you mean 'bypass'?); expected count, interval, rate, on, threads or bypass");
  e = script_error("option tcp.options x(a..., b) {}");
  CHECK(e.message == "a variadic parameter (name...) must be the last one");
  e = script_error("layer l { a : u8 enum { x = 1 } enum { y = 2 } }");
  CHECK(e.message == "a field has at most one 'enum { ... }'");
  e = script_error("layer l { a : u8 pseudo = a pseudo = b }");
  CHECK(e.message == "a layer has at most one 'pseudo = ...'");
  e = script_error("layer l {\n  a u8\n}");
  CHECK(e.message == "expected ':' and a type after the field name");
  CHECK(e.line == 2);
  CHECK(e.col == 5);
  e = script_error("layer l \n  x : u8\n}");
  CHECK(e.message == "expected '{' or a \"doc string\" after the layer name");
  e = script_error("bind udp dport = 1 -> x");
  CHECK(e.message == "expected '.FIELD = VALUE -> UPPER' or '-> UPPER' after the layer (e.g. bind udp.dport = 53 -> dns)");
  CHECK(e.col == 10);
  e = script_error("bind udp. = 1 -> x");
  CHECK(e.message == "expected a field name after '.'");
  e = script_error("bind udp.dport 1 -> x");
  CHECK(e.message == "expected '=' after LAYER.FIELD");
  e = script_error("layer l { x : u8 = auto len(this) + }");
  CHECK(e.message == "expected a number, name, call or '(' after the operator");
}

// Statements are separated by nothing, so each ends only before the next
// one's keyword or the end: a word it does not know is an error there.
TEST_CASE("errors: a statement ends only before the next statement", "[grammar][error]") {
  auto e = script_error("packet p = ipv4(dst=127.0.0.1) tcp(dport=80)");
  CHECK(e.message == "expected '/' between layers");
  CHECK(e.line == 1);
  CHECK(e.col == 32);
  CHECK(!e.at_eof);

  e = script_error("packet p = ipv4()\n  # a comment\n  udp()\nshow p");
  CHECK(e.message == "expected '/' between layers");
  CHECK(e.line == 3);
  CHECK(e.col == 3);

  e = script_error("let ports = [1, 2] [3]");
  CHECK(e.message == "expected '/' between layers");
  CHECK(e.col == 20);

  e = script_error("packet p = ipv4()\nsend p count 3 burst 2");
  CHECK(e.message == "unknown send option 'burst'; expected count, interval, rate, on, threads or bypass");
  CHECK(e.line == 2);
  CHECK(e.col == 16);

  e = script_error("send p threads 2 threads 3");
  CHECK(e.message == "'threads' is given twice");
  CHECK(e.col == 18);

  e = script_error("send p threads");
  CHECK(e.message == "expected a number of sender threads after 'threads' (e.g. threads 2)");

  e = script_error("send p intervall 1ms");
  CHECK(e.message == "unknown send option 'intervall' (did you mean 'interval'?); expected count, interval, rate, on, threads or bypass");
  CHECK(e.col == 8);

  e = script_error("show p q");
  CHECK(e.message == "expected ',' between targets, or '/' between layers");
  CHECK(e.col == 8);
  e = script_error("hexdump ipv4() udp()");
  CHECK(e.message == "expected ',' between targets, or '/' between layers");
  CHECK(e.col == 16);

  const std::string next =
      "expected a new statement (param, let, packet, layer, option, bind, reply, fragment, show, hexdump, write, send, sr, sniff, lua) or the end "
      "of the input";
  e = script_error("write p to \"x.pcap\" q");
  CHECK(e.message == next);
  CHECK(e.col == 21);
  e = script_error("bind udp.dport = 9 -> raw 9");
  CHECK(e.message == next);
  CHECK(e.col == 27);
  e = script_error("layer l { a : u8 } b");
  CHECK(e.message == next);
  e = script_error("option tcp.options x { kind : u8 } y");
  CHECK(e.message == next);
  e = script_error("lua { x = 1 } x = 2");
  CHECK(e.message == next);
  CHECK(e.col == 15);
  e = script_error("let a = 1 )");
  CHECK(e.message == next);
  CHECK(e.col == 11);

  // A misspelt keyword where a statement may start.
  e = script_error("packet p = ipv4()\nshwo p");
  CHECK(e.message == "'shwo' is not a statement; did you mean 'show'?");
  CHECK(e.line == 2);
  CHECK(e.col == 1);
  e = script_error("send p\nhexdmp p");
  CHECK(e.message == "'hexdmp' is not a statement; did you mean 'hexdump'?");
  e = script_error("pakcet p = ipv4()");
  CHECK(e.message == "'pakcet' is not a statement; did you mean 'packet'?");

  // A script holds statements only; a bare expression is for the REPL.
  e = script_error("tcp(dport=80)");
  CHECK(e.message == "expected a statement (param, let, packet, layer, option, bind, reply, fragment, show, hexdump, write, send, sr, sniff, lua)");
  CHECK(e.col == 1);
  try {
    pkt::parse_repl_input(pkt::Source::make("<repl>", ")"));
    FAIL("no error");
  } catch (const pkt::ScriptError& x) {
    CHECK(std::string(x.what()) ==
          "expected a statement (param, let, packet, layer, option, bind, reply, fragment, show, hexdump, write, send, sr, sniff, lua) or an "
          "expression");
  }
  try {
    pkt::parse_repl_input(pkt::Source::make("<repl>", "ipv4() tcp()"));
    FAIL("no error");
  } catch (const pkt::ScriptError& x) {
    CHECK(std::string(x.what()) == "expected '/' between layers");
    CHECK(x.pos().col == 8);
  }

  // What works stays working: several statements on a line, and across lines.
  CHECK(script("let x=1 let y=2 show x,y").stmts.size() == 3);
  CHECK(script("packet p = ipv4()\n  / udp() # comment\nsend p count 2\n  interval 1ms\n").stmts.size() == 2);
}

TEST_CASE("format_error", "[grammar][diagnostic]") {
  const auto* src = pkt::Source::make("t.pkt", "show a\n\tpacket p = ipv4(ttl=x y)\n");
  try {
    pkt::parse_script(src);
    FAIL("no error");
  } catch (const pkt::ScriptError& e) {
    CHECK(pkt::format_error(e) ==
          "t.pkt:2:24: error: expected ')', ',' or an argument (name=value or a value)\n"
          "    \tpacket p = ipv4(ttl=x y)\n"
          "    \t                      ^");
    CHECK(pkt::format_error(e, true) ==
          "t.pkt:2:24: \x1b[1;31merror:\x1b[0m expected ')', ',' or an argument (name=value or a value)\n"
          "    \tpacket p = ipv4(ttl=x y)\n"
          "    \t                      \x1b[1;32m^\x1b[0m");
  }
  CHECK(pkt::format_error(pkt::ScriptError(pkt::Pos{src}, "no position")) == "t.pkt: error: no position");
  CHECK(pkt::format_error(pkt::ScriptError(pkt::Pos{src, 0, 1, 1}, "two\nlines")) ==
        "t.pkt:1:1: error: two\nlines\n    show a\n    ^");
  // a multi-byte character counts as one column of the caret line
  const auto* utf = pkt::Source::make("u.pkt", "let s = \"\xc3\xa9\\q\"");
  try {
    pkt::parse_script(utf);
    FAIL("no error");
  } catch (const pkt::ScriptError& e) {
    CHECK(e.pos().col == 12);
    CHECK(pkt::format_error(e).substr(pkt::format_error(e).rfind('\n') + 1) == "              ^");
  }
}

TEST_CASE("nearest_name", "[grammar][diagnostic]") {
  const std::vector<std::string> names{"ipv4", "ipv6", "tcp", "udp", "checksum", "dport"};
  CHECK(pkt::nearest_name("ipv5", names) == "ipv4");
  CHECK(pkt::nearest_name("tpc", names) == "tcp");  // an adjacent swap is one edit
  CHECK(pkt::nearest_name("dts", {"src", "dst"}) == "dst");
  CHECK(pkt::nearest_name("pdu", names) == "");  // two edits from udp, more than max(1, 3/3)
  CHECK(pkt::nearest_name("udpp", names) == "udp");
  CHECK(pkt::nearest_name("chekcsum", names) == "checksum");
  CHECK(pkt::nearest_name("dprt", names) == "dport");
  CHECK(pkt::nearest_name("zzzz", names) == "");
  CHECK(pkt::nearest_name("x", {}) == "");
}

TEST_CASE("sources stay alive", "[grammar][diagnostic]") {
  const auto* a = pkt::Source::make("a", "1");
  for (int i = 0; i < 1000; ++i) pkt::Source::make("n", "x");
  CHECK(a->name == "a");
  CHECK(a->text == "1");
}

TEST_CASE("absurd nesting is an error, not a stack overflow", "[grammar][errors]") {
  for (const std::string open : {"(", "["}) {
    std::string text = "packet p = " + std::string(100000, open[0]) + "1";
    try {
      pkt::parse_script(pkt::Source::make("deep.pkt", text));
      FAIL("no error");
    } catch (const pkt::ScriptError& e) {
      CHECK(std::string(e.what()) == "values nested more than 200 levels deep");
      // The long line is shown as a window around the caret.
      std::string shown = pkt::format_error(e);
      CHECK(shown.size() < 600);
      CHECK(shown.find("...") != std::string::npos);
    }
  }
  // 150 levels are fine.
  auto ok = pkt::parse_script(pkt::Source::make("ok.pkt", "packet p = " + std::string(150, '(') + "ipv4()" + std::string(150, ')')));
  CHECK(ok.stmts.size() == 1);
}

TEST_CASE("option words in call parentheses: `on lo`, `count 3`, only before a value") {
  CHECK(show_expr("sniff(on lo, filter \"icmp\", count 1, timeout 2s)") ==
        "sniff(on lo, filter \"icmp\", count 1, timeout 2000000000ns)");
  CHECK(show_expr("sniff(on veth-a.1, count n)") == "sniff(on veth-a.1, count n)");
  CHECK(show_expr("sniff(on \"eth0\")") == "sniff(on \"eth0\")");
  // A word with no value after it is a plain name, and `word=` a named argument.
  CHECK(show_expr("f(count, on)") == "f(count, on)");
  CHECK(show_expr("f(count=3, on = 1)") == "f(count=3, on=1)");
  CHECK(show_expr("f(count / x)") == "f((count / x))");
  // Any other word before a value is not an argument.
  CHECK_THROWS_WITH(expr("sniff(on lo, cuont 3)"), Catch::Contains("expected ')', ',' or an argument"));
  CHECK_THROWS_WITH(expr("sniff(count ])"), Catch::Contains("expected a value after the option word"));
  CHECK_THROWS_WITH(expr("sniff(on 3)"), Catch::Contains("expected an interface after 'on'"));
}

TEST_CASE("the sniff statement: on, filter, count, timeout in any order, each once") {
  auto s = script("sniff\nsniff timeout 2s count 3 filter \"udp port 9\" on lo\nshow p");
  REQUIRE(s.stmts.size() == 3);
  CHECK(s.stmts[0].kind == pkt::ast::Stmt::Kind::Sniff);
  CHECK(!s.stmts[0].count);
  CHECK(s.stmts[1].kind == pkt::ast::Stmt::Kind::Sniff);
  CHECK(s.stmts[1].iface == "lo");
  CHECK(show(s.stmts[1].filter) == "\"udp port 9\"");
  CHECK(show(s.stmts[1].count) == "3");
  CHECK(show(s.stmts[1].timeout) == "2000000000ns");
  CHECK_THROWS_WITH(script("sniff count 1 count 2"), Catch::Contains("'count' is given twice"));
  CHECK_THROWS_WITH(script("sniff on lo filtr \"udp\""), Catch::Contains("unknown sniff option 'filtr' (did you mean 'filter'?)"));
  CHECK_THROWS_WITH(script("sniff filter"), Catch::Contains("expected a \"BPF filter\" string after 'filter'"));
}

TEST_CASE("ast: fragment declarations, and fragment() as a call", "[grammar][ast]") {
  auto s = script("fragment ipv6 with ipv6_frag { offset = offset; more = m; id = id }\n"
                  "fragment ipv4 { offset = frag more = flags.MF }\n"
                  "packet f = fragment(p, 8)\n");
  REQUIRE(s.stmts.size() == 3);
  REQUIRE(s.stmts[0].kind == Stmt::Kind::Fragment);
  const auto& a = *s.stmts[0].fragment;
  CHECK(a.layer == "ipv6");
  CHECK(a.header == "ipv6_frag");
  REQUIRE(a.items.size() == 3);
  CHECK((a.items[1].key == "more" && a.items[1].field == "m" && a.items[1].flag.empty()));
  CHECK(a.items[2].field_pos.col == 64);
  const auto& b = *s.stmts[1].fragment;
  CHECK((b.header.empty() && b.items.size() == 2 && b.items[1].field == "flags" && b.items[1].flag == "MF"));
  CHECK(s.stmts[2].kind == Stmt::Kind::Packet);
  // In the REPL, a bare fragment(...) is an expression, not the statement.
  CHECK(pkt::parse_repl_input(pkt::Source::make("<repl>", "fragment(p, 8)")).stmts.at(0).kind == Stmt::Kind::Expr);
  auto err = [](const std::string& text) { return script_error(text).message; };
  CHECK(err("fragment ipv4 offset") == "expected '{' and how the layer fragments (e.g. { offset = frag; more = flags.MF })");
  CHECK(err("fragment ipv4 { offset frag }") == "expected '=' and a field name");
  CHECK(err("fragment ipv4 { offset = frag; more = flags. }") == "expected a flag name after '.'");
  CHECK(err("fragment ipv4 with { }") == "expected the name of the header to insert after 'with'");
}
