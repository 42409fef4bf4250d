#include "socket_inet.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "scope.hpp"
#include "send.hpp"

namespace pkt::net {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kSliceMs = 50;  // the longest a Ctrl-C goes unnoticed in a wait
constexpr std::size_t kMaxRead = 1 << 20;

// A point in time to give up at; `none` waits without limit.
struct Deadline {
  bool none = true;
  Clock::time_point at;
  static Deadline after(double seconds) {
    Deadline d;
    if (seconds < 0 || !std::isfinite(seconds)) return d;
    d.none = false;
    d.at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    return d;
  }
};

// Waits until fd is ready for `events`: true when ready, false on timeout.
// Throws Interrupted on Ctrl-C.
bool wait_fd(int fd, short events, const Deadline& d) {
  while (true) {
    if (interrupted()) throw Interrupted();
    int ms = kSliceMs;
    if (!d.none) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(d.at - Clock::now()).count();
      if (left < 0) left = 0;
      ms = static_cast<int>(std::min<long long>(left, kSliceMs));
    }
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) throw NetError(std::string("poll failed: ") + std::strerror(errno));
    if (interrupted()) throw Interrupted();
    if (rc == 0 && !d.none && Clock::now() >= d.at) return false;
  }
}

std::string reason(int err) {
  switch (err) {
    case ECONNREFUSED: return "connection refused";
    case EADDRINUSE: return "address in use";
    case ECONNRESET: return "connection reset";
    case EPIPE: return "connection closed";
    case ETIMEDOUT: return "connection timed out";
    case EHOSTUNREACH: return "host unreachable";
    case ENETUNREACH: return "network unreachable";
    case EADDRNOTAVAIL: return "address not available";
    case EACCES: return "permission denied";
    case EPERM: return "operation not permitted";
    case EAFNOSUPPORT: return "address family not supported";
    case EMSGSIZE: return "message too long";
    case ENOTCONN: return "not connected";
    case EDESTADDRREQ: return "not connected";
    default: {
      std::string s = std::strerror(err);
      if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
      return s;
    }
  }
}

[[noreturn]] void fail(int err, const std::string& where = "") {
  throw NetError(where.empty() ? reason(err) : reason(err) + ": " + where);
}

int new_socket(int family, int type) {
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(errno);
  return fd;
}

void require_open(const Socket& s) {
  if (!s.is_open()) throw std::logic_error("attempt to use a closed socket");
}

std::string host_port(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

// The address as the scope sees it.
bool in_scope(const Scope* scope, const Endpoint& e) {
  if (!scope) return true;
  if (e.family() == AF_INET)
    return scope->allows(AF_INET, reinterpret_cast<const std::uint8_t*>(
                                      &reinterpret_cast<const sockaddr_in*>(&e.addr)->sin_addr));
  return scope->allows(AF_INET6, reinterpret_cast<const std::uint8_t*>(
                                     &reinterpret_cast<const sockaddr_in6*>(&e.addr)->sin6_addr));
}

// "example.com (93.184.216.34)" for a name, just the address for a numeric host.
std::string shown(const std::string& host, const Endpoint& e) {
  std::string a = e.host();
  return a == host ? a : host + " (" + a + ")";
}

// An IPv4 endpoint as ::ffff:a.b.c.d, for an IPv6 socket.
Endpoint mapped(const Endpoint& e) {
  Endpoint m;
  auto* in = reinterpret_cast<const sockaddr_in*>(&e.addr);
  auto* out = reinterpret_cast<sockaddr_in6*>(&m.addr);
  out->sin6_family = AF_INET6;
  out->sin6_port = in->sin_port;
  out->sin6_addr.s6_addr[10] = 0xff;
  out->sin6_addr.s6_addr[11] = 0xff;
  std::memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
  m.len = sizeof(sockaddr_in6);
  return m;
}

// The destination a datagram socket sends to: in scope, of the socket's
// family (a fresh socket switches family to reach an IPv6-only host).
Endpoint udp_destination(Socket& s, const std::string& host, int port, const Scope* scope, const char* what) {
  auto eps = resolve(host, port, SOCK_DGRAM);
  std::vector<Endpoint> ok;
  for (auto& e : eps)
    if (in_scope(scope, e)) ok.push_back(e);
  if (ok.empty()) throw NetError(scope->refusal(what, shown(host, eps.front())));
  for (auto& e : ok) {
    if (e.family() == s.family()) return e;
    if (s.family() == AF_INET6 && e.family() == AF_INET) return mapped(e);
  }
  // Only IPv6 addresses, and an IPv4 socket.
  if (s.fresh) {
    s = Socket(new_socket(AF_INET6, SOCK_DGRAM), AF_INET6, SOCK_DGRAM);
    s.fresh = true;
    return ok.front();
  }
  throw NetError("cannot reach " + shown(host, ok.front()) + " (IPv6) from this IPv4 socket (" +
                 local_endpoint(s).text() + "); open it with udp.open{host=\"::\"}");
}

}  // namespace

std::string Endpoint::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, buf, sizeof buf);
  } else if (family() == AF_INET6) {
    auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], buf, sizeof buf);
    else inet_ntop(AF_INET6, &a6->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

int Endpoint::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

std::string Endpoint::text() const { return host_port(host(), port()); }

std::vector<Endpoint> resolve(const std::string& host, int port, int socktype, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) fail(errno, host);
    if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_FAIL || rc == EAI_AGAIN)
      throw NetError("host not found: " + host);
    throw NetError(std::string(gai_strerror(rc)) + ": " + host);
  }
  std::vector<Endpoint> out;
  for (addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    Endpoint e;
    std::memcpy(&e.addr, a->ai_addr, a->ai_addrlen);
    e.len = a->ai_addrlen;
    out.push_back(e);
  }
  freeaddrinfo(res);
  if (out.empty()) throw NetError("host not found: " + host);
  return out;
}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    family_ = o.family_;
    type_ = o.type_;
    fresh = o.fresh;
    o.fd_ = -1;
  }
  return *this;
}

void Socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Socket tcp_connect(const std::string& host, int port, double timeout, const Scope* scope) {
  auto eps = resolve(host, port, SOCK_STREAM);
  std::vector<Endpoint> ok;
  for (auto& e : eps)
    if (in_scope(scope, e)) ok.push_back(e);
  if (ok.empty()) throw NetError(scope->refusal("connect", shown(host, eps.front())));
  Deadline d = Deadline::after(timeout);
  int last_err = 0;
  std::string last_where;
  for (auto& e : ok) {
    Socket s(new_socket(e.family(), SOCK_STREAM), e.family(), SOCK_STREAM);
    int rc = connect(s.fd(), reinterpret_cast<const sockaddr*>(&e.addr), e.len);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS || err == EINTR) {
      if (!wait_fd(s.fd(), POLLOUT, d)) throw NetError("timeout");
      socklen_t len = sizeof err;
      getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err == 0) {
      int one = 1;
      setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return s;
    }
    last_err = err;
    last_where = e.text();
  }
  fail(last_err, last_where);
}

Socket tcp_listen(const std::string& host, int port, int backlog) {
  auto eps = resolve(host, port, SOCK_STREAM, true);
  const Endpoint& e = eps.front();
  Socket s(new_socket(e.family(), SOCK_STREAM), e.family(), SOCK_STREAM);
  int one = 1;
  setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s.fd(), reinterpret_cast<const sockaddr*>(&e.addr), e.len) != 0) fail(errno, e.text());
  if (listen(s.fd(), backlog) != 0) fail(errno, e.text());
  return s;
}

Socket tcp_accept(const Socket& server, double timeout, Endpoint* peer) {
  require_open(server);
  Deadline d = Deadline::after(timeout);
  while (true) {
    Endpoint e;
    e.len = sizeof e.addr;
    int fd = accept4(server.fd(), reinterpret_cast<sockaddr*>(&e.addr), &e.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (peer) *peer = e;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return Socket(fd, e.family(), SOCK_STREAM);
    }
    int err = errno;
    // A connection that went away before we accepted it: wait for the next.
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED) {
      if (!wait_fd(server.fd(), POLLIN, d)) throw NetError("timeout");
      continue;
    }
    fail(err);
  }
}

std::size_t sock_send(const Socket& s, const char* data, std::size_t n, double timeout) {
  require_open(s);
  Deadline d = Deadline::after(timeout);
  while (true) {
    ssize_t w = send(s.fd(), data, n, MSG_NOSIGNAL);
    if (w >= 0) return static_cast<std::size_t>(w);
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
      if (!wait_fd(s.fd(), POLLOUT, d)) throw NetError("timeout");
      continue;
    }
    fail(err);
  }
}

void sock_send_all(const Socket& s, const char* data, std::size_t n, double timeout, std::size_t& sent) {
  sent = 0;
  Deadline d = Deadline::after(timeout);
  while (sent < n) {
    double left = -1;
    if (!d.none) {
      left = std::chrono::duration<double>(d.at - Clock::now()).count();
      if (left < 0) left = 0;
    }
    sent += sock_send(s, data + sent, n - sent, left);
  }
}

namespace {
// Waits (up to the deadline, interruptibly) for data and reads at most `cap`
// bytes; the sender's address goes to `from` when given. Stream and datagram
// reads share it.
std::string receive(const Socket& s, std::size_t cap, double timeout, Endpoint* from) {
  require_open(s);
  Deadline d = Deadline::after(timeout);
  std::string buf(cap, '\0');
  while (true) {
    Endpoint e;
    e.len = sizeof e.addr;
    ssize_t r = recvfrom(s.fd(), buf.data(), buf.size(), 0, from ? reinterpret_cast<sockaddr*>(&e.addr) : nullptr,
                         from ? &e.len : nullptr);
    if (r >= 0) {
      buf.resize(static_cast<std::size_t>(r));
      if (from) *from = e;
      return buf;
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
      if (!wait_fd(s.fd(), POLLIN, d)) throw NetError("timeout");
      continue;
    }
    fail(err);
  }
}
}  // namespace

std::string sock_recv(const Socket& s, std::size_t n, double timeout) {
  return receive(s, std::min(n, kMaxRead), timeout, nullptr);
}

Socket udp_open(int family) {
  Socket s(new_socket(family, SOCK_DGRAM), family, SOCK_DGRAM);
  s.fresh = true;
  return s;
}

Socket udp_bind(const std::string& host, int port) {
  auto eps = resolve(host, port, SOCK_DGRAM, true);
  const Endpoint& e = eps.front();
  Socket s(new_socket(e.family(), SOCK_DGRAM), e.family(), SOCK_DGRAM);
  int one = 1;
  setsockopt(s.fd(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  if (bind(s.fd(), reinterpret_cast<const sockaddr*>(&e.addr), e.len) != 0) fail(errno, e.text());
  return s;
}

std::size_t udp_sendto(Socket& s, const char* data, std::size_t n, const std::string& host, int port,
                       const Scope* scope) {
  require_open(s);
  Endpoint to = udp_destination(s, host, port, scope, "send");
  while (true) {
    ssize_t w = sendto(s.fd(), data, n, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to.addr), to.len);
    if (w >= 0) {
      s.fresh = false;
      if (static_cast<std::size_t>(w) != n)
        throw NetError("short write: " + std::to_string(w) + " of " + std::to_string(n) + " bytes to " + to.text());
      return n;
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
      wait_fd(s.fd(), POLLOUT, Deadline{});
      continue;
    }
    fail(err, to.text());
  }
}

std::string udp_recvfrom(const Socket& s, std::size_t n, double timeout, Endpoint* from) {
  Endpoint e;
  return receive(s, std::min<std::size_t>(n, 65536), timeout, from ? from : &e);
}

void udp_connect(Socket& s, const std::string& host, int port, const Scope* scope) {
  require_open(s);
  Endpoint to = udp_destination(s, host, port, scope, "connect");
  if (connect(s.fd(), reinterpret_cast<const sockaddr*>(&to.addr), to.len) != 0) fail(errno, to.text());
  s.fresh = false;
}

Endpoint local_endpoint(const Socket& s) {
  require_open(s);
  Endpoint e;
  e.len = sizeof e.addr;
  if (getsockname(s.fd(), reinterpret_cast<sockaddr*>(&e.addr), &e.len) != 0) e.len = 0;
  return e;
}

Endpoint peer_endpoint(const Socket& s) {
  require_open(s);
  Endpoint e;
  e.len = sizeof e.addr;
  if (getpeername(s.fd(), reinterpret_cast<sockaddr*>(&e.addr), &e.len) != 0) e = Endpoint{};
  return e;
}

}  // namespace pkt::net
