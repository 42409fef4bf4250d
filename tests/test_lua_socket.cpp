// Lua's tcp and udp on real loopback sockets (127.0.0.1 and ::1 only).
// Each test runs a chunk of Lua that asserts what it expects; a failed
// assert comes back as the chunk's error message.
#include <catch2/catch.hpp>

#include <lua.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "net/scope.hpp"
#include "net/send.hpp"
#include "run/lua_socket.hpp"

namespace {

struct Lua {
  pkt::Scope scope;
  lua_State* L;

  explicit Lua(const std::string& scope_text = "", bool numeric_hosts_only = false)
      : scope(pkt::Scope::parse(scope_text)), L(luaL_newstate()) {
    luaL_openlibs(L);
    lua_newtable(L);
    pkt::open_socket_lib(L, &scope, numeric_hosts_only);
    lua_getfield(L, -1, "tcp");
    lua_setglobal(L, "tcp");
    lua_getfield(L, -1, "udp");
    lua_setglobal(L, "udp");
    lua_setglobal(L, "pkt");
    // Reads exactly n bytes from a connection (TCP may split writes).
    run(R"lua(
      function recv_exact(c, n, timeout)
        local got = ""
        while #got < n do
          local d, err = c:recv(n - #got, timeout or 2)
          if not d then return nil, err end
          if d == "" then return got end
          got = got .. d
        end
        return got
      end)lua");
  }
  ~Lua() { lua_close(L); }

  // "" when the chunk ran, else its error message.
  std::string run(const std::string& code) {
    if (luaL_loadbuffer(L, code.data(), code.size(), "=test") != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
      std::string e = lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error object is not a string)";
      lua_pop(L, 1);
      return e;
    }
    return "";
  }
};

}  // namespace

TEST_CASE("tcp echo over IPv4", "[lua][tcp]") {
  Lua lua;
  CHECK(lua.run(R"lua(
    local srv <close> = assert(tcp.listen(0, "127.0.0.1"))
    local port = srv:port()
    assert(port > 0)
    assert(tostring(srv) == "tcp server 127.0.0.1:" .. port, tostring(srv))
    local c <close> = assert(tcp.connect("127.0.0.1", port, {timeout = 2}))
    local s <close>, host, pport = srv:accept(2)
    assert(s, host)
    assert(host == "127.0.0.1", host)
    assert(math.type(pport) == "integer" and pport > 0)
    assert(c:sendall("hello\0world") == true)
    assert(recv_exact(s, 11) == "hello\0world")
    assert(s:send("pong") == 4)
    assert(recv_exact(c, 4) == "pong")
    local h, p = c:getpeername()
    assert(h == "127.0.0.1" and p == port)
    local lh, lp = c:getsockname()
    assert(lh == "127.0.0.1" and lp == pport)
    assert(tostring(c) == "tcp connection 127.0.0.1:" .. pport .. " -> 127.0.0.1:" .. port, tostring(c))
    s:close()
    assert(c:recv(10, 2) == "", "end of stream is the empty string")
    assert(tostring(s) == "tcp connection (closed)")
  )lua") == "");
}

TEST_CASE("tcp echo over IPv6", "[lua][tcp]") {
  Lua lua;
  CHECK(lua.run(R"lua(
    local srv <close> = assert(tcp.listen(0, "::1"))
    local port = srv:port()
    assert(tostring(srv) == "tcp server [::1]:" .. port, tostring(srv))
    local c <close> = assert(tcp.connect("::1", port))
    local s <close>, host = srv:accept(2)
    assert(host == "::1", host)
    local big = string.rep("0123456789", 100000)  -- 1 MB: several writes and reads
    assert(c:sendall(big))
    assert(recv_exact(s, #big) == big)
    assert(select(1, c:getpeername()) == "::1")
  )lua") == "");
}

TEST_CASE("tcp connect to a name tries each address", "[lua][tcp]") {
  Lua lua;
  // localhost may resolve to ::1 first; only 127.0.0.1 listens.
  CHECK(lua.run(R"lua(
    local srv <close> = assert(tcp.listen(0, "127.0.0.1"))
    local c <close> = assert(tcp.connect("localhost", srv:port(), {timeout = 2}))
    local s <close> = assert(srv:accept(2))
    assert(c:getpeername() == "127.0.0.1")
  )lua") == "");
}

TEST_CASE("udp sendto and recvfrom, IPv4 and IPv6", "[lua][udp]") {
  Lua lua;
  CHECK(lua.run(R"lua(
    local a <close> = assert(udp.open{host = "127.0.0.1", port = 0})
    local b <close> = assert(udp.open())
    assert(b:sendto("ping\0", "127.0.0.1", a:port()) == 5)
    local d, host, port = a:recvfrom(100, 2)
    assert(d == "ping\0", d)
    assert(host == "127.0.0.1" and port == b:port(), host)
    assert(a:sendto("pong", host, port) == 4)
    assert(b:recvfrom(100, 2) == "pong")

    -- IPv6; an unused default socket switches family for its first destination.
    local a6 <close> = assert(udp.open{host = "::1"})
    local b6 <close> = udp.open()
    assert(b6:sendto("six", "::1", a6:port()) == 3)
    local d6, h6, p6 = a6:recvfrom(10, 2)
    assert(d6 == "six" and h6 == "::1" and p6 == b6:port(), tostring(h6))
    assert(tostring(a6) == "udp socket [::1]:" .. a6:port(), tostring(a6))

    -- connect, send, recv
    local c <close> = udp.open()
    assert(c:connect("127.0.0.1", a:port()) == true)
    assert(c:send("via connect") == 11)
    local got, from = a:recvfrom(100, 2)
    assert(got == "via connect" and from == "127.0.0.1")
    assert(a:sendto("back", "127.0.0.1", c:port()) == 4)
    assert(c:recv(100, 2) == "back")
    assert(select(2, c:getpeername()) == a:port())
    -- recv n returns at most n bytes of the datagram
    assert(a:sendto("truncated", "127.0.0.1", c:port()))
    assert(c:recv(5, 2) == "trunc")
  )lua") == "");
}

TEST_CASE("timeouts return nil, \"timeout\"", "[lua][timeout]") {
  Lua lua;
  auto t0 = std::chrono::steady_clock::now();
  CHECK(lua.run(R"lua(
    local srv <close> = assert(tcp.listen(0, "127.0.0.1"))
    local none, err = srv:accept(0.05)
    assert(none == nil and err == "timeout", err)
    local c <close> = assert(tcp.connect("127.0.0.1", srv:port(), {timeout = 0.1}))
    local s <close> = assert(srv:accept(1))
    local d, e = c:recv(10)          -- the connection's timeout
    assert(d == nil and e == "timeout", e)
    d, e = s:recv(10, 0.05)          -- an explicit one
    assert(d == nil and e == "timeout", e)
    c:settimeout(nil)
    s:settimeout(0.05)
    d, e = s:recv(10)
    assert(d == nil and e == "timeout", e)
    local u <close> = assert(udp.open{host = "127.0.0.1", timeout = 0.05})
    d, e = u:recvfrom(10)
    assert(d == nil and e == "timeout", e)
    d, e = u:recv(10, 0)
    assert(d == nil and e == "timeout", e)
  )lua") == "");
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= std::chrono::milliseconds(250));
  CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("network failures return nil and a message", "[lua][errors]") {
  Lua lua;
  CHECK(lua.run(R"lua(
    local s = assert(tcp.listen(0, "127.0.0.1"))
    local port = s:port()
    s:close()
    local c, err = tcp.connect("127.0.0.1", port)
    assert(c == nil and err == "connection refused: 127.0.0.1:" .. port, err)
    c, err = tcp.connect("::1", port)
    assert(c == nil and err == "connection refused: [::1]:" .. port, err)

    local l1 <close> = assert(tcp.listen(0, "127.0.0.1"))
    local l2, e2 = tcp.listen(l1:port(), "127.0.0.1")
    assert(l2 == nil and e2 == "address in use: 127.0.0.1:" .. l1:port(), e2)
    local u1 <close> = assert(udp.open{host = "127.0.0.1"})
    local u2, e3 = udp.open{host = "127.0.0.1", port = u1:port()}
    assert(u2 == nil and e3 == "address in use: 127.0.0.1:" .. u1:port(), e3)

    -- A connected UDP socket learns of the ICMP port unreachable.
    local u <close> = udp.open()
    assert(u:connect("127.0.0.1", port))
    assert(u:send("x"))
    local d, e4 = u:recv(10, 1)
    assert(d == nil and e4 == "connection refused", e4)

    -- An IPv4-bound socket cannot reach an IPv6 host.
    local v4 <close> = assert(udp.open{host = "127.0.0.1"})
    local n, e5 = v4:sendto("x", "::1", 9)
    assert(n == nil and e5:find("from this IPv4 socket", 1, true), e5)
  )lua") == "");
}

TEST_CASE("connect and sendto outside the scope return nil and the refusal", "[lua][scope]") {
  Lua lua("127.0.0.0/8");
  CHECK(lua.run(R"lua(
    local c, err = tcp.connect("10.3.0.2", 80)
    assert(c == nil, "must not connect")
    assert(err == "connect to 10.3.0.2 refused: outside the scope 127.0.0.0/8 (set by --scope or PKT_SCOPE)", err)
    local u <close> = udp.open()
    local n, e2 = u:sendto("x", "::1", 9)
    assert(n == nil and e2 == "send to ::1 refused: outside the scope 127.0.0.0/8 (set by --scope or PKT_SCOPE)", e2)
    local ok, e3 = u:connect("192.0.2.1", 9)
    assert(ok == nil and e3:find("^connect to 192.0.2.1 refused"), e3)
    -- in scope: works
    local srv <close> = assert(tcp.listen(0, "127.0.0.1"))
    local c2 <close> = assert(tcp.connect("127.0.0.1", srv:port()))
    -- ::ffff:127.0.0.1 is 127.0.0.1
    local v6 <close> = assert(tcp.listen(0, "::"))
    local c3 <close> = assert(tcp.connect("::ffff:127.0.0.1", v6:port()))
    local s3 <close>, host = assert(v6:accept(2))
    assert(host == "127.0.0.1", host)
  )lua") == "");
}

TEST_CASE("wrong arguments raise", "[lua][errors]") {
  Lua lua;
  CHECK(lua.run(R"lua(
    -- f calls the function by name, so the message can name it.
    local function raises(pattern, f)
      local ok, err = pcall(f)
      assert(not ok, "expected an error matching " .. pattern)
      assert(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
    end
    raises("bad argument #1 to 'connect' (string expected, got table)", function() return tcp.connect({}, 80) end)
    raises("bad argument #2 to 'connect' (number expected, got string)", function() return tcp.connect("127.0.0.1", "x") end)
    raises("bad argument #2 to 'connect' (port must be 1..65535)", function() return tcp.connect("127.0.0.1", 70000) end)
    raises("bad argument #2 to 'connect' (port must be 1..65535)", function() return tcp.connect("127.0.0.1", 0) end)
    raises("bad argument #3 to 'connect' (unknown option 'timout' (expected timeout))",
           function() return tcp.connect("127.0.0.1", 9, {timout = 1}) end)
    raises("bad argument #3 to 'connect' (timeout must be a number of seconds >= 0)",
           function() return tcp.connect("127.0.0.1", 9, {timeout = -1}) end)
    raises("bad argument #1 to 'listen' (port must be 0..65535)", function() return tcp.listen(-1) end)
    raises("bad argument #1 to 'open' (unknown option 'prot' (expected host, port, timeout))", function() return udp.open{prot = 5} end)
    raises("bad argument #1 to 'open' (table expected, got number)", function() return udp.open(5) end)

    local srv <close> = assert(tcp.listen(0, "127.0.0.1"))
    local c <close> = assert(tcp.connect("127.0.0.1", srv:port()))
    raises("bad argument #1 to 'recv' (the number of bytes must be positive)", function() return c:recv(0) end)
    raises("bad argument #2 to 'recv' (timeout must be a number of seconds >= 0)", function() return c:recv(1, -2) end)
    raises("tcp connection expected, got no value", function() return c.recv() end)
    raises("tcp connection expected, got tcp server", function() return c.recv(srv, 1) end)
    raises("bad argument #1 to 'send' (string expected, got table)", function() return c:send({}) end)
    local u <close> = udp.open()
    raises("bad argument #3 to 'sendto' (port must be 1..65535)", function() return u:sendto("x", "127.0.0.1", 0) end)
    c:close()
    raises("attempt to use a closed tcp connection", function() return c:recv(1) end)
    raises("attempt to use a closed tcp connection", function() return c:send("x") end)
    assert(c:close() == true, "closing twice is fine")
  )lua") == "");
}

TEST_CASE("<close> and __gc release the socket", "[lua][close]") {
  Lua lua;
  CHECK(lua.run(R"lua(
    local ref, port
    do
      local s <close> = assert(udp.open{host = "127.0.0.1"})
      ref, port = s, s:port()
    end
    assert(tostring(ref) == "udp socket (closed)", tostring(ref))
    -- the port is free again
    local again <close> = assert(udp.open{host = "127.0.0.1", port = port})

    local tport
    do
      local srv <close> = assert(tcp.listen(0, "127.0.0.1"))
      tport = srv:port()
    end
    local c, err = tcp.connect("127.0.0.1", tport)
    assert(c == nil and err:find("^connection refused"), err)

    -- garbage collection closes too
    local gport
    do
      local g = assert(udp.open{host = "127.0.0.1"})
      gport = g:port()
    end
    collectgarbage()
    collectgarbage()
    assert(udp.open{host = "127.0.0.1", port = gport})
  )lua") == "");
}

TEST_CASE("Ctrl-C interrupts a blocking recv with a Lua error", "[lua][interrupt]") {
  pkt::install_interrupt_handler();
  pkt::clear_interrupt();
  Lua lua;
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    kill(getpid(), SIGINT);
  });
  auto t0 = std::chrono::steady_clock::now();
  std::string err = lua.run(R"lua(
    local u <close> = assert(udp.open{host = "127.0.0.1"})
    u:recvfrom(10)   -- no timeout: only Ctrl-C ends it
  )lua");
  auto took = std::chrono::steady_clock::now() - t0;
  killer.join();
  // Raised with luaL_error: the position of the Lua line that was waiting.
  CHECK(err == "test:3: interrupted");
  CHECK(took < std::chrono::seconds(2));
  CHECK(pkt::interrupted());
  pkt::clear_interrupt();
}

// The library holds its own --sandbox flag (a bare lua_State has no
// LuaEngine context: reading one was UB, found by the sanitizer build).
TEST_CASE("opened for --sandbox, the library refuses host names and takes addresses", "[lua][sandbox]") {
  Lua lua("127.0.0.0/8,::1/128", true);
  CHECK(lua.run(R"lua(
    for _, call in ipairs{function() return tcp.connect("pkt-test.invalid", 9) end,
                          function() return tcp.listen(0, "pkt-test.invalid") end,
                          function() return udp.open{host = "pkt-test.invalid", port = 0} end} do
      local ok, err = pcall(call)
      assert(not ok and err:find("refused: --sandbox resolves no host names", 1, true), tostring(err))
    end
    local srv <close> = assert(tcp.listen(0, "127.0.0.1"))
    local c <close> = assert(tcp.connect("127.0.0.1", srv:port(), {timeout = 2}))
    local u <close> = assert(udp.open{host = "::1", port = 0})
  )lua") == "");
  Lua open("127.0.0.0/8,::1/128");
  CHECK(open.run(R"lua(
    local ok, err = pcall(tcp.listen, 0, "pkt-test.invalid")
    assert(not (type(err) == "string" and err:find("--sandbox", 1, true)), tostring(err))
  )lua") == "");
}
